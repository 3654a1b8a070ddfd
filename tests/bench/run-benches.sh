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
# twokeyd over HTTPS under wrk (tests/load/load.c); 77: wrk missing.
echo "== twokey-load bench"
sh tests/load/run-load.sh "$build" bench
case $? in
0|77) ;;
*) status=1 ;;
esac
# The journal again on a TPM token (swtpm); 77 means its packages are
# missing, which is not a failure of the benchmarks.
echo "== bench_journal on swtpm"
bash tests/bench/bench-journal-tpm.sh "$build"
case $? in
0|77) ;;
*) status=1 ;;
esac
exit $status
