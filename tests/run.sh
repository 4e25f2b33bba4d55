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
#   sh tests/run.sh   (make check, CI; HUBCAST_TEST_POSTGRESQL_PASS=e2e)
#       runs everything on SQLite and, beside it, the end-to-end tests
#       again on PostgreSQL, but for those listed in $pg_pass_skip below;
#       HUBCAST_TEST_POSTGRESQL_PASS=all runs every end-to-end and browser
#       test again, and an empty value runs SQLite only.
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
trap 'rm -f "$log" "$log".*; [ -n "$pgdir" ] && sh tests/e2e/lib/postgres.sh stop "$pgdir" >/dev/null 2>&1' EXIT
trap 'exit 130' INT TERM

pg_only=no
[ "${HUBCAST_TEST_BACKEND:-}" = postgresql ] && pg_only=yes
pg_pass=${HUBCAST_TEST_POSTGRESQL_PASS-e2e}
unset HUBCAST_TEST_BACKEND

# End-to-end tests that the PostgreSQL pass leaves out, because running
# them again there would test nothing more: those that never open a
# catalog (transcode, instant-transcoder: the transcoder alone; layers: the
# source tree; confine, jobchild: the job child, which has no catalog), that
# bring their own PostgreSQL already (postgres, tus-s3, scale), that test
# another engine (s3, smtp-tls) or the SQLite file's own disk-full path
# (diskfull; PostgreSQL's is unit-tested). The time-bound instant test
# runs alone, on SQLite (its catalog side is instant-server's, which runs
# on both).
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

# node_run NAME OUT PG FILES...: run the Node test files into OUT (TAP),
# on the run's PostgreSQL when PG is yes ($pg_url set), and leave the
# runner's exit status in OUT.rc. Prints nothing: node_tally does, so that
# two runs can go at once and still print one after the other.
pg_url=""
pg_password=""
node_run() {
    out=$2
    pg=$3
    shift 3
    t0=$(date +%s)
    (
        if [ "$pg" = yes ]; then
            HUBCAST_TEST_BACKEND=postgresql HUBCAST_TEST_PGURL=$pg_url PGPASSWORD=$pg_password
            export HUBCAST_TEST_BACKEND HUBCAST_TEST_PGURL PGPASSWORD
        fi
        HUBCAST_BIN="$build/src/hubcast" exec node --test --test-reporter=tap \
            --test-concurrency="${HUBCAST_TEST_CONCURRENCY:-1}" "$@"
    ) >"$out" 2>&1
    echo $? >"$out.rc"
    echo $(($(date +%s) - t0)) >"$out.secs"
}

# node_tally NAME OUT PG: one ok / not ok line per test of a node_run,
# prefixed with "postgresql: " when PG is yes, and the details of each
# failure; adds them to the counts.
node_tally() {
    name=$1
    out=$2
    echo "== $name"
    if [ "$3" = yes ]; then
        sed 's/^\(not \)\{0,1\}ok [0-9]* - /&postgresql: /' "$out" >"$out.pg" && mv "$out.pg" "$out"
    fi
    grep -E '^(not )?ok ' "$out" || true
    # The details of each failure, indented so that they are not counted again.
    grep -A40 '^not ok' "$out" | grep -v '^--$' | head -300 | sed 's/^/    /' || true
    p=$(sed -n 's/^# pass \([0-9]*\)/\1/p' "$out" | tail -1)
    f=$(sed -n 's/^# fail \([0-9]*\)/\1/p' "$out" | tail -1)
    s=$(sed -n 's/^# skipped \([0-9]*\)/\1/p' "$out" | tail -1)
    if [ -z "$p" ]; then
        echo "the $name runner did not finish (exit $(cat "$out.rc" 2>/dev/null)):"
        tail -50 "$out"
        f=$((${f:-0} + 1))
    fi
    passed=$((passed + ${p:-0}))
    failed=$((failed + ${f:-0}))
    skipped=$((skipped + ${s:-0}))
    echo "# $name: $(cat "$out.secs" 2>/dev/null) s"
    # HUBCAST_TEST_TAP_DIR keeps each run's TAP (durations of every test).
    [ -n "${HUBCAST_TEST_TAP_DIR:-}" ] && cp "$out" "$HUBCAST_TEST_TAP_DIR/$(basename "$out").tap"
    rm -f "$out" "$out.rc" "$out.secs"
}

# run_node NAME FILES...: node_run then node_tally, on SQLite.
run_node() {
    name=$1
    shift
    node_run "$name" "$log.node" no "$@"
    node_tally "$name" "$log.node" no
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
        name=$1
        shift
        node_run "$name" "$log.node" yes "$@"
        node_tally "$name" "$log.node" yes
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
# The files whose tests hold the recorder and the server to the instant
# issue's time bounds (seconds from the end of an upload, or from Publish,
# until playable) run alone, after everything else, so that no other test
# takes their cores.
timed=""
for f in tests/e2e/instant.test.mjs tests/browser/instant.test.mjs; do
    [ -f "$f" ] && timed="$timed $f"
done
# untimed FILES...: those of FILES that are not in $timed.
untimed() {
    for f in "$@"; do
        case " $timed " in *" $f "*) ;; *) [ -f "$f" ] && printf '%s ' "$f" ;; esac
    done
}
e2e=$(untimed tests/e2e/*.test.mjs)
browser=$(untimed tests/browser/*.test.mjs)

# The PostgreSQL pass ($pg_pass): which files run again there.
pg_e2e=""
pg_browser=""
pg_timed=""
case "$pg_pass" in
'') ;;
all)
    pg_e2e=$e2e
    pg_browser=$browser
    pg_timed=$timed
    ;;
e2e)
    for f in $e2e; do
        n=$(basename "$f" .test.mjs)
        case " $pg_pass_skip " in *" $n "*) continue ;; esac
        pg_e2e="$pg_e2e $f"
    done
    ;;
*)
    echo "not ok HUBCAST_TEST_POSTGRESQL_PASS=$pg_pass: expected e2e or all"
    failed=$((failed + 1))
    ;;
esac

# Two lanes run at once: the SQLite end-to-end tests in one; the
# PostgreSQL pass, then the SQLite browser tests, in the other. Most of a
# test's time is spent waiting (on servers, browsers, uploads at real-time
# pace), not computing, so two lanes take much less than one after the
# other on two cores. HUBCAST_TEST_PARALLEL=no runs everything in turn.
pg_rc=none
if [ -n "$pg_e2e$pg_browser$pg_timed" ]; then
    pg_start
    pg_rc=$?
fi
lane_b() {
    if [ "$pg_rc" = 0 ]; then
        [ -n "$pg_e2e" ] && node_run "end-to-end" "$log.pg-e2e" yes $pg_e2e
        [ -n "$pg_browser" ] && node_run "browser" "$log.pg-browser" yes $pg_browser
    fi
    [ -n "$browser" ] && node_run browser "$log.browser" no $browser
    return 0
}
bg=""
if [ "${HUBCAST_TEST_PARALLEL:-yes}" != no ]; then
    echo "== two lanes at once: the end-to-end tests on SQLite; the PostgreSQL pass, then the browser tests"
    lane_b &
    bg=$!
fi
[ -n "$e2e" ] && node_run end-to-end "$log.e2e" no $e2e
if [ -n "$bg" ]; then
    wait "$bg"
else
    lane_b
fi
echo "== the tests held to time bounds, alone"
[ -n "$timed" ] && node_run "time-bound" "$log.timed" no $timed
[ -n "$pg_timed" ] && [ "$pg_rc" = 0 ] && node_run "time-bound" "$log.pg-timed" yes $pg_timed

[ -n "$e2e" ] && node_tally end-to-end "$log.e2e" no
[ -n "$browser" ] && node_tally browser "$log.browser" no
[ -n "$timed" ] && node_tally "time-bound" "$log.timed" no
case "$pg_rc" in
none) ;;
0)
    [ -n "$pg_e2e" ] && node_tally "end-to-end on PostgreSQL" "$log.pg-e2e" yes
    [ -n "$pg_browser" ] && node_tally "browser on PostgreSQL" "$log.pg-browser" yes
    [ -n "$pg_timed" ] && node_tally "time-bound on PostgreSQL" "$log.pg-timed" yes
    ;;
77)
    echo "ok postgresql: the PostgreSQL pass # SKIP PostgreSQL 15 is not installed (sh build-aux/deps.sh test)"
    skipped=$((skipped + 1))
    ;;
*)
    echo "not ok postgresql: the PostgreSQL pass: the PostgreSQL test server did not start"
    cat "$log"
    failed=$((failed + 1))
    ;;
esac

echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
