#!/bin/sh
# pg-run.sh - run data-layer unit tests against a temporary PostgreSQL:
#
#   tests/unit/pg-run.sh tests/unit/test_db_accounts [more tests...]
#
# Starts a server with tests/e2e/lib/postgres.sh, runs each test with
# HUBCAST_TEST_BACKEND=postgresql, HUBCAST_TEST_PGURL (no password in it)
# and PGPASSWORD, prints their TAP output and stops the server. Exits 77
# when PostgreSQL 15 is not installed, 1 when a test fails.
set -u
here=$(cd "$(dirname "$0")" && pwd)
lib="$here/../e2e/lib/postgres.sh"
dir=$(mktemp -d "${TMPDIR:-/tmp}/hubcast-pg-XXXXXX")
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])' 2>/dev/null ||
       echo $((20000 + $$ % 20000)))
out=$(sh "$lib" start "$dir" "$port")
rc=$?
if [ $rc -ne 0 ]; then
    sh "$lib" stop "$dir" >/dev/null 2>&1
    [ $rc -eq 77 ] && exit 77
    echo "the PostgreSQL test server did not start" >&2
    exit 1
fi
trap 'sh "$lib" stop "$dir" >/dev/null 2>&1' EXIT INT TERM
HUBCAST_TEST_BACKEND=postgresql
HUBCAST_TEST_PGURL=$(echo "$out" | sed -n 's/^url=//p')
PGPASSWORD=$(echo "$out" | sed -n 's/^password=//p')
export HUBCAST_TEST_BACKEND HUBCAST_TEST_PGURL PGPASSWORD
status=0
for t in "$@"; do
    echo "== $t (postgresql)"
    "$t" || status=1
done
exit $status
