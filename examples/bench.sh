#!/usr/bin/env bash
# Runs the measurements recorded in BENCHMARKS.md: the bare-hyper ceiling, then unicas
# (SSO cycle, minting, logins, validation latency while logins saturate bcrypt, idle RSS).
# Loopback only; each run is bounded in time. Usage: examples/bench.sh [SECONDS]
set -euo pipefail
cd "$(dirname "$0")/.."
SECS=${1:-10}
cargo build -q --release --bin unicas --example loadgen --example ceiling
R=target/release
WORK=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$WORK"' EXIT

$R/examples/ceiling 127.0.0.1:18090 >/dev/null &
sleep 0.5
echo "== ceiling (bare hyper, constant CAS body)"
$R/examples/loadgen 127.0.0.1:18090 get "$SECS" 64
kill %1

DB=$WORK/bench.db
for i in $(seq 0 63); do
  $R/unicas --db "$DB" user add "bench$i" --name Bench --password Bench-Pass-1 >/dev/null
done
$R/unicas --db "$DB" service add --name bench --pattern 'https://bench.test/*' >/dev/null
RUST_LOG=warn $R/unicas --db "$DB" serve --listen 127.0.0.1:18080 >/dev/null 2>&1 &
PID=$!
sleep 1
echo "== idle RSS: $(awk '/VmRSS/ {print $2, $3}' /proc/$PID/status)"
for mode in sso mint login mixed; do
  echo "== unicas $mode"
  $R/examples/loadgen 127.0.0.1:18080 "$mode" "$SECS" 64
done
echo "== RSS after load: $(awk '/VmRSS/ {print $2, $3}' /proc/$PID/status)"
echo "== bcrypt alone (cost 10, 2 threads)"
python3 - <<'PY' 2>/dev/null || echo "(python bcrypt not installed)"
import bcrypt, time, concurrent.futures as cf
h = bcrypt.hashpw(b"x", bcrypt.gensalt(10)); n = 40; t = time.time()
with cf.ThreadPoolExecutor(2) as ex: list(ex.map(lambda _: bcrypt.checkpw(b"x", h), range(n)))
print(f"{n / (time.time() - t):.1f} verifications/s")
PY
