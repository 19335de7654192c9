#!/usr/bin/env bash
# Starts a throwaway PostgreSQL cluster on 127.0.0.1 for the test suite and prints its URL.
# Installs the server from Debian packages if it is missing. The cluster runs with fsync off
# (it is thrown away) unless FSYNC=on (benchmarks compare it with SQLite's synchronous=FULL).
# Its directory is printed on stderr ("cluster in DIR"); `cluster.sh --stop DIR` stops and
# removes it.
set -euo pipefail

as_postgres() {
    # initdb and pg_ctl refuse to run as root; the Debian package's postgres user owns the
    # cluster.
    if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

# `cluster.sh --stop DIR`: stops the cluster in DIR and removes it.
if [ "${1:-}" = --stop ]; then
    bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
    as_postgres "$bin/pg_ctl" -D "$2/data" -m immediate stop >/dev/null 2>&1 || true
    rm -rf "$2"
    exit 0
fi

if ! ls -d /usr/lib/postgresql/*/bin >/dev/null 2>&1 || ! command -v openssl >/dev/null; then
    export DEBIAN_FRONTEND=noninteractive
    (apt-get update -qq && apt-get install -y -qq postgresql openssl >/dev/null) >&2
fi
bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
dir=$(mktemp -d /tmp/unicas-pg.XXXXXX)
as_owner() {
    [ "$(id -u)" != 0 ] || chown postgres "$dir"
    as_postgres "$@"
}
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
as_owner "$bin/initdb" -D "$dir/data" -A trust -U postgres -E UTF8 --locale=C.UTF-8 >/dev/null
# TLS for the tests that connect with sslmode=require: a throwaway CA (ca.crt) and a
# certificate for 127.0.0.1 it signed, where PostgreSQL looks by default (server.crt and
# server.key in the data directory); the tests find ca.crt there (SHOW data_directory).
d="$dir/data"
openssl req -x509 -newkey rsa:2048 -nodes -days 7 -subj "/CN=unicas test CA" \
    -keyout "$d/ca.key" -out "$d/ca.crt" 2>/dev/null
openssl req -newkey rsa:2048 -nodes -subj "/CN=127.0.0.1" \
    -keyout "$d/server.key" -out "$d/server.csr" 2>/dev/null
printf 'subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\n' > "$d/server.ext"
openssl x509 -req -in "$d/server.csr" -CA "$d/ca.crt" -CAkey "$d/ca.key" -CAcreateserial \
    -days 7 -extfile "$d/server.ext" -out "$d/server.crt" 2>/dev/null
chmod 0600 "$d/server.key" "$d/ca.key"
chmod 0644 "$d/server.crt" "$d/ca.crt"
[ "$(id -u)" != 0 ] || chown postgres "$d"/server.* "$d"/ca.*
as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/log" -w start \
    -o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c fsync=${FSYNC:-off} -c max_connections=400 -c ssl=on" >/dev/null
echo "cluster in $dir" >&2
# Plain connections for the suite; the TLS test asks for sslmode=require itself.
echo "postgres://postgres@127.0.0.1:$port/postgres?sslmode=disable"
