#!/bin/sh
# run.sh - every test: the C unit tests, then the end-to-end tests and the
# browser tests (Node's test runner against the real binary; headless
# Chromium for the browser) and short runs of the fuzzers. Prints one "ok"/"not ok" line per test and
# ends with "N passed, N failed, N skipped". `make check` runs it through
# tests/log-driver.sh, with HUBCAST_BUILDDIR set to the build folder.
set -u
cd "$(dirname "$0")/.."
src=$(pwd)
build=$(cd "${HUBCAST_BUILDDIR:-.}" && pwd)
passed=0
failed=0
skipped=0
log=$(mktemp)
trap 'rm -f "$log"' EXIT

for t in "$build"/tests/unit/test_*; do
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

run_node() {
    name=$1
    shift
    echo "== $name"
    HUBCAST_BIN="$build/src/hubcast" node --test --test-reporter=tap \
        --test-concurrency="${HUBCAST_TEST_CONCURRENCY:-1}" "$@" >"$log" 2>&1
    rc=$?
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

echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
