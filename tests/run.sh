#!/bin/sh
# run.sh - every test: the C unit tests, then the end-to-end tests and the
# browser tests (Node's test runner against the real binary; headless
# Chromium for the browser) and short runs of the fuzzers. Prints one "ok"/"not ok" line per test and
# ends with "N passed, N failed, N skipped". `make check` runs it through
# tests/log-driver.sh, with HUBCAST_BUILDDIR set to the build folder.
#
# The catalog's second backend, PostgreSQL (a throwaway PostgreSQL 15 of
# tests/e2e/lib/postgres.sh for the whole run, a database of its own for
# every data folder):
#   HUBCAST_TEST_BACKEND=postgresql sh tests/run.sh   (make check-postgresql)
#       runs only the parts where the backend matters, on PostgreSQL: the
#       data-layer unit tests, every end-to-end and every browser test;
#   HUBCAST_TEST_POSTGRESQL_PASS=e2e sh tests/run.sh   (or make check)
#       runs everything on SQLite as usual, then the end-to-end tests again
#       on PostgreSQL, but for those listed in $pg_pass_skip below (what CI
#       can afford); =all runs every end-to-end and browser test again.
# On PostgreSQL, test names start with "postgresql: ".
set -u
cd "$(dirname "$0")/.."
src=$(pwd)
build=$(cd "${HUBCAST_BUILDDIR:-.}" && pwd)
passed=0
failed=0
skipped=0
log=$(mktemp)
pgdir=""
trap 'rm -f "$log"; [ -n "$pgdir" ] && sh tests/e2e/lib/postgres.sh stop "$pgdir" >/dev/null 2>&1' EXIT
trap 'exit 130' INT TERM

pg_only=no
[ "${HUBCAST_TEST_BACKEND:-}" = postgresql ] && pg_only=yes
pg_pass=${HUBCAST_TEST_POSTGRESQL_PASS:-}
unset HUBCAST_TEST_BACKEND

# End-to-end tests that the PostgreSQL pass of the default run leaves out,
# to keep CI within its time: those that never open a catalog (transcode,
# instant-transcoder: the transcoder alone; layers: the source tree), that
# bring their own PostgreSQL already (postgres, tus-s3, scale), that spend their time on
# real-time media (instant: live streams at real-time pace, whose catalog
# side instant-server covers), on the job child's confinement (confine,
# jobchild: the child has no catalog), on another engine (s3, smtp-tls), or
# on the SQLite file's own disk-full path (diskfull; PostgreSQL's is
# unit-tested).
pg_pass_skip="transcode instant-transcoder layers postgres tus-s3 scale instant confine jobchild s3 smtp-tls diskfull"

[ "$pg_only" = yes ] || for t in "$build"/tests/unit/test_*; do
    case "$t" in *.c|*.h|*.o|*.log|*.trs) continue ;; esac
    [ -x "$t" ] || continue
    echo "== $t"
    "$t" >"$log" 2>&1
    cat "$log"
    p=$(grep -c '^ok ' "$log")
    f=$(grep -c '^not ok ' "$log")
    passed=$((passed + p))
    failed=$((failed + f))
done

# The data-layer unit tests of the modules ported to PostgreSQL again, on a
# temporary PostgreSQL 15 (the second catalog backend), when Debian's
# postgresql-15 is installed.
if [ -x /usr/lib/postgresql/15/bin/initdb ]; then
    pg_tests=""
    for t in "$build"/tests/unit/test_db_accounts "$build"/tests/unit/test_db_outbox \
             "$build"/tests/unit/test_db_habit "$build"/tests/unit/test_db_updates \
             "$build"/tests/unit/test_db_search "$build"/tests/unit/test_catalog_pg; do
        [ -x "$t" ] && pg_tests="$pg_tests $t"
    done
    echo "== data layer on PostgreSQL"
    sh tests/unit/pg-run.sh $pg_tests >"$log" 2>&1
    grep -E '^(not )?ok |^== ' "$log" | sed 's/^\(not \)\{0,1\}ok /&postgresql: /'
    p=$(grep -c '^ok ' "$log")
    f=$(grep -c '^not ok ' "$log")
    if [ "$p" -eq 0 ] && [ "$f" -eq 0 ]; then
        echo "not ok postgresql: the data-layer tests did not run"
        tail -20 "$log"
        f=1
    fi
    passed=$((passed + p))
    failed=$((failed + f))
else
    echo "ok postgresql # SKIP PostgreSQL 15 is not installed (sh build-aux/deps.sh test)"
    skipped=$((skipped + 1))
fi

# run_node NAME FILES...: the Node test files, one ok / not ok line per
# test, prefixed with "postgresql: " on the run's PostgreSQL ($pg_url set).
pg_url=""
pg_password=""
run_node() {
    name=$1
    shift
    echo "== $name"
    (
        if [ -n "$pg_url" ]; then
            HUBCAST_TEST_BACKEND=postgresql HUBCAST_TEST_PGURL=$pg_url PGPASSWORD=$pg_password
            export HUBCAST_TEST_BACKEND HUBCAST_TEST_PGURL PGPASSWORD
        fi
        HUBCAST_BIN="$build/src/hubcast" exec node --test --test-reporter=tap \
            --test-concurrency="${HUBCAST_TEST_CONCURRENCY:-1}" "$@"
    ) >"$log" 2>&1
    rc=$?
    if [ -n "$pg_url" ]; then
        sed 's/^\(not \)\{0,1\}ok [0-9]* - /&postgresql: /' "$log" >"$log.pg" && mv "$log.pg" "$log"
    fi
    grep -E '^(not )?ok ' "$log" || true
    # The details of each failure, indented so that they are not counted again.
    grep -A40 '^not ok' "$log" | grep -v '^--$' | head -300 | sed 's/^/    /' || true
    p=$(sed -n 's/^# pass \([0-9]*\)/\1/p' "$log" | tail -1)
    f=$(sed -n 's/^# fail \([0-9]*\)/\1/p' "$log" | tail -1)
    s=$(sed -n 's/^# skipped \([0-9]*\)/\1/p' "$log" | tail -1)
    if [ -z "$p" ]; then
        echo "the $name runner did not finish (exit $rc):"
        tail -50 "$log"
        f=$((${f:-0} + 1))
    fi
    passed=$((passed + ${p:-0}))
    failed=$((failed + ${f:-0}))
    skipped=$((skipped + ${s:-0}))
}

# pg_start: start the run's PostgreSQL and set $pg_url and $pg_password to
# what the tests need to use it (lib/server.mjs makes a database per data folder there).
# Returns 77 when PostgreSQL 15 is not installed, 1 when it does not start.
pg_start() {
    [ -n "$pg_url" ] && return 0
    for attempt in 1 2 3; do
        pgdir=$(mktemp -d "${TMPDIR:-/tmp}/hubcast-pg-XXXXXX")
        port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])' \
               2>/dev/null || echo $((20000 + ($$ + attempt * 997) % 20000)))
        sh tests/e2e/lib/postgres.sh start "$pgdir" "$port" >"$log" 2>&1
        rc=$?
        if [ $rc -eq 0 ]; then
            pg_url=$(sed -n 's/^url=//p' "$log")
            pg_password=$(sed -n 's/^password=//p' "$log")
            return 0
        fi
        sh tests/e2e/lib/postgres.sh stop "$pgdir" >/dev/null 2>&1
        pgdir=""
        [ $rc -eq 77 ] && return 77
    done
    return 1
}

# run_node_pg NAME FILES...: run_node on the run's PostgreSQL.
run_node_pg() {
    pg_start
    rc=$?
    if [ $rc -eq 77 ] && [ "$pg_only" = no ]; then
        echo "ok postgresql: $1 # SKIP PostgreSQL 15 is not installed (sh build-aux/deps.sh test)"
        skipped=$((skipped + 1))
    elif [ $rc -ne 0 ]; then
        echo "not ok postgresql: $1: the PostgreSQL test server did not start"
        cat "$log"
        failed=$((failed + 1))
    else
        run_node "$@"
    fi
}

if [ "$pg_only" = yes ]; then
    [ -d tests/node_modules ] || {
        echo "not ok the test clients are not installed: run (cd tests && npm ci)"
        failed=$((failed + 1))
    }
    run_node_pg end-to-end tests/e2e/*.test.mjs
    run_node_pg browser tests/browser/*.test.mjs
    echo "$passed passed, $failed failed, $skipped skipped"
    [ "$failed" -eq 0 ]
    exit
fi

# Fuzz smoke runs: every libFuzzer target of tests/fuzz (make fuzz) for a
# few seconds each, one ok / not ok line per target.
if command -v clang-14 >/dev/null 2>&1 && [ -f "$build/Makefile" ]; then
    echo "== fuzz"
    if (cd "$build" && make -s fuzz-build) >"$log" 2>&1; then
        (cd "$build" && sh "$src/tests/fuzz/run.sh" "${HUBCAST_FUZZ_SECONDS:-12}") >"$log" 2>&1
    else
        tail -20 "$log" >"$log.build"
        echo "not ok fuzz: the targets do not build" >>"$log.build"
        mv "$log.build" "$log"
    fi
    cat "$log"
    passed=$((passed + $(grep -c '^ok ' "$log")))
    failed=$((failed + $(grep -c '^not ok ' "$log")))
else
    echo "ok fuzz # SKIP clang-14 is not installed (sh build-aux/deps.sh test)"
    skipped=$((skipped + 1))
fi

if [ ! -d tests/node_modules ]; then
    echo "not ok the test clients are not installed: run (cd tests && npm ci)"
    failed=$((failed + 1))
fi
ls tests/e2e/*.test.mjs >/dev/null 2>&1 && run_node end-to-end tests/e2e/*.test.mjs
ls tests/browser/*.test.mjs >/dev/null 2>&1 && run_node browser tests/browser/*.test.mjs

case "$pg_pass" in
'') ;;
all)
    run_node_pg end-to-end tests/e2e/*.test.mjs
    run_node_pg browser tests/browser/*.test.mjs
    ;;
e2e)
    files=""
    for f in tests/e2e/*.test.mjs; do
        n=$(basename "$f" .test.mjs)
        case " $pg_pass_skip " in *" $n "*) continue ;; esac
        files="$files $f"
    done
    run_node_pg end-to-end $files
    ;;
*)
    echo "not ok HUBCAST_TEST_POSTGRESQL_PASS=$pg_pass: expected e2e or all"
    failed=$((failed + 1))
    ;;
esac

echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
