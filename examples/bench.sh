#!/usr/bin/env bash
# Runs the measurements recorded in BENCHMARKS.md, all on loopback, each bounded in time:
#  1. the ceiling (examples/ceiling.rs: a CAS server that does no work) and unicas, driven by
#     the same load generator and by wrk with the same Lua script: SSO cycle and minting;
#  2. unicas: logins, validation latency while logins saturate bcrypt, idle and peak memory;
#  3. a million anonymous GET /login (memory stays bounded);
#  4. the SSO cycle with 1,000 and with 1,000,000 live tickets, and with 1,000 and 100,000
#     accounts, and the time to the first answer after start with 100,000 accounts;
#  5. failed-login timing for unknown, real and locked accounts (docs/security.md E02);
#  6. the roster import of 30,000 rows against bcrypt alone at the configured cost;
#  7. two nodes on PostgreSQL (a local cluster, fsync on) against one node on SQLite, driven
#     by the same load generator: each ticket minted on one node and validated on the other.
# Usage: examples/bench.sh [SECONDS]   (needs wrk and python3 for parts of it)
#        PARTS=1,2 examples/bench.sh 10   runs only the parts listed (default: all seven)
set -euo pipefail
cd "$(dirname "$0")/.."
SECS=${1:-10}
want() { [[ ",${PARTS:-1,2,3,4,5,6,7}," == *",$1,"* ]]; }
cargo build -q --release --bin unicas --example loadgen --example ceiling
R=target/release
WORK=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$WORK"' EXIT
LOAD=$R/examples/loadgen

rss() { awk '/VmRSS/ {print $2/1024 " MB"}' /proc/$1/status; }
peak() { awk '/VmHWM/ {print $2/1024 " MB"}' /proc/$1/status; }

# A database with 64 accounts (and N more, sharing one hash, for the scale runs).
make_db() {
  local db=$1 extra=${2:-0}
  for i in $(seq 0 63); do
    $R/unicas --db "$db" user add "bench$i" --name Bench --password Bench-Pass-1 >/dev/null
  done
  $R/unicas --db "$db" service add --name bench --pattern 'https://bench.test/*' >/dev/null
  if [ "$extra" -gt 0 ]; then
    python3 - "$db" "$extra" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1]); n = int(sys.argv[2])
h = db.execute("SELECT password_hash FROM accounts WHERE id='bench0'").fetchone()[0]
db.executemany("INSERT INTO accounts (id, name, kind, password_hash, password_changed_at, created_at, updated_at) VALUES (?, 'x', 'student', ?, 0, 0, 0)",
               ((f"s{i:07d}", h) for i in range(n)))
db.commit()
PY
  fi
}

# serve DB [config lines...]: starts unicas; sets PID.
serve() {
  local db=$1; shift
  printf '%s\n' "$@" > "$WORK/config.toml"
  RUST_LOG=warn $R/unicas --db "$db" --config "$WORK/config.toml" serve --listen 127.0.0.1:18080 >/dev/null 2>&1 &
  PID=$!
  until curl -s -o /dev/null http://127.0.0.1:18080/cas/login; do sleep 0.05; done
}

tgc() {
  local form token
  form=$(curl -s -c "$WORK/jar" 'http://127.0.0.1:18080/cas/login')
  token=$(printf '%s' "$form" | sed -n 's/.*name="execution" value="\([^"]*\)".*/\1/p' | head -1)
  curl -s -b "$WORK/jar" -c "$WORK/jar" -o /dev/null -d "username=bench0&password=Bench-Pass-1&execution=$token" http://127.0.0.1:18080/cas/login
  awk '$6 == "CASTGC" {print $7}' "$WORK/jar" | tail -1
}

make_db "$WORK/bench.db"
PID=
stop() { [ -z "$PID" ] || { kill $PID; wait $PID 2>/dev/null || true; PID=; }; }

if want 1; then
echo "== 1. ceiling and unicas, same clients"
$R/examples/ceiling 127.0.0.1:18090 >/dev/null &
CEIL=$!
sleep 0.5
for mode in sso mint; do echo "ceiling $mode: $($LOAD 127.0.0.1:18090 $mode "$SECS" 64)"; done
command -v wrk >/dev/null && echo "ceiling $(wrk -t2 -c64 -d"${SECS}s" -s examples/sso.lua http://127.0.0.1:18090 | grep 'wrk sso')"
kill $CEIL; wait $CEIL 2>/dev/null || true

serve "$WORK/bench.db"
echo "idle RSS: $(rss $PID)"
for mode in sso mint; do echo "unicas $mode: $($LOAD 127.0.0.1:18080 $mode "$SECS" 64) | RSS $(rss $PID), peak $(peak $PID)"; done
sleep 12  # the minted tickets expire and are swept before the next run
command -v wrk >/dev/null && echo "unicas $(TGC=$(tgc) wrk -t2 -c64 -d"${SECS}s" -s examples/sso.lua http://127.0.0.1:18080 | grep 'wrk sso') | peak $(peak $PID)"
fi

if want 2; then
echo "== 2. logins and validation under bcrypt load (the same server as 1: its peak is of both)"
[ -n "$PID" ] || serve "$WORK/bench.db"
for mode in login mixed; do echo "unicas $mode: $($LOAD 127.0.0.1:18080 $mode "$SECS" 64) | peak $(peak $PID)"; done
python3 - <<'PY' 2>/dev/null || echo "(python bcrypt not installed: pip install bcrypt)"
import bcrypt, time, concurrent.futures as cf
h = bcrypt.hashpw(b"x", bcrypt.gensalt(10)); n = 40; t = time.time()
with cf.ThreadPoolExecutor(2) as ex: list(ex.map(lambda _: bcrypt.checkpw(b"x", h), range(n)))
print(f"bcrypt alone (cost 10, 2 threads): {n / (time.time() - t):.1f} verifications/s")
PY
sleep 12  # the minted tickets expire and are swept
echo "RSS after the runs, tickets expired: $(rss $PID), peak $(peak $PID)"
fi
stop

if want 3; then
echo "== 3. a million anonymous GET /login"
serve "$WORK/bench.db"
echo "idle RSS: $(rss $PID)"
echo "unicas anon: $($LOAD 127.0.0.1:18080 anon 1000 64) | RSS $(rss $PID), peak $(peak $PID)"
kill $PID; wait $PID 2>/dev/null || true
fi

if want 4; then
echo "== 4. scale: live tickets and accounts"
serve "$WORK/bench.db" "[tickets]" "service_ticket_ttl = 600"
echo "sso, 1,000 live tickets: $($LOAD 127.0.0.1:18080 prefill 1 64 >/dev/null; $LOAD 127.0.0.1:18080 sso "$SECS" 64)"
echo "prefill to 1,000,000: $($LOAD 127.0.0.1:18080 prefill 1000 64) | RSS $(rss $PID)"
echo "sso, 1,000,000 live tickets: $($LOAD 127.0.0.1:18080 sso "$SECS" 64) | RSS $(rss $PID), peak $(peak $PID)"
kill $PID; wait $PID 2>/dev/null || true

make_db "$WORK/big.db" 100000
START=$(date +%s%N)
RUST_LOG=warn $R/unicas --db "$WORK/big.db" serve --listen 127.0.0.1:18080 >/dev/null 2>&1 &
PID=$!
until curl -s -o /dev/null http://127.0.0.1:18080/cas/login; do sleep 0.005; done
echo "first answer after start, 100,064 accounts: $(( ($(date +%s%N) - START) / 1000000 )) ms"
echo "sso, 100,064 accounts: $($LOAD 127.0.0.1:18080 sso "$SECS" 64)"
echo "logins, 100,064 accounts: $($LOAD 127.0.0.1:18080 login "$SECS" 64)"
kill $PID; wait $PID 2>/dev/null || true
fi

if want 5; then
echo "== 5. failed-login timing: unknown, real and locked accounts (docs/security.md E02)"
$R/unicas --db "$WORK/bench.db" user lock bench2 >/dev/null
serve "$WORK/bench.db" "[throttle]" "captcha_after = 0" "account_failures = 1000000" \
  "account_failures_global = 1000000" "address_failures = 1000000"
$LOAD 127.0.0.1:18080 timing 200
kill $PID; wait $PID 2>/dev/null || true
fi

if want 6; then
echo "== 6. roster import, 30,000 rows (bcrypt cost 10)"
python3 - "$WORK/roster.csv" 30000 <<'PY'
import sys
W = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
with open(sys.argv[1], "w") as f:
    f.write("account,name,kind,id_number,department,phone,email\n")
    for i in range(int(sys.argv[2])):
        first = f"110105{2000 + i % 8}{1 + i % 12:02d}{1 + i % 28:02d}{i % 1000:03d}"
        check = "10X98765432"[sum(int(d) * w for d, w in zip(first, W)) % 11]
        f.write(f"{2024000000 + i},学生{i},学生,{first}{check},物理学院,,\n")
PY
START=$(date +%s%N)
$R/unicas --db "$WORK/import.db" user import "$WORK/roster.csv" 2>&1 | tail -2
echo "import of 30,000 rows: $(( ($(date +%s%N) - START) / 1000000 )) ms in all"
python3 - <<'PY' 2>/dev/null || echo "(python bcrypt not installed: pip install bcrypt)"
import bcrypt, time, concurrent.futures as cf, os
n = 400; t = time.time()
with cf.ThreadPoolExecutor(os.cpu_count()) as ex:
    list(ex.map(lambda i: bcrypt.hashpw(b"%06d" % i, bcrypt.gensalt(10)), range(n)))
print(f"bcrypt hashing alone (cost 10, {os.cpu_count()} threads): {n / (time.time() - t):.1f} hashes/s")
PY
fi

if want 7; then
echo "== 7. two nodes on PostgreSQL against one node on SQLite, the same clients"
FSYNC=on bash tests/postgres/cluster.sh >"$WORK/pg.url" 2>"$WORK/pg.dir"
PGURL=$(cat "$WORK/pg.url")
PGDIR=$(sed -n 's/^cluster in //p' "$WORK/pg.dir")
pg_stop() { bash tests/postgres/cluster.sh --stop "$PGDIR"; }
psql -q "$PGURL" -c "CREATE DATABASE bench"
PGDB="${PGURL%/*}/bench?sslmode=disable"
U="$R/unicas --db $PGDB --key-file $WORK/pg.key"
for i in $(seq 0 63); do $U user add "bench$i" --name Bench --password Bench-Pass-1 >/dev/null; done
$U service add --name bench --pattern 'https://bench.test/*' >/dev/null
# One bcrypt thread per node: two nodes on this machine's two cores hash on as many threads
# as the one SQLite node does.
printf '[passwords]\nhash_threads = 1\n' > "$WORK/node.toml"
NODES=()
for port in 18081 18082; do
  RUST_LOG=warn $U --config "$WORK/node.toml" serve --listen 127.0.0.1:$port >/dev/null 2>&1 &
  NODES+=($!)
  until curl -s -o /dev/null http://127.0.0.1:$port/cas/login; do sleep 0.05; done
done
serve "$WORK/bench.db"
PGPID=$(head -1 "$PGDIR/data/postmaster.pid")
# PostgreSQL's processes share their buffers: their proportional set sizes add up.
pg_pss() {
  for p in $PGPID $(ps -o pid= --ppid "$PGPID"); do awk '/^Pss:/ {print $2}' /proc/$p/smaps_rollup 2>/dev/null; done |
    awk '{s+=$1} END {print s/1024 " MB"}'
}
for mode in sso login mixed; do
  echo "SQLite, one node, $mode: $($LOAD 127.0.0.1:18080 $mode "$SECS" 64) | peak $(peak $PID)"
  sleep 12
  echo "PostgreSQL, two nodes, $mode: $($LOAD 127.0.0.1:18081,127.0.0.1:18082 $mode "$SECS" 64) | node peaks $(peak ${NODES[0]}), $(peak ${NODES[1]}); PostgreSQL PSS now $(pg_pss)"
  sleep 12
done
stop
kill "${NODES[@]}"; wait "${NODES[@]}" 2>/dev/null || true
pg_stop
fi
