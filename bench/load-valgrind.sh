#!/usr/bin/env bash
# load-valgrind.sh - memcheck over hubcast serve with one upload and N
# playback requests, for two values of N, and over hubcast transcode of
# the same clip: what is lost or in error must not grow with N. Run by
# `bench/load valgrind`; BENCH_N (default "50 500") sets the two counts.
set -uo pipefail
source "$(dirname "$0")/lib.sh"
bench_tmp

VG=(valgrind --tool=memcheck --leak-check=full --show-leak-kinds=definite,indirect
    --errors-for-leak-kinds=definite --track-origins=no --num-callers=30)
clip=$BENCH_TMP/clip.mp4
ffmpeg -v error -y -f lavfi -i testsrc2=size=320x240:rate=25 -f lavfi -i sine -t 4 \
    -c:v libx264 -preset ultrafast -c:a aac -shortest "$clip" || die "ffmpeg failed"

summary() {  # summary LOGFILE: "definitely D B, indirectly I B, errors E"
    local d i e
    d=$(sed -n 's/.*definitely lost: \([0-9,]*\) bytes.*/\1/p' "$1" | tail -1)
    i=$(sed -n 's/.*indirectly lost: \([0-9,]*\) bytes.*/\1/p' "$1" | tail -1)
    e=$(sed -n 's/.*ERROR SUMMARY: \([0-9,]*\) errors.*/\1/p' "$1" | tail -1)
    echo "definitely lost ${d:-0} B, indirectly lost ${i:-0} B, errors ${e:-?}"
}

for n in ${BENCH_N:-50 500}; do
    data=$BENCH_TMP/data-$n
    port=$(free_port)
    url=http://127.0.0.1:$port
    say "serve under memcheck: one upload, then $n playback requests"
    "${VG[@]}" --log-file="$BENCH_TMP/serve-$n.vg" "$HUBCAST" serve --data "$data" \
        --listen "127.0.0.1:$port" --workers 0 >/dev/null 2>&1 &
    spid=$!
    BENCH_PIDS+=("$spid")
    wait_http "$url/healthz" 120 || die "serve did not start under valgrind"
    echo 'a good password' | "$HUBCAST" user add v@example.com --name V --password-stdin --data "$data" >/dev/null
    tok=$("$HUBCAST" user token v@example.com --data "$data")
    curl -s -o /dev/null -w '%{http_code}\n' -H "Authorization: Bearer $tok" -H 'Content-Type: video/mp4' \
        --data-binary @"$clip" "$url/api/updates?title=vg" | grep -q 201 || die "upload refused"
    # A worker outside valgrind transcodes it; the server serves it.
    "$HUBCAST" worker --data "$data" >/dev/null 2>&1 &
    wpid=$!
    BENCH_PIDS+=("$wpid")
    for _ in $(seq 600); do
        curl -s -H "Authorization: Bearer $tok" "$url/api/updates/1" | grep -q '"status":"ready"' && break
        sleep 0.5
    done
    stop_pid "$wpid"
    seg=$(curl -s -H "Authorization: Bearer $tok" "$url/media/1/240p/index.m3u8" | grep -v '^#' | head -1)
    [ -n "$seg" ] || die "the update did not become playable"
    urls=()   # one kept-alive connection, -o /dev/null for each URL
    for i in $(seq "$n"); do
        case $((i % 3)) in
        0) urls+=(-o /dev/null "$url/media/1/master.m3u8") ;;
        1) urls+=(-o /dev/null "$url/media/1/240p/index.m3u8") ;;
        2) urls+=(-o /dev/null "$url/media/1/240p/$seg") ;;
        esac
    done
    codes=$(curl -s -w '%{http_code}\n' -H "Authorization: Bearer $tok" "${urls[@]}" | sort | uniq -c | tr -s ' ' | tr '\n' ' ')
    stop_pid "$spid"
    sleep 1
    echo "serve, 1 upload + $n playback requests (answers: $codes): $(summary "$BENCH_TMP/serve-$n.vg")"
done

say "transcode under memcheck"
"${VG[@]}" --log-file="$BENCH_TMP/transcode.vg" "$HUBCAST" transcode "$clip" "$BENCH_TMP/out" \
    --preset ultrafast >/dev/null 2>&1
echo "transcode of a 4 s 320x240 clip (exit $?): $(summary "$BENCH_TMP/transcode.vg")"
[ -n "${BENCH_KEEP:-}" ] && say "valgrind logs in $BENCH_TMP"
exit 0
