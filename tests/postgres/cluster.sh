#!/usr/bin/env bash
# Starts a throwaway PostgreSQL cluster on 127.0.0.1 for the test suite and prints its URL.
# Installs the server from Debian packages if it is missing. The cluster runs with fsync off
# (it is thrown away) unless FSYNC=on (benchmarks compare it with SQLite's synchronous=FULL).
# Its directory is printed on stderr ("cluster in DIR"); stop it with `pg_ctl -D DIR/data stop`.
set -euo pipefail

if ! ls -d /usr/lib/postgresql/*/bin >/dev/null 2>&1; then
    export DEBIAN_FRONTEND=noninteractive
    (apt-get update -qq && apt-get install -y -qq postgresql >/dev/null) >&2
fi
bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
dir=$(mktemp -d /tmp/unicas-pg.XXXXXX)
as_owner() {
    # initdb refuses to run as root; the Debian package's postgres user owns the cluster.
    if [ "$(id -u)" = 0 ]; then
        chown postgres "$dir"
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
as_owner "$bin/initdb" -D "$dir/data" -A trust -U postgres -E UTF8 --locale=C.UTF-8 >/dev/null
as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/log" -w start \
    -o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c fsync=${FSYNC:-off} -c max_connections=400" >/dev/null
echo "cluster in $dir" >&2
echo "postgres://postgres@127.0.0.1:$port/postgres"
