#!/bin/sh
# softhsm-setup.sh STATE_DIR [LABEL]
#
# Makes a SoftHSM2 token for development and tests, without root:
#   STATE_DIR/softhsm2.conf     SoftHSM configuration (tokens in
#                               STATE_DIR/tokens)
#   STATE_DIR/so.pin            random SO PIN, mode 0600
#   STATE_DIR/user.pin          random user PIN, mode 0600
# and prints the PKCS#11 URI to give twokey (module-path and
# pin-source=file:STATE_DIR/user.pin). The PINs are never printed.
#
# Idempotent: an existing token with LABEL (default "twokey") is reused, and
# existing PIN files are reused for new tokens in the same STATE_DIR.
#
# Every program that opens the token, the twokey-signer included, must see
# SOFTHSM2_CONF=STATE_DIR/softhsm2.conf in its environment; the signer
# inherits it from the process that starts it. It is a path, not a secret.
#
# Limitation: softhsm2-util takes PINs only on its command line or from a
# terminal, so while it initialises a token (a few milliseconds) the PINs
# are visible in the process list to local users. Use this for development
# and test tokens only; initialise production tokens with the vendor's
# tool (deploy/yubihsm2.md).
set -eu

usage() {
	echo "usage: $0 STATE_DIR [LABEL]" >&2
	exit 2
}

[ $# -ge 1 ] && [ $# -le 2 ] || usage
state=$1
label=${2:-twokey}
case $label in
"" | *[!A-Za-z0-9._-]*)
	echo "softhsm-setup: label must be [A-Za-z0-9._-]" >&2
	exit 2 ;;
esac
[ ${#label} -le 32 ] || { echo "softhsm-setup: label too long" >&2; exit 2; }

module=${SOFTHSM2_MODULE:-}
if [ -z "$module" ]; then
	for m in /usr/lib/softhsm/libsofthsm2.so \
	    /usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so \
	    /usr/local/lib/softhsm/libsofthsm2.so; do
		if [ -f "$m" ]; then module=$m; break; fi
	done
fi
[ -n "$module" ] || { echo "softhsm-setup: libsofthsm2.so not found" >&2; exit 1; }

umask 077
mkdir -p "$state/tokens"
state=$(cd "$state" && pwd)
conf=$state/softhsm2.conf
if [ ! -f "$conf" ]; then
	cat >"$conf" <<CONF
directories.tokendir = $state/tokens
objectstore.backend = file
log.level = ERROR
slots.removable = false
CONF
fi
SOFTHSM2_CONF=$conf
export SOFTHSM2_CONF

# 32 lowercase hex digits from the kernel's CSPRNG.
random_pin() {
	od -An -tx1 -N16 /dev/urandom | tr -d ' \n'
}

for f in so.pin user.pin; do
	if [ ! -s "$state/$f" ]; then
		random_pin >"$state/$f.tmp"
		chmod 0600 "$state/$f.tmp"
		mv "$state/$f.tmp" "$state/$f"
	fi
	chmod 0600 "$state/$f"
done

# A token counts as present only when it is initialised with this label.
if ! softhsm2-util --show-slots 2>/dev/null | awk -v l="$label" '
    /^ *Initialized: *yes/ { init = 1 }
    /^Slot / { init = 0 }
    /^ *Label:/ { sub(/^ *Label: */, ""); sub(/ *$/, "");
	if (init && $0 == l) found = 1 }
    END { exit !found }'; then
	softhsm2-util --init-token --free --label "$label" \
	    --so-pin "$(cat "$state/so.pin")" \
	    --pin "$(cat "$state/user.pin")" >/dev/null
fi

# Percent-encode everything but unreserved characters and '/'.
pct() {
	printf '%s' "$1" | od -An -tx1 -v | tr -s ' \n' '  ' |
	    awk '{ for (i = 1; i <= NF; i++) {
		c = $i; v = 0
		for (k = 1; k <= 2; k++)
			v = v * 16 + index("0123456789abcdef",
			    substr(c, k, 1)) - 1
		if ((v >= 48 && v <= 57) || (v >= 65 && v <= 90) ||
		    (v >= 97 && v <= 122) || v == 45 || v == 46 ||
		    v == 95 || v == 126 || v == 47)
			printf "%c", v
		else
			printf "%%%s", toupper(c)
	} }'
}

printf 'pkcs11:token=%s?module-path=%s&pin-source=file:%s\n' \
    "$(pct "$label")" "$(pct "$module")" "$(pct "$state/user.pin")"
