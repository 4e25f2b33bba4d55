#!/bin/sh
# sql2c.sh - turn the numbered db/NNN_*.sql migrations into a C table that
# the catalog applies in order. Usage: sql2c.sh [-n ARRAY] db/001_a.sql db/002_b.sql ...
# (ARRAY: the table's name, catalog_migrations unless given)
set -e
array=catalog_migrations
if [ "${1:-}" = -n ]; then
    array=$2
    shift 2
fi
echo '/* Generated from the db/ migrations by build-aux/sql2c.sh; do not edit. */'
echo '#include "catalog.h"'
echo "const struct migration $array[] = {"
for f in "$@"; do
    base=$(basename "$f" .sql)
    ver=$(echo "$base" | sed 's/^0*\([0-9][0-9]*\)_.*/\1/')
    printf '    { %s, "%s",\n' "$ver" "$base"
    sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' -e 's/^/      "/' -e 's/$/\\n"/' "$f"
    echo '    },'
done
echo '    { 0, 0, 0 }'
echo '};'
