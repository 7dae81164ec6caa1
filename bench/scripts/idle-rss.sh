#!/usr/bin/env bash
# Idle memory of the server (README, Performance): N starts of `BIN serve` on a new SQLite
# file each; prints the time until /healthz answers and, SETTLE seconds later, VmRSS,
# RssAnon and RssFile (kB, /proc/PID/status) and the number of threads. Loopback only.
# Usage: idle-rss.sh BIN [N=5] [SETTLE=3]
set -euo pipefail
BIN=$1; N=${2:-5}; SETTLE=${3:-3}
export AUTOMATIONS_ADMIN_TOKEN=idle-token
for _ in $(seq "$N"); do
  DIR=$(mktemp -d); PORT=19$((RANDOM%900+100))
  t0=$(date +%s%N)
  "$BIN" serve --addr 127.0.0.1:$PORT --database-url "sqlite://$DIR/a.db" >"$DIR/log" 2>&1 & PID=$!
  until curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null; do sleep 0.002; done
  t1=$(date +%s%N)
  sleep "$SETTLE"
  mem=$(awk '/^VmRSS:/{r=$2}/^RssAnon:/{a=$2}/^RssFile:/{f=$2}END{print r" kB (anon "a", file "f")"}' /proc/$PID/status)
  echo "healthy after $(( (t1-t0)/1000000 )) ms; RSS $mem; threads $(ls /proc/$PID/task | wc -l)"
  kill $PID; wait $PID 2>/dev/null || true; rm -rf "$DIR"
done
