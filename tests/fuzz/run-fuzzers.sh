#!/bin/sh
# Runs each libFuzzer harness for a short time on its seed corpus
# (tests/fuzz/corpus/NAME, copied so the committed seeds stay clean).
# A crash, leak or sanitizer report fails the run.
# Usage: run-fuzzers.sh SECONDS HARNESS...
set -u
secs=${1:-20}
shift
[ -n "$secs" ] || secs=20
status=0
for h in "$@"; do
	name=$(basename "$h")
	work=$(mktemp -d "${TMPDIR:-/tmp}/twokey-fuzz-$name.XXXXXX")
	if [ -d "tests/fuzz/corpus/$name" ]; then
		cp -r "tests/fuzz/corpus/$name/." "$work/"
	fi
	echo "== fuzz $name for ${secs}s"
	if ! "$h" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
	    -artifact_prefix="$work/" "$work" >"$work.log" 2>&1; then
		tail -40 "$work.log"
		echo "fuzz: $name failed; artifacts in $work"
		status=1
		continue
	fi
	tail -1 "$work.log"
	rm -rf "$work" "$work.log"
done
exit $status
