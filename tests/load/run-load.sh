#!/bin/sh
# Runs twokey-load (tests/load/load.c) in a fresh temporary folder.
# Usage: run-load.sh BUILD_DIR soak|bench
#   SOAK_SECONDS=N   soak length (default 60; 600 for ten minutes)
#   BENCH_SECONDS=N  seconds per wrk round of the bench (default 10)
set -u
build=$1
top=$(pwd)
export TWOKEY_TOP="$top" TWOKEY_BUILD="$top/$build"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/twokey-load.XXXXXX")
TWOKEY_TEST_TMP="$tmp" "$build/twokey-load" "$2"
status=$?
if [ "$status" -ne 0 ] && [ "$status" -ne 77 ]; then
	echo "twokeyd's log:"
	tail -n 40 "$tmp/load/twokeyd.log"
fi
rm -rf "$tmp"
exit $status
