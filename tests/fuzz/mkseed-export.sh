#!/bin/sh
# Turns a journal export folder into one fuzz_export input (records of
# NAME NUL LEN32LE DATA). Usage: mkseed-export.sh EXPORT_DIR > seed
set -eu
cd "$1"
find . -type f | sed 's|^\./||' | sort | while read -r f; do
	printf '%s\000' "$f"
	python3 -c 'import os,struct,sys; sys.stdout.buffer.write(struct.pack("<I", os.path.getsize(sys.argv[1])))' "$f"
	cat "$f"
done
