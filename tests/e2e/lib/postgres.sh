#!/bin/sh
# postgres.sh - a throwaway PostgreSQL 15 server for tests.
#
#   postgres.sh start DIR PORT   prints KEY=VALUE lines (url, port, user,
#                                database, password) once it accepts connections
#   postgres.sh stop DIR         stops what start started, removes DIR
#
# Debian's postgresql-15 binaries (initdb, pg_ctl) run on a cluster in
# DIR/data that listens on 127.0.0.1:PORT only (no Unix socket outside DIR).
# Loopback clients authenticate with a password (scram-sha-256): the role
# "hubcast" owns the database "hubcast". Run as root, the server runs as the
# unprivileged user "postgres" (the package creates it) or nobody, and DIR
# is given to it. Exits 77 when the Debian package is missing.
set -eu

cmd=${1:-}
dir=${2:-}
[ -n "$cmd" ] && [ -n "$dir" ] || { echo "usage: postgres.sh start DIR PORT | stop DIR" >&2; exit 2; }
bin=${HUBCAST_PG_BIN:-/usr/lib/postgresql/15/bin}

as=""
if [ "$(id -u)" = 0 ]; then
    user=nobody
    id postgres >/dev/null 2>&1 && user=postgres
    as="setpriv --reuid=$user --regid=$(id -g $user) --clear-groups --"
fi

if [ "$cmd" = stop ]; then
    if [ -f "$dir/data/postmaster.pid" ]; then
        $as "$bin/pg_ctl" -D "$dir/data" -m immediate -w -t 30 stop >/dev/null 2>&1 || {
            pid=$(head -1 "$dir/data/postmaster.pid" 2>/dev/null || true)
            [ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null || true
        }
    fi
    rm -rf "$dir"
    exit 0
fi

port=${3:?PORT}
for b in initdb pg_ctl postgres; do
    [ -x "$bin/$b" ] || { echo "missing $bin/$b (Debian package postgresql-15)" >&2; exit 77; }
done

mkdir -p "$dir/run"
password=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
printf '%s\n' "$password" > "$dir/pwfile"
[ -n "$as" ] && chown -R "$user:$(id -g $user)" "$dir"
chmod 700 "$dir"

# The superuser is "hubcast" itself: a test may create extensions.
$as "$bin/initdb" -D "$dir/data" -U hubcast --pwfile="$dir/pwfile" -A scram-sha-256 \
    -E UTF8 --locale=C.UTF-8 --no-sync >"$dir/initdb.log" 2>&1 || {
    cat "$dir/initdb.log" >&2
    exit 1
}
rm -f "$dir/pwfile"
cat >> "$dir/data/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$dir/run'
fsync = off
synchronous_commit = off
full_page_writes = off
max_connections = 200
shared_buffers = 32MB
log_min_messages = warning
CONF
cat > "$dir/data/pg_hba.conf" <<HBA
local all all scram-sha-256
host  all all 127.0.0.1/32 scram-sha-256
HBA
$as "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 start >/dev/null 2>&1 || {
    cat "$dir/server.log" >&2
    exit 1
}
PGPASSWORD=$password $as "$bin/createdb" -h 127.0.0.1 -p "$port" -U hubcast hubcast >"$dir/createdb.log" 2>&1 || {
    cat "$dir/createdb.log" >&2
    exit 1
}
echo "url=postgresql://hubcast@127.0.0.1:$port/hubcast"
echo "port=$port"
echo "user=hubcast"
echo "database=hubcast"
echo "password=$password"
