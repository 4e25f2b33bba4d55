#!/bin/sh
# run.sh - run every libFuzzer target of tests/fuzz for a while (default
# 20 s each; FUZZ_SECONDS or the first argument), on its committed corpus
# (tests/fuzz/corpus/<target>) plus what earlier runs found
# (tests/fuzz/work/<target>). The transcoder's input target also gets
# seeds made here with ffmpeg. Prints one "ok"/"not ok" line per target,
# with its executions; a crash leaves its input in tests/fuzz/work.
# Built by `make fuzz`, which calls this script.
set -u
secs=${1:-${FUZZ_SECONDS:-20}}
bin=tests/fuzz/bin
work=tests/fuzz/work
corpus=$(dirname "$0")/corpus
failed=0
mkdir -p "$work"

# Seeds for the safe-input path: tiny clips in every container we read,
# a Matroska file with a 100 s timestamp gap, an MPEG-TS stream whose
# resolution changes half-way, and an audio-only file.
seeds="$work/seeds-fuzz_input"
if [ ! -d "$seeds" ] && command -v ffmpeg >/dev/null 2>&1; then
    mkdir -p "$seeds"
    ff() { ffmpeg -v error -y "$@" </dev/null; }
    src="-f lavfi -i testsrc=size=64x48:rate=10 -f lavfi -i sine=frequency=440:sample_rate=8000 -t 1"
    ff $src -c:v libx264 -preset ultrafast -c:a aac -shortest "$seeds/a.mp4"
    ff $src -c:v libx264 -preset ultrafast -c:a aac -shortest -f mov "$seeds/b.mov"
    ff $src -c:v libvpx -deadline realtime -c:a libopus -shortest "$seeds/c.webm"
    ff $src -c:v mpeg4 -c:a mp3 -shortest "$seeds/d.avi"
    ff -f lavfi -i testsrc=size=64x48:rate=10 -t 2 -c:v libx264 -preset ultrafast \
       -vf "setpts=PTS+gt(N\,9)*100/TB" -f matroska "$seeds/e-gap.mkv"
    ff -f lavfi -i testsrc=size=64x48:rate=10 -t 1 -c:v libx264 -preset ultrafast -f mpegts "$work/ts1"
    ff -f lavfi -i testsrc=size=96x64:rate=10 -t 1 -c:v libx264 -preset ultrafast -f mpegts \
       -output_ts_offset 1 "$work/ts2"
    cat "$work/ts1" "$work/ts2" >"$seeds/f-resize.ts"
    rm -f "$work/ts1" "$work/ts2"
    ff -f lavfi -i sine=frequency=440:sample_rate=8000 -t 1 -c:a aac "$seeds/g-audio.m4a"
fi

for t in fuzz_sniff fuzz_time fuzz_router fuzz_playlist fuzz_input fuzz_request; do
    if [ ! -x "$bin/$t" ]; then
        echo "not ok fuzz $t - not built (make fuzz)"
        failed=$((failed + 1))
        continue
    fi
    mkdir -p "$work/$t"
    dirs="$work/$t $corpus/$t"
    maxlen=4096
    leaks=1
    case $t in
    fuzz_input) [ -d "$seeds" ] && dirs="$dirs $seeds"; maxlen=65536 ;;
    fuzz_request) leaks=0 ;;   # the server keeps its threads and catalogs to the end
    esac
    log="$work/$t.log"
    ASAN_OPTIONS=detect_leaks=$leaks:allocator_may_return_null=1 \
    UBSAN_OPTIONS=print_stacktrace=1 \
    "$bin/$t" -max_total_time="$secs" -timeout=30 -rss_limit_mb=3072 -max_len=$maxlen \
        -print_final_stats=1 -artifact_prefix="$work/$t-" -detect_leaks=$leaks $dirs >"$log" 2>&1
    rc=$?
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1)
    if [ "$rc" -eq 0 ]; then
        echo "ok fuzz $t: ${execs:-?} runs in ${secs} s, $cov, no crash"
    else
        echo "not ok fuzz $t - exit $rc after ${execs:-?} runs; see $log"
        grep -E 'ERROR|SUMMARY|runtime error|Test unit written' "$log" | head -5 | sed 's/^/# /'
        failed=$((failed + 1))
    fi
done
[ "$failed" -eq 0 ]
