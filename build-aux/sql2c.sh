#!/bin/sh
# sql2c.sh - turn the numbered db/NNN_*.sql migrations into a C table that
# the catalog applies in order. Usage: sql2c.sh db/001_a.sql db/002_b.sql ...
set -e
echo '/* Generated from the db/ migrations by build-aux/sql2c.sh; do not edit. */'
echo '#include "catalog.h"'
echo 'const struct migration catalog_migrations[] = {'
for f in "$@"; do
    base=$(basename "$f" .sql)
    ver=$(echo "$base" | sed 's/^0*\([0-9][0-9]*\)_.*/\1/')
    printf '    { %s, "%s",\n' "$ver" "$base"
    sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' -e 's/^/      "/' -e 's/$/\\n"/' "$f"
    echo '    },'
done
echo '    { 0, 0, 0 }'
echo '};'
