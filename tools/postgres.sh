#!/usr/bin/env bash
# A throwaway PostgreSQL for tests and benchmarks, on 127.0.0.1 only.
#
#   tools/postgres.sh start DIR [PORT]   initdb into DIR (if new) and start; prints the server's URL
#   tools/postgres.sh stop DIR [MODE]    stop (MODE: fast, the default, or immediate: a crash)
#   tools/postgres.sh url DIR            the URL of a server started in DIR
#
# Installs Debian's postgresql when initdb is absent. initdb refuses root, so as root the server
# runs as the postgres user. Durability settings stay at PostgreSQL's defaults (fsync and
# synchronous_commit on): the crash tests rely on them.
set -euo pipefail

pg_bin() {
    if command -v initdb >/dev/null 2>&1; then dirname "$(readlink -f "$(command -v initdb)")"; return; fi
    local found
    found=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)
    if [ -z "$found" ]; then
        local sudo=""
        [ "$(id -u)" -eq 0 ] || sudo="sudo"
        $sudo apt-get update -qq >&2
        $sudo apt-get install -y -qq postgresql >/dev/null
        found=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
    fi
    echo "$found"
}

as_owner() {
    if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

cmd=${1:?usage: tools/postgres.sh start|stop|url DIR [PORT|MODE]}
dir=${2:?a folder for the server}
bin=$(pg_bin)

case "$cmd" in
start)
    port=${3:-54329}
    mkdir -p "$dir"
    dir=$(cd "$dir" && pwd)
    if [ "$(id -u)" -eq 0 ]; then chown postgres "$dir"; chmod 700 "$dir"; fi
    if [ ! -f "$dir/data/PG_VERSION" ]; then
        as_owner "$bin/initdb" -D "$dir/data" -U esm -A trust --no-sync >"$dir/initdb.log"
    fi
    if ! as_owner "$bin/pg_ctl" -D "$dir/data" status >/dev/null 2>&1; then
        as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
            -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c max_connections=200" start >/dev/null
    fi
    echo "$port" >"$dir/port"
    psql=$(command -v psql || echo "$bin/psql")
    "$psql" -h 127.0.0.1 -p "$port" -U esm -d postgres -qAt -c "SELECT 1 FROM pg_database WHERE datname = 'esmlog'" | grep -q 1 \
        || "$psql" -h 127.0.0.1 -p "$port" -U esm -d postgres -q -c "CREATE DATABASE esmlog"
    echo "postgres://esm@127.0.0.1:$port/esmlog"
    ;;
stop)
    as_owner "$bin/pg_ctl" -D "$dir/data" -m "${3:-fast}" -w stop >/dev/null
    ;;
url)
    echo "postgres://esm@127.0.0.1:$(cat "$dir/port")/esmlog"
    ;;
*)
    echo "usage: tools/postgres.sh start|stop|url DIR [PORT|MODE]" >&2
    exit 2
    ;;
esac
