# lib.sh - helpers shared by the bench/ scripts (sourced, not run): install
# missing Debian packages, find free loopback ports, wait for a server,
# medians, and a temporary folder removed with every process we started.
# Not for tests: benchmarks print numbers, they never pass or fail on them.

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$BENCH_DIR/.." && pwd)
HUBCAST=${HUBCAST_BIN:-$ROOT/src/hubcast}
BENCH_PIDS=()

die() { echo "bench: $*" >&2; exit 1; }
say() { echo "== $*" >&2; }

# need PROGRAM PACKAGE...: install the Debian packages when PROGRAM is missing.
need() {
    local prog=$1; shift
    command -v "$prog" >/dev/null 2>&1 && return 0
    [ "$(id -u)" = 0 ] || die "$prog is missing: apt-get install -y $* (as root)"
    say "installing $*"
    if [ -z "${BENCH_APT_UPDATED:-}" ]; then
        DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2 || die "apt-get update failed"
        BENCH_APT_UPDATED=1
    fi
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >&2 || die "cannot install $*"
    command -v "$prog" >/dev/null 2>&1 || [ -x "$prog" ] || die "$prog still missing after installing $*"
}

need_hubcast() {
    [ -x "$HUBCAST" ] || die "no hubcast binary at $HUBCAST: build it first (make), or set HUBCAST_BIN"
}

# A temporary folder, readable by nginx's unprivileged workers.
bench_tmp() {
    BENCH_TMP=$(mktemp -d "${TMPDIR:-/tmp}/hubcast-bench.XXXXXX")
    chmod 755 "$BENCH_TMP"
    trap bench_cleanup EXIT
    trap 'exit 130' INT TERM
}

# Stop what we started (by pid, never by name), then remove the folder.
bench_cleanup() {
    local p
    for p in "${BENCH_PIDS[@]}"; do
        kill -TERM "$p" 2>/dev/null
    done
    for p in "${BENCH_PIDS[@]}"; do
        for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$p" 2>/dev/null
        wait "$p" 2>/dev/null
    done
    BENCH_PIDS=()
    [ -n "${BENCH_KEEP:-}" ] && { say "kept $BENCH_TMP"; return; }
    [ -n "${BENCH_TMP:-}" ] && rm -rf "$BENCH_TMP"
}

# stop_pid PID: TERM, wait up to 5 s, then KILL; forget it.
stop_pid() {
    local p=$1 keep=() q
    kill -TERM "$p" 2>/dev/null
    for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$p" 2>/dev/null
    wait "$p" 2>/dev/null
    for q in "${BENCH_PIDS[@]}"; do [ "$q" = "$p" ] || keep+=("$q"); done
    BENCH_PIDS=("${keep[@]}")
}

# A free TCP port on 127.0.0.1 (nothing answers a connect there).
free_port() {
    local p
    for _ in $(seq 200); do
        p=$(( 20000 + RANDOM % 40000 ))
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
            echo "$p"
            return 0
        fi
    done
    die "no free port found"
}

# wait_http URL [SECONDS]: until it answers at all (any status).
wait_http() {
    local url=$1 t=${2:-20}
    for _ in $(seq $((t * 10))); do
        curl -s -o /dev/null --max-time 1 "$url" && return 0
        sleep 0.1
    done
    return 1
}

# median of the numbers given as arguments.
median() {
    printf '%s\n' "$@" | sort -g | awk '{ a[NR] = $1 } END {
        if (NR == 0) { print "nan"; exit }
        if (NR % 2) print a[(NR + 1) / 2]; else print (a[NR / 2] + a[NR / 2 + 1]) / 2 }'
}

# ratio A B with 3 decimals.
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.3f\n", a / b; else print "nan" }'; }
