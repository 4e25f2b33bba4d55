#!/bin/sh
# quickstart.sh - from a fresh Debian 12 checkout to a running Hubcast or a
# full test run: install what is missing, build, then
#   run   start Hubcast at http://localhost:8080 with its data in ./data
#   test  run every test once (make check) and end with
#         "N passed, N failed, N skipped"
set -eu
cd "$(dirname "$0")/.."
what="${1:-run}"
case "$what" in
run|test) ;;
*) echo "usage: $0 run|test" >&2; exit 2 ;;
esac
sh build-aux/deps.sh "$what"
# build-aux/test-driver comes with autoreconf; an older checkout lacks it.
{ [ -x configure ] && [ -f build-aux/test-driver ]; } || autoreconf -fi
[ -f Makefile ] || ./configure ${HUBCAST_CONFIGURE_FLAGS:-}
make -j"$(nproc)"
# Browser libraries (hls.js, tus-js-client) at the versions of the lockfile.
(cd web && npm ci --no-audit --no-fund --loglevel=error)
if [ "$what" = run ]; then
    shift
    exec src/hubcast serve --data ./data "$@"
fi
(cd tests && npm ci --no-audit --no-fund --loglevel=error)
rc=0
make -j"$(nproc)" check || rc=$?
# make check's summary counts every test; the run's own line comes last.
tail -n 1 tests/run.sh.log 2>/dev/null || echo "0 passed, 1 failed, 0 skipped"
exit "$rc"
