#!/bin/sh
# log-driver.sh - the automake test driver for tests/run.sh (make check):
# shows the run as it goes, keeps it in the .log, and records each "ok" /
# "not ok" line of it as one result in the .trs, so that make check's
# summary counts every test, not one script. Called by the parallel test
# harness as: log-driver.sh --test-name N --log-file L --trs-file T ... -- CMD
set -u
log=/dev/null
trs=/dev/null
while [ $# -gt 0 ]; do
    case "$1" in
    --log-file) log=$2; shift 2 ;;
    --trs-file) trs=$2; shift 2 ;;
    --) shift; break ;;
    --*) shift 2 ;;
    *) break ;;
    esac
done
rcfile=$(mktemp)
trap 'rm -f "$rcfile"' EXIT
{ "$@" 2>&1; echo $? >"$rcfile"; } | tee "$log"
rc=$(cat "$rcfile")
{
    grep -E '^(not )?ok ' "$log" | while IFS= read -r line; do
        case "$line" in
        "not ok "*) echo ":test-result: FAIL ${line#not ok }" ;;
        *"# SKIP"*) echo ":test-result: SKIP ${line#ok }" ;;
        *) echo ":test-result: PASS ${line#ok }" ;;
        esac
    done
    # A run that failed without a "not ok" line (it did not finish) counts
    # as one failure more.
    if [ "$rc" -eq 0 ]; then
        echo ":global-test-result: PASS"
        echo ":recheck: no"
        echo ":copy-in-global-log: no"
    else
        grep -q '^not ok ' "$log" || echo ":test-result: FAIL the run exited with status $rc"
        echo ":global-test-result: FAIL"
        echo ":recheck: yes"
        echo ":copy-in-global-log: yes"
    fi
} >"$trs"
exit 0
