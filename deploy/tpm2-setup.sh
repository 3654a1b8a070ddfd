#!/bin/bash
# A software TPM 2.0 (swtpm) as a PKCS#11 token for twokey through
# tpm2-pkcs11, for development, tests and benchmarks. No root-only device:
# swtpm listens on two free loopback ports.
#
# Usage:
#   tpm2-setup.sh [--direct] STATE_DIR [LABEL]
#                       provision a new token (default label "twokey") and
#                       leave it running; on a folder provisioned before,
#                       only make sure it runs
#   tpm2-setup.sh --start STATE_DIR   start it again on existing state
#   tpm2-setup.sh --stop STATE_DIR    stop every process it started there
#   tpm2-setup.sh --env STATE_DIR     print the environment again
#
# On success stdout carries shell lines (paths and ports, no secrets) to
# eval in the shell or service that loads the module:
#   export TPM2_PKCS11_STORE=...   the module's object store (SQLite)
#   export TPM2_PKCS11_TCTI=...    how the module reaches the TPM
#   export DBUS_SESSION_BUS_ADDRESS=...  (not with --direct)
#   export TWOKEY_PKCS11_URI='pkcs11:token=...?module-path=...&pin-source=...'
# Progress and errors go to stderr. PINs are random, written to
# STATE_DIR/so.pin and STATE_DIR/user.pin (mode 0600) and never printed.
#
# Why a resource manager: swtpm (libtpms) holds only three transient
# objects and tpm2-pkcs11 keeps a key loaded once used, so through the bare
# swtpm TCTI one process can use or generate at most two keys (the third
# fails with TPM error 0x902, "out of memory for object contexts"), and an
# object left loaded by a failed call breaks every later login until swtpm
# restarts. twokey's signer holds three keys. So by default swtpm is served
# through tpm2-abrmd on a private D-Bus session bus, which swaps objects in
# and out per client and flushes a client's objects when it disconnects, so
# processes using the token at once do not share the three slots.
# --direct stops abrmd after provisioning and prints the swtpm TCTI: fine
# for one process using one or two keys (benchmarks, quick checks).
#
# Needs (deploy/install-deps.sh --tpm): swtpm, tpm2-tools, tpm2-abrmd,
# libtss2-tcti-tabrmd0, libtpm2-pkcs11-1, libtpm2-pkcs11-tools, dbus,
# opensc (pkcs11-tool). Installs nothing itself.
set -euo pipefail
umask 077

MODULE=${TPM2_PKCS11_MODULE:-/usr/lib/x86_64-linux-gnu/pkcs11/libtpm2_pkcs11.so}
PROG=tpm2-setup
# Dictionary-attack limits for this development TPM (see provision).
DA_TRIES=32
DA_RECOVERY=60

msg() { echo "$PROG: $*" >&2; }
die() { msg "error: $*"; exit 1; }

# die_log FILE MESSAGE: the folder may be removed on the way out, so show
# the end of the log (tool output only; PINs never reach these logs).
die_log() {
	local f=$1
	shift
	[ -s "$f" ] && tail -n 15 "$f" | sed "s/^/$PROG: | /" >&2
	die "$*"
}

usage() {
	cat >&2 <<EOF
usage: tpm2-setup.sh [--direct] STATE_DIR [LABEL]
       tpm2-setup.sh --start STATE_DIR
       tpm2-setup.sh --stop STATE_DIR
       tpm2-setup.sh --env STATE_DIR
EOF
	exit 2
}

need_tools() {
	local missing="" t
	for t in swtpm tpm2_ptool tpm2-abrmd dbus-daemon pkcs11-tool \
	    tpm2_getrandom tpm2_shutdown tpm2_dictionarylockout; do
		command -v "$t" >/dev/null 2>&1 || missing="$missing $t"
	done
	[ -r "$MODULE" ] || missing="$missing $MODULE"
	[ -z "$missing" ] ||
	    die "missing:$missing (run deploy/install-deps.sh --tpm)"
}

# Paths and labels go unquoted into a PKCS#11 URI and a TCTI string, so
# keep them to characters that need no escaping there.
check_dir_name() {
	case "$1" in
	/*) ;;
	*) die "internal: state path not absolute: $1" ;;
	esac
	if printf '%s' "$1" | LC_ALL=C grep -q '[^A-Za-z0-9._/+-]'; then
		die "STATE_DIR may contain only A-Z a-z 0-9 . _ / + - : $1"
	fi
}

check_label() {
	if [ -z "$1" ] || [ ${#1} -gt 32 ] ||
	    printf '%s' "$1" | LC_ALL=C grep -q '[^A-Za-z0-9._-]'; then
		die "LABEL must be 1-32 of A-Z a-z 0-9 . _ - : $1"
	fi
}

# A pid from one of our pid files counts only if that process is alive
# (not a zombie), has the expected name and mentions our state folder or
# port, so a recycled pid is never signalled.
pid_is_ours() {
	local pid=$1 name=$2 match=$3 st comm
	case "$pid" in ''|*[!0-9]*) return 1 ;; esac
	st=$(awk '{ print $3 }' "/proc/$pid/stat" 2>/dev/null) || return 1
	[ "$st" != Z ] || return 1
	comm=$(cat "/proc/$pid/comm" 2>/dev/null) || return 1
	[ "$comm" = "$name" ] || return 1
	tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$match"
}

pid_alive() {
	local st
	st=$(awk '{ print $3 }' "/proc/$1/stat" 2>/dev/null) || return 1
	[ "$st" != Z ]
}

# stop_pidfile FILE NAME MATCH: TERM, then KILL after 5 s; removes FILE.
stop_pidfile() {
	local file=$1 name=$2 match=$3 pid
	[ -f "$file" ] || return 0
	pid=$(cat "$file")
	if pid_is_ours "$pid" "$name" "$match"; then
		kill -TERM "$pid" 2>/dev/null || true
		for _ in $(seq 50); do
			pid_alive "$pid" || break
			sleep 0.1
		done
		if pid_alive "$pid"; then
			msg "$name ($pid) ignored TERM; killing"
			kill -KILL "$pid" 2>/dev/null || true
			sleep 0.2
		fi
		# Reap it if it is our child; harmless otherwise.
		wait "$pid" 2>/dev/null || true
	fi
	rm -f "$file"
}

rand_hex() {
	od -An -N"$1" -tx1 /dev/urandom | tr -d ' \n'
}

rand_port() {
	local n
	n=$(od -An -N2 -tu2 /dev/urandom | tr -d ' ')
	echo $(( 20000 + (n % 20000) * 2 ))
}

tcti_of() {
	echo "swtpm:host=127.0.0.1,port=$1"
}

TABRMD_TCTI=tabrmd:bus_type=session

bus_address() {
	echo "unix:path=$(cat "$1/run/busdir")/bus"
}

# start_swtpm DIR [PORT]: tries PORT (and PORT+1 for control) first, then
# random pairs; swtpm binds before it daemonises, so a taken port is a
# plain failure and we try the next pair.
start_swtpm() {
	local d=$1 port=${2:-}
	for _ in $(seq 20); do
		[ -n "$port" ] || port=$(rand_port)
		if swtpm socket --tpm2 --daemon \
		    --tpmstate "dir=$d/tpm" \
		    --server "type=tcp,port=$port,bindaddr=127.0.0.1" \
		    --ctrl "type=tcp,port=$((port + 1)),bindaddr=127.0.0.1" \
		    --flags not-need-init,startup-clear \
		    --pid "file=$d/swtpm.pid" \
		    --log "file=$d/swtpm.log" 2>>"$d/swtpm.log"; then
			echo "$port" >"$d/swtpm.port"
			return 0
		fi
		if grep -q 'lock' "$d/swtpm.log" &&
		    ! grep -q 'Address already in use' "$d/swtpm.log"; then
			die "swtpm could not lock $d/tpm (another swtpm on it?)"
		fi
		: >"$d/swtpm.log"
		port=""
	done
	die_log "$d/swtpm.log" "swtpm did not start"
}

swtpm_running() {
	local d=$1
	[ -f "$d/swtpm.pid" ] &&
	    pid_is_ours "$(cat "$d/swtpm.pid")" swtpm "dir=$d/tpm"
}

env_lines() {
	local d=$1 label port uri
	label=$(cat "$d/label")
	port=$(cat "$d/swtpm.port")
	uri="pkcs11:token=$label?module-path=$MODULE"
	uri="$uri&pin-source=file:$d/user.pin"
	echo "export TPM2_PKCS11_STORE='$d/store'"
	if [ "$(cat "$d/mode")" = direct ]; then
		echo "export TPM2_PKCS11_TCTI='$(tcti_of "$port")'"
	else
		echo "export TPM2_PKCS11_TCTI='$TABRMD_TCTI'"
		echo "export DBUS_SESSION_BUS_ADDRESS='$(bus_address "$d")'"
	fi
	echo "export TWOKEY_PKCS11_URI='$uri'"
	echo "# swtpm: 127.0.0.1:$port (control $((port + 1)))"
}

write_env() {
	env_lines "$1" >"$1/env.tmp"
	mv "$1/env.tmp" "$1/env"
}

# The private bus and abrmd: for provisioning, and kept unless --direct.
start_broker() {
	local d=$1 port=$2
	mkdir -p "$d/run"
	BUSDIR=$(mktemp -d "${TMPDIR:-/tmp}/tk-tpm2-bus.XXXXXX")
	echo "$BUSDIR" >"$d/run/busdir"
	dbus-daemon --session --nofork --nopidfile \
	    --address="unix:path=$BUSDIR/bus" </dev/null >/dev/null \
	    2>"$d/run/dbus.log" &
	echo $! >"$d/run/dbus.pid"
	for _ in $(seq 50); do
		[ -S "$BUSDIR/bus" ] && break
		sleep 0.1
	done
	[ -S "$BUSDIR/bus" ] ||
	    die_log "$d/run/dbus.log" "dbus-daemon did not start"
	export DBUS_SESSION_BUS_ADDRESS="unix:path=$BUSDIR/bus"
	local root=""
	[ "$(id -u)" -ne 0 ] || root=--allow-root
	tpm2-abrmd --session $root --flush-all --logger=stdout \
	    --tcti="$(tcti_of "$port")" </dev/null >"$d/run/abrmd.log" 2>&1 &
	echo $! >"$d/run/abrmd.pid"
	export TPM2TOOLS_TCTI=$TABRMD_TCTI
	for _ in $(seq 50); do
		tpm2_getrandom --hex 4 >/dev/null 2>&1 && return 0
		pid_alive "$(cat "$d/run/abrmd.pid")" ||
		    die_log "$d/run/abrmd.log" "tpm2-abrmd exited"
		sleep 0.1
	done
	die_log "$d/run/abrmd.log" "tpm2-abrmd not answering on the bus"
}

stop_broker() {
	local d=$1 busdir=""
	[ -d "$d/run" ] || return 0
	[ -f "$d/run/busdir" ] && busdir=$(cat "$d/run/busdir")
	stop_pidfile "$d/run/abrmd.pid" tpm2-abrmd "port=$(cat \
	    "$d/swtpm.port" 2>/dev/null || echo none)"
	stop_pidfile "$d/run/dbus.pid" dbus-daemon "${busdir:-none}/bus"
	case "$busdir" in
	*/tk-tpm2-bus.*) rm -rf "$busdir" ;;
	esac
	rm -rf "$d/run"
	unset DBUS_SESSION_BUS_ADDRESS TPM2TOOLS_TCTI
}

broker_running() {
	local d=$1
	[ -f "$d/run/abrmd.pid" ] && [ -f "$d/run/dbus.pid" ] &&
	    pid_is_ours "$(cat "$d/run/abrmd.pid")" tpm2-abrmd \
		"port=$(cat "$d/swtpm.port")" &&
	    pid_is_ours "$(cat "$d/run/dbus.pid")" dbus-daemon \
		"$(cat "$d/run/busdir")/bus"
}

# current_tcti DIR: the TCTI the module should use right now.
current_tcti() {
	if [ "$(cat "$1/mode")" = direct ]; then
		tcti_of "$(cat "$1/swtpm.port")"
	else
		echo "$TABRMD_TCTI"
	fi
}

provision() {
	local d=$1 label=$2 so user
	rand_hex 16 >"$d/so.pin"
	rand_hex 16 >"$d/user.pin"
	chmod 600 "$d/so.pin" "$d/user.pin"
	mkdir "$d/tpm" "$d/store"
	echo "$label" >"$d/label"
	echo "$MODE" >"$d/mode"
	start_swtpm "$d"
	start_broker "$d" "$(cat "$d/swtpm.port")"
	# A TPM counts every restart without TPM2_Shutdown after a PIN use as
	# a failed authorisation; swtpm's defaults (3 tries, one forgiven per
	# 1000 s) would lock a development token after three crashes.
	tpm2_dictionarylockout --setup-parameters --max-tries="$DA_TRIES" \
	    --recovery-time="$DA_RECOVERY" \
	    --lockout-recovery-time="$DA_RECOVERY" \
	    >"$d/run/da.log" 2>&1 ||
	    die_log "$d/run/da.log" "setting dictionary-attack parameters"
	msg "initialising store (primary key 0x81000001)"
	tpm2_ptool init --path="$d/store" >"$d/run/ptool.log" 2>&1 ||
	    die_log "$d/run/ptool.log" "tpm2_ptool init failed"
	# PINs reach pkcs11-tool through its environment (readable only by
	# this user), never on a command line.
	so=$(cat "$d/so.pin")
	user=$(cat "$d/user.pin")
	msg "creating token '$label'"
	export TPM2_PKCS11_STORE="$d/store" TPM2_PKCS11_TCTI="$TABRMD_TCTI"
	TK_SO="$so" pkcs11-tool --module "$MODULE" --init-token \
	    --label "$label" --so-pin env:TK_SO >"$d/run/init.log" 2>&1 ||
	    die_log "$d/run/init.log" "C_InitToken failed"
	TK_SO="$so" TK_USER="$user" pkcs11-tool --module "$MODULE" \
	    --token-label "$label" --init-pin --login --login-type so \
	    --so-pin env:TK_SO --new-pin env:TK_USER \
	    >>"$d/run/init.log" 2>&1 ||
	    die_log "$d/run/init.log" "C_InitPIN failed"
	so=""
	user=""
	[ "$(cat "$d/mode")" != direct ] || stop_broker "$d"
}

# Proves the token answers through the TCTI the caller will use.
check_token() {
	local d=$1 label bus=""
	label=$(cat "$d/label")
	[ "$(cat "$d/mode")" = direct ] || bus=$(bus_address "$d")
	DBUS_SESSION_BUS_ADDRESS="$bus" TPM2_PKCS11_STORE="$d/store" \
	    TPM2_PKCS11_TCTI="$(current_tcti "$d")" \
	    pkcs11-tool --module "$MODULE" --list-token-slots 2>&1 |
	    grep -q "token label *: $label\$" ||
	    die "token '$label' not visible through $(current_tcti "$d")"
}

FRESH=0
on_exit() {
	local rc=$? d=${STATE:-}
	[ $rc -ne 0 ] || return 0
	[ -n "$d" ] || return 0
	[ -d "$d" ] || return 0
	if [ "$FRESH" = 1 ] || [ "${STARTED_BROKER:-0}" = 1 ]; then
		stop_broker "$d" || true
	fi
	if [ "$FRESH" = 1 ]; then
		stop_pidfile "$d/swtpm.pid" swtpm "dir=$d/tpm" || true
		rm -rf "$d/tpm" "$d/store" "$d/so.pin" "$d/user.pin" \
		    "$d/label" "$d/mode" "$d/swtpm.port" "$d/swtpm.pid" \
		    "$d/swtpm.log" \
		    "$d/env" "$d/env.tmp" "$d/provisioned"
		rmdir "$d" 2>/dev/null || true
		msg "cleaned up after failure"
	elif [ "${STARTED_SWTPM:-0}" = 1 ]; then
		orderly_shutdown "$d" || true
		stop_pidfile "$d/swtpm.pid" swtpm "dir=$d/tpm" || true
	fi
}
trap on_exit EXIT
trap 'exit 130' INT TERM

abs_dir() {
	local p=$1
	case "$p" in
	/*) ;;
	*) p="$PWD/$p" ;;
	esac
	# Drop trailing slashes so the path matches pid command lines.
	while [ "${#p}" -gt 1 ] && [ "${p%/}" != "$p" ]; do p=${p%/}; done
	echo "$p"
}

do_start() {
	local d=$1 port
	[ -f "$d/provisioned" ] || die "$d is not a provisioned token folder"
	if swtpm_running "$d"; then
		msg "swtpm already running (pid $(cat "$d/swtpm.pid"))"
	else
		rm -f "$d/swtpm.pid"
		port=$(cat "$d/swtpm.port" 2>/dev/null || true)
		: >"$d/swtpm.log"
		STARTED_SWTPM=1
		start_swtpm "$d" "$port"
		msg "swtpm started on 127.0.0.1:$(cat "$d/swtpm.port")"
	fi
	if [ "$(cat "$d/mode")" != direct ]; then
		# A new swtpm needs a new abrmd: the old one's connection died.
		if [ "${STARTED_SWTPM:-0}" = 0 ] && broker_running "$d"; then
			msg "tpm2-abrmd already running"
		else
			# abrmd holds swtpm's only connection; its pid decides
			# whether a failure here stops swtpm too.
			stop_broker "$d"
			STARTED_BROKER=1
			start_broker "$d" "$(cat "$d/swtpm.port")"
			unset DBUS_SESSION_BUS_ADDRESS TPM2TOOLS_TCTI
			msg "tpm2-abrmd started"
		fi
	fi
	check_token "$d"
	write_env "$d"
	STARTED_SWTPM=0
	STARTED_BROKER=0
	cat "$d/env"
}

# TPM2_Shutdown first, so the TPM does not count the stop as a failed
# authorisation (it does after a PIN was used since start-up). Called once
# abrmd is gone, so the swtpm socket is free.
orderly_shutdown() {
	local d=$1
	swtpm_running "$d" || return 0
	if ! TPM2TOOLS_TCTI="$(tcti_of "$(cat "$d/swtpm.port")")" \
	    timeout 3 tpm2_shutdown --clear >/dev/null 2>&1; then
		msg "warning: no orderly TPM shutdown; the TPM counts this" \
		    "stop as a failed PIN"
	fi
}

do_stop() {
	local d=$1
	[ -d "$d" ] || die "no such folder: $d"
	stop_broker "$d"
	orderly_shutdown "$d"
	stop_pidfile "$d/swtpm.pid" swtpm "dir=$d/tpm"
	msg "stopped"
}

do_setup() {
	local d=$1 label=$2
	if [ -f "$d/provisioned" ]; then
		[ -z "$label" ] || [ "$(cat "$d/label")" = "$label" ] ||
		    die "$d holds token '$(cat "$d/label")', not '$label'"
		[ "$MODE" = abrmd ] || [ "$(cat "$d/mode")" = direct ] ||
		    die "$d was provisioned without --direct"
		do_start "$d"
		return
	fi
	if [ -e "$d" ] && [ -n "$(ls -A "$d" 2>/dev/null)" ]; then
		die "$d exists, is not empty and holds no finished token;" \
		    "remove it or choose another folder"
	fi
	[ -n "$label" ] || label=twokey
	FRESH=1
	mkdir -p "$d"
	chmod 700 "$d"
	provision "$d" "$label"
	check_token "$d"
	write_env "$d"
	date -u +%Y-%m-%dT%H:%M:%SZ >"$d/provisioned"
	FRESH=0
	msg "token '$label' ready ($MODE); swtpm pid $(cat "$d/swtpm.pid")"
	cat "$d/env"
}

MODE=abrmd
if [ "${1:-}" = --direct ]; then
	MODE=direct
	shift
fi
[ $# -ge 1 ] || usage
case "$1" in
--start|--stop|--env)
	if [ $# -ne 2 ] || [ "$MODE" != abrmd ]; then
		usage
	fi
	STATE=$(abs_dir "$2")
	check_dir_name "$STATE"
	case "$1" in
	--start) need_tools; do_start "$STATE" ;;
	--stop) do_stop "$STATE" ;;
	--env)
		[ -f "$STATE/provisioned" ] ||
		    die "$STATE is not a provisioned token folder"
		cat "$STATE/env"
		;;
	esac
	;;
-*)
	usage
	;;
*)
	[ $# -ge 1 ] || usage
	[ $# -le 2 ] || usage
	STATE=$(abs_dir "$1")
	LABEL=${2:-}
	check_dir_name "$STATE"
	[ -z "$LABEL" ] || check_label "$LABEL"
	need_tools
	do_setup "$STATE" "$LABEL"
	;;
esac
