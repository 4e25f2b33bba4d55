#!/bin/sh
# deps.sh - install the Debian 12 packages Hubcast needs to build and test,
# but only those that are missing. Usage: deps.sh [build|test]
set -eu
want="build-essential autoconf automake pkg-config tzdata ca-certificates curl
libavformat-dev libavcodec-dev libavfilter-dev libswscale-dev libswresample-dev libavutil-dev
libmicrohttpd-dev libsqlite3-dev libcurl4-openssl-dev libjansson-dev libsodium-dev nettle-dev
libseccomp-dev libpq-dev"
if [ "${1:-build}" = test ]; then
    want="$want ffmpeg sqlite3 chromium fonts-dejavu-core iproute2 openssl clang-14 libclang-rt-14-dev valgrind"
    # A one-node Ceph cluster with radosgw: the S3 server of tests/e2e/s3.test.mjs
    want="$want ceph-mon ceph-osd ceph-base ceph-common radosgw"
    # PostgreSQL 15: the second catalog backend (tests/e2e/lib/postgres.sh)
    want="$want postgresql-15 postgresql-client-15"
    # nginx: the load balancer in front of two servers (tests/e2e/lib/nginx.mjs)
    want="$want nginx"
fi
command -v node >/dev/null 2>&1 || want="$want nodejs"
command -v npm >/dev/null 2>&1 || want="$want npm"
missing=""
for p in $want; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
echo "installing:$missing"
SUDO=""
[ "$(id -u)" = 0 ] || SUDO="sudo"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
