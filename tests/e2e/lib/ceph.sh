#!/bin/sh
# ceph.sh - a throwaway one-node Ceph cluster with an S3 gateway, for tests.
#
#   ceph.sh start DIR RGW_PORT MON_PORT [PAGE]
#                                         prints KEY=VALUE lines once S3 answers;
#                                         PAGE: at most that many keys an object
#                                         listing's page (rgw max listing results)
#   ceph.sh stop DIR                      stops what start started, removes DIR
#
# One ceph-mon, one ceph-osd on the in-memory memstore object store and
# radosgw with the beast frontend on 127.0.0.1:RGW_PORT. Pools have one
# replica, CRUSH places them on OSDs (chooseleaf type 0) and the daemons do
# not authenticate each other (auth none): a cluster that only the tests
# talk to, over loopback. Everything lives in DIR. Run as root, the daemons
# run as the unprivileged user "ceph" (the packages create it) or nobody.
# Exits 77 when the Debian packages are missing.
set -eu

cmd=${1:-}
dir=${2:-}
[ -n "$cmd" ] && [ -n "$dir" ] || { echo "usage: ceph.sh start DIR RGW_PORT MON_PORT | stop DIR" >&2; exit 2; }

if [ "$cmd" = stop ]; then
    for f in "$dir"/run/rgw.pid "$dir"/run/osd.pid "$dir"/run/mon.pid; do
        [ -f "$f" ] || continue
        pid=$(cat "$f")
        kill -TERM "$pid" 2>/dev/null || true
    done
    for f in "$dir"/run/rgw.pid "$dir"/run/osd.pid "$dir"/run/mon.pid; do
        [ -f "$f" ] || continue
        pid=$(cat "$f")
        i=0
        while kill -0 "$pid" 2>/dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
        kill -KILL "$pid" 2>/dev/null || true
    done
    rm -rf "$dir"
    exit 0
fi

rgw_port=${3:?RGW_PORT}
mon_port=${4:?MON_PORT}
page=${5:-1000}
for b in ceph-mon ceph-osd radosgw radosgw-admin monmaptool ceph-authtool ceph; do
    command -v $b >/dev/null 2>&1 || { echo "missing $b (Debian packages ceph-mon ceph-osd radosgw ceph-common)" >&2; exit 77; }
done

as=""
if [ "$(id -u)" = 0 ]; then
    user=nobody
    id ceph >/dev/null 2>&1 && user=ceph
    as="setpriv --reuid=$user --regid=$(id -g $user) --clear-groups --"
fi

mkdir -p "$dir/run" "$dir/log" "$dir/mon/ceph-a" "$dir/osd/ceph-0" "$dir/rgw"
fsid=$(cat /proc/sys/kernel/random/uuid)
osd_uuid=$(cat /proc/sys/kernel/random/uuid)
conf="$dir/ceph.conf"
cat > "$conf" <<CONF
[global]
fsid = $fsid
mon host = v2:127.0.0.1:$mon_port
mon initial members = a
public addr = 127.0.0.1
ms bind ipv6 = false
auth cluster required = none
auth service required = none
auth client required = none
ms cluster mode = crc
ms service mode = crc
ms client mode = crc
ms mon cluster mode = crc
ms mon service mode = crc
ms mon client mode = crc
mon warn on insecure global id reclaim = false
mon warn on insecure global id reclaim allowed = false
run dir = $dir/run
admin socket = $dir/run/\$name.asok
log file = $dir/log/\$name.log
log to stderr = false
err to stderr = true
keyring = $dir/keyring
osd pool default size = 1
osd pool default min size = 1
osd pool default pg num = 8
osd pool default pgp num = 8
osd pool default pg autoscale mode = off
osd crush chooseleaf type = 0
mon allow pool size one = true
mon allow pool delete = true
mon warn on pool no redundancy = false
mon data avail warn = 1
mon data avail crit = 0
mon osd nearfull ratio = .97
mon osd backfillfull ratio = .98
mon osd full ratio = .99
osd objectstore = memstore
memstore device bytes = 2147483648
osd data = $dir/osd/\$cluster-\$id
mon data = $dir/mon/\$cluster-\$id
osd max object name len = 460
osd max object namespace len = 64
rgw data = $dir/rgw
rgw dns name = localhost
rgw frontends = beast endpoint=127.0.0.1:$rgw_port
rgw enable usage log = false
rgw thread pool size = 32
rgw max listing results = $page
CONF

ceph-authtool --create-keyring "$dir/keyring" --gen-key -n mon. --cap mon 'allow *' >/dev/null
monmaptool --create --fsid "$fsid" --addv a "[v2:127.0.0.1:$mon_port]" "$dir/monmap" >/dev/null
[ -z "$as" ] || chown -R "$user:" "$dir"
$as ceph-mon -c "$conf" --mkfs -i a --monmap "$dir/monmap" --keyring "$dir/keyring"
$as ceph-mon -c "$conf" -i a -f >"$dir/log/mon.out" 2>&1 &
echo $! > "$dir/run/mon.pid"

c() { ceph -c "$conf" --connect-timeout 20 "$@"; }
osd_id=$(c osd new "$osd_uuid")
$as ceph-osd -c "$conf" -i "$osd_id" --mkfs --osd-uuid "$osd_uuid" >"$dir/log/osd-mkfs.out" 2>&1
$as ceph-osd -c "$conf" -i "$osd_id" -f >"$dir/log/osd.out" 2>&1 &
echo $! > "$dir/run/osd.pid"

$as radosgw -c "$conf" -n client.rgw.a -f >"$dir/log/rgw.out" 2>&1 &
echo $! > "$dir/run/rgw.pid"

# radosgw answers once it has made its pools; that needs the OSD up.
i=0
until curl -s -o /dev/null "http://127.0.0.1:$rgw_port/"; do
    i=$((i + 1))
    if [ $i -gt 1200 ]; then
        echo "radosgw did not answer on 127.0.0.1:$rgw_port; see $dir/log" >&2
        exit 1
    fi
    for p in mon osd rgw; do
        kill -0 "$(cat "$dir/run/$p.pid")" 2>/dev/null || { echo "ceph $p exited; see $dir/log" >&2; tail -20 "$dir/log/$p.out" >&2; exit 1; }
    done
    sleep 0.1
done

access=HC$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n' | tr a-f A-F)
secret=$(od -An -N24 -tx1 /dev/urandom | tr -d ' \n')
radosgw-admin -c "$conf" -n client.admin user create --uid=hubcast --display-name=hubcast \
    --access-key="$access" --secret="$secret" >/dev/null
echo "endpoint=http://127.0.0.1:$rgw_port"
echo "region=us-east-1"
echo "access_key=$access"
echo "secret_key=$secret"
