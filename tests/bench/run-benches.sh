#!/bin/sh
# Runs each benchmark once. Benchmarks print their own figures, always as
# ratios against a baseline measured in the same run, because the machines
# they run on are shared and noisy.
# Usage: run-benches.sh BUILD_DIR BENCH...
set -u
build=$1
shift
top=$(pwd)
export TWOKEY_TOP="$top" TWOKEY_BUILD="$top/$build"
status=0
for b in "$@"; do
	tmp=$(mktemp -d "${TMPDIR:-/tmp}/twokey-bench.XXXXXX")
	echo "== $(basename "$b")"
	TWOKEY_TEST_TMP="$tmp" "$b" || status=1
	rm -rf "$tmp"
done
exit $status
