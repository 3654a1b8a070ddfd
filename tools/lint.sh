#!/bin/sh
# make lint: the checks a reviewer should not have to do by eye.
#  - C sources and headers fit in 80 columns (tabs count as 8);
#  - no banned functions (unbounded copies, unchecked conversions, weak
#    randomness, non-reentrant tokenizers);
#  - no TODO/FIXME/XXX tags and no issue numbers in code;
#  - cppcheck with the committed configuration (tools/cppcheck.cfg).
set -u
cd "$(dirname "$0")/.." || exit 2
status=0
files=$(git ls-files '*.c' '*.h' 2>/dev/null)
[ -n "$files" ] || files=$(find . -name '*.c' -o -name '*.h' | grep -v '^./build')

for f in $files; do
	n=$(expand -t 8 "$f" | awk 'length($0) > 80 { n++ } END { print n+0 }')
	if [ "$n" -gt 0 ]; then
		echo "lint: $f: $n lines over 80 columns"
		status=1
	fi
done

banned='\b(strcpy|strcat|sprintf|vsprintf|gets|atoi|atol|atoll|strtok|rand|srand|random|tmpnam|mktemp|alloca)[[:space:]]*\('
# shellcheck disable=SC2086
if grep -nE "$banned" $files; then
	echo "lint: banned functions above"
	status=1
fi
# shellcheck disable=SC2086
if grep -nE '\b(TODO|FIXME|XXX|HACK)\b' $files; then
	echo "lint: tags above: say plainly what is missing instead"
	status=1
fi
# shellcheck disable=SC2086
if grep -niE '(issue|ticket) ?#[0-9]+' $files; then
	echo "lint: issue numbers above: code must stand on its own"
	status=1
fi

if command -v cppcheck >/dev/null 2>&1; then
	# shellcheck disable=SC2086
	if ! cppcheck --quiet --error-exitcode=1 --std=c11 \
	    --enable=warning,portability,performance \
	    --inline-suppr --library=tools/cppcheck.cfg \
	    --suppressions-list=tools/cppcheck.supp \
	    -D__GNUC__ -I include $files; then
		echo "lint: cppcheck found problems"
		status=1
	fi
else
	echo "lint: cppcheck missing; run deploy/install-deps.sh"
	status=1
fi
[ $status -eq 0 ] && echo "lint: ok"
exit $status
