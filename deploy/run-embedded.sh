#!/bin/sh
# make run: twokey on its embedded defaults, everything under ./state.
#
#   ./state/token/      SoftHSM2 token and its PIN files (mode 0600; the
#                       PINs are never printed)
#   ./state/ceremony/   root, audit and token certificates from the key
#                       ceremony, and the root fingerprint to pin
#   ./state/daemon/     journal, approvals store, TLS key (made by twokeyd)
#   ./state/twokeyd.conf
#   ./state/bootstrap.done  the first enrollment was run (its one-time
#                       codes were printed then, and are kept nowhere)
#
# Kept between runs: the token and its keys are made once; later runs
# reuse them. Delete ./state to start over (this destroys the keys).
#
# The first run also bootstraps the first enrollment (twokeyd
# --bootstrap, before the daemon starts): one-time invitations for the
# demo people alice (team ops, admin and approver), bob (sec, approver)
# and carol (dev, approver), printed once, as links to the enrollment
# page.
#
# Environment: TWOKEY_PORT (default 8443) for a new state folder;
# TWOKEY_STATE (default ./state) names another state folder, as the
# browser tests do to start from nothing.
# Usage: run-embedded.sh BUILD_DIR
set -eu

build=$(cd "${1:-build}" && pwd)
top=$(pwd)
state=${TWOKEY_STATE:-$top/state}
port=${TWOKEY_PORT:-8443}

umask 077
mkdir -p "$state"

uri=$(sh "$top/deploy/softhsm-setup.sh" "$state/token" twokey)
SOFTHSM2_CONF=$state/token/softhsm2.conf
export SOFTHSM2_CONF

if [ ! -f "$state/ceremony/root.pem" ]; then
	echo "run: key ceremony on the SoftHSM2 token"
	"$build/twokey-signer" --ceremony --uri "$uri" --out "$state/ceremony"
fi

user_line=
if [ "$(id -u)" -eq 0 ]; then
	# twokeyd drops root after start-up to an account of its own.
	if ! getent passwd twokey >/dev/null; then
		useradd --system --no-create-home --home-dir /nonexistent \
		    --shell /usr/sbin/nologin twokey
	fi
	user_line='"user": "twokey",'
	# The dropped account must reach its state folder.
	chmod 0711 "$state"
fi

conf=$state/twokeyd.conf
if [ ! -f "$conf" ]; then
	cat >"$conf" <<CONF
# Written by make run; see docs/configuration.md for every setting.
{
  "listen": "127.0.0.1:$port",
  "pkcs11_uri": "$uri",
  "signer_path": "$build/twokey-signer",
  "state_dir": "$state/daemon",
  $user_line
  "rp_id": "localhost",
  "origins": ["https://localhost:$port"],
  "web_root": "$top/web/www",
  # Everyone in a demo comes from 127.0.0.1, which the per-address
  # limits count as one client (the defaults, 10 attempts a minute and
  # 8 connections, are for a real network; each browser keeps several
  # connections open). The per-address limit stays below the total so
  # that another address always finds room.
  "rate_limit_per_minute": 100,
  "max_connections": 128,
  "max_connections_per_address": 64
}
CONF
fi

if [ -n "$user_line" ]; then
	# SIGHUP re-reads the policy after root is dropped: the account
	# must read the file (it holds no secret; the PINs have their own).
	chgrp twokey "$conf"
	chmod 0640 "$conf"
fi

"$build/twokeyd" -t -c "$conf" >/dev/null
# A configuration from an earlier run keeps its port.
port=$(sed -n 's/^ *"listen": "[^"]*:\([0-9]*\)",$/\1/p' "$conf")
if [ -n "${TWOKEY_PORT:-}" ] && [ "$TWOKEY_PORT" != "$port" ]; then
	echo "run: $conf listens on port $port; edit it (listen and" \
	    "origins) or delete ./state to change the port" >&2
fi

# A busy port is found now, before one-time codes are printed for a
# daemon that would not start. curl exits 7 when nothing listens.
rc=0
curl -s -o /dev/null --max-time 3 "http://127.0.0.1:$port/" || rc=$?
if [ "$rc" -ne 7 ]; then
	echo "run: port $port is in use by another program; stop it, or" \
	    "start over with TWOKEY_PORT=<free port> and a new" \
	    "TWOKEY_STATE folder (or edit listen and origins in $conf)" >&2
	exit 1
fi

# The first enrollment, once, with the daemon not yet running: the codes
# go to this terminal only. Exit 3: approvers exist, the quorum governs.
invites=
if [ ! -f "$state/bootstrap.done" ]; then
	echo "run: first enrollment (twokeyd --bootstrap)"
	rc=0
	invites=$("$build/twokeyd" --bootstrap \
	    alice:ops,bob:sec,carol:dev -c "$conf") || rc=$?
	if [ "$rc" -ne 0 ] && [ "$rc" -ne 3 ]; then
		echo "run: the bootstrap failed (exit $rc)" >&2
		exit "$rc"
	fi
	: >"$state/bootstrap.done"
fi

cat <<MSG

twokey on its embedded defaults
  Pages:      https://localhost:$port/  (sign in with a security key)
  API:        https://localhost:$port/api/v1/  (try /healthz, /readyz)
  Root certificate for clients and auditors to pin:
              $state/ceremony/root.pem
  Its SHA-256 fingerprint:
              $(head -1 "$state/ceremony/root-fingerprint.txt")
  Check it:   curl --cacert $state/ceremony/root.pem \\
                  https://localhost:$port/readyz
  Stop with Ctrl-C. State is kept in $state.

MSG
if [ -n "$invites" ]; then
	echo "One-time enrollment links (shown this once, valid 24 h); open"
	echo "each in a browser with the person's security key at hand:"
	echo "$invites" | while IFS="$(printf '\t')" read -r name team roles code
	do
		echo "  $name (team $team, $roles):"
		echo "    https://localhost:$port/enroll.html#$code"
	done
	cat <<MSG
  (Without a browser: POST {"invitation":"CODE"} to
  /api/v1/enroll/challenge, then the key's WebAuthn registration to
  /api/v1/enroll; see web/openapi.json.) Once alice and two approvers
  are enrolled, unused bootstrap codes are void.

MSG
fi
exec "$build/twokeyd" -c "$conf"
