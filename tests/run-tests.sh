#!/bin/sh
# Runs every test binary given, each in its own fresh temporary folder
# (TWOKEY_TEST_TMP), and prints one closing line with the totals.
# Usage: run-tests.sh BUILD_DIR TEST...
#
# TEST_JOBS=N runs N binaries at once (default 1). Each binary has its
# own folder, token and free ports, so they do not share state; their
# reports are printed in the order given, once all have finished.
#
# TWOKEY_VALGRIND="valgrind OPTIONS" runs each binary under that command
# (make check-valgrind sets it). The options must trace children, so
# that the programs a test starts (twokeyd, twokey-signer,
# twokey-verify) run under it too; each process logs to its own file,
# and a binary fails when any of its processes reports an error (leaks
# count as errors when the options say so). A process killed before its
# summary (tests kill signers on purpose) fails its binary when its log
# reports anything beyond valgrind's header.
set -u

# Whether valgrind log $1 has an error: its summary counts some, or it
# has none (the process was killed) and reports something all the same.
vg_failed() {
	if grep -q 'ERROR SUMMARY:' "$1"; then
		grep -q 'ERROR SUMMARY: [1-9]' "$1"
		return
	fi
	grep -E '^==[0-9]+== ' "$1" | grep -vqE '^==[0-9]+== ?($|'\
'Memcheck, a memory error detector|Copyright \(C\)|Using Valgrind-|'\
'Command: |Parent PID: )'
}

# One binary: its result in $res.status ("P F" counts), its log in
# $res.log. Called by xargs below with the results folder first.
run_one() {
	resdir=$1
	t=$2
	name=$(basename "$t")
	res="$resdir/$name"
	tmp=$(mktemp -d "${TMPDIR:-/tmp}/twokey-$name.XXXXXX")
	ok=1
	start=$(date +%s)
	if [ -n "${TWOKEY_VALGRIND:-}" ]; then
		# Programs started after the daemon drops root log here too.
		vg="$tmp.vg"
		mkdir -m 1777 "$vg"
		# Split the command into words, but expand no patterns.
		set -f
		# shellcheck disable=SC2086
		TWOKEY_TEST_TMP="$tmp" $TWOKEY_VALGRIND \
		    --log-file="$vg/%p.log" "$t" >"$res.log" 2>&1 || ok=0
		set +f
		for l in "$vg"/*.log; do
			[ -f "$l" ] || continue
			if vg_failed "$l"; then
				ok=0
				echo "== valgrind: $(basename "$l")" >>"$res.log"
				cat "$l" >>"$res.log"
			fi
		done
		rm -rf "$vg"
	else
		TWOKEY_TEST_TMP="$tmp" "$t" >"$res.log" 2>&1 || ok=0
	fi
	p=$(grep -c '^\[       OK \]' "$res.log")
	f=0
	if [ "$ok" -eq 0 ]; then
		f=$(grep -c '^\[  FAILED  \] .*\.' "$res.log")
		[ "$f" -gt 0 ] || f=1
	fi
	echo "$p $f $(($(date +%s) - start))" >"$res.status"
	rm -rf "$tmp"
}

if [ "${1:-}" = "--one" ]; then
	shift
	run_one "$@"
	exit 0
fi

build=$1
shift
top=$(pwd)
# The build folder as given: relative to the project, or absolute.
case $build in
/*) TWOKEY_BUILD=$build ;;
*) TWOKEY_BUILD=$top/$build ;;
esac
export TWOKEY_TOP="$top" TWOKEY_BUILD
export ASAN_OPTIONS="${ASAN_OPTIONS:-halt_on_error=1:detect_leaks=1:abort_on_error=0:disable_coredump=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}"
export LSAN_OPTIONS="${LSAN_OPTIONS:-suppressions=$top/tests/lsan.supp:print_suppressions=0}"
export TWOKEY_VALGRIND="${TWOKEY_VALGRIND:-}"

# What a passing binary shows: its totals, and any check it skipped
# (tk_fixture_note), so that a skip is never silent.
summary='^\[  (PASSED|FAILED)  \]|^\[   NOTE   \]'

resdir=$(mktemp -d "${TMPDIR:-/tmp}/twokey-results.XXXXXX")
jobs=${TEST_JOBS:-1}
if [ "$jobs" -le 1 ]; then
	for t in "$@"; do
		echo "== $(basename "$t")"
		run_one "$resdir" "$t"
		res="$resdir/$(basename "$t")"
		echo "   ($(cut -d' ' -f3 "$res.status") s)"
		if [ "$(cut -d' ' -f2 "$res.status")" -eq 0 ]; then
			grep -E "$summary" "$res.log" |
			    sed 's/^/   /'
		else
			cat "$res.log"
		fi
	done
else
	printf '%s\n' "$@" | xargs -P "$jobs" -n 1 sh "$0" --one "$resdir"
fi

passed=0
failed=0
failures=""
for t in "$@"; do
	name=$(basename "$t")
	res="$resdir/$name"
	if [ ! -f "$res.status" ]; then
		echo "0 1 0" >"$res.status"
		echo "$name: no result (the runner was killed?)" >"$res.log"
	fi
	p=$(cut -d' ' -f1 "$res.status")
	f=$(cut -d' ' -f2 "$res.status")
	passed=$((passed + p))
	failed=$((failed + f))
	if [ "$f" -gt 0 ]; then
		failures="$failures $name"
		[ "$jobs" -le 1 ] || { echo "== $name ($(cut -d' ' -f3 \
		    "$res.status") s)"; cat "$res.log"; }
	elif [ "$jobs" -gt 1 ]; then
		echo "== $name ($(cut -d' ' -f3 "$res.status") s)"
		grep -E "$summary" "$res.log" | sed 's/^/   /'
	fi
done
rm -rf "$resdir"
[ -z "$failures" ] || echo "failed binaries:$failures"
echo "tests: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
