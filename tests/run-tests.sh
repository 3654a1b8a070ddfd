#!/bin/sh
# Runs every test binary given, each in its own fresh temporary folder
# (TWOKEY_TEST_TMP), and prints one closing line with the totals.
# Usage: run-tests.sh BUILD_DIR TEST...
set -u
build=$1
shift
top=$(pwd)
export TWOKEY_TOP="$top" TWOKEY_BUILD="$top/$build"
export ASAN_OPTIONS="${ASAN_OPTIONS:-halt_on_error=1:detect_leaks=1:abort_on_error=0:disable_coredump=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}"
export LSAN_OPTIONS="${LSAN_OPTIONS:-suppressions=$top/tests/lsan.supp:print_suppressions=0}"

passed=0
failed=0
failures=""
for t in "$@"; do
	name=$(basename "$t")
	tmp=$(mktemp -d "${TMPDIR:-/tmp}/twokey-$name.XXXXXX")
	echo "== $name"
	if TWOKEY_TEST_TMP="$tmp" "$t" >"$tmp.log" 2>&1; then
		p=$(grep -c '^\[       OK \]' "$tmp.log")
		passed=$((passed + p))
		grep -E '^\[  (PASSED|FAILED)  \]' "$tmp.log" | sed 's/^/   /'
	else
		f=$(grep -c '^\[  FAILED  \] .*\.' "$tmp.log")
		p=$(grep -c '^\[       OK \]' "$tmp.log")
		[ "$f" -gt 0 ] || f=1
		passed=$((passed + p))
		failed=$((failed + f))
		failures="$failures $name"
		cat "$tmp.log"
	fi
	rm -rf "$tmp" "$tmp.log"
done
[ -z "$failures" ] || echo "failed binaries:$failures"
echo "tests: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
