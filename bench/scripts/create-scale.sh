#!/usr/bin/env bash
# Create cost as a workspace grows (README, Performance), through HTTP on the release
# binary: creates automations one at a time (4 triggers, every 5th a draft), prints the
# p50/p99 of 40 creates at each checkpoint, then the restart-to-ready time and RSS.
# Loopback only; a temporary SQLite file. Usage: create-scale.sh BIN [CHECKPOINTS]
set -euo pipefail
BIN=$1; AT=${2:-300,1500,5000,10000}
DIR=$(mktemp -d); PORT=18$((RANDOM%900+100))
export AUTOMATIONS_ADMIN_TOKEN=scale-token
start() { "$BIN" serve --addr 127.0.0.1:$PORT --database-url "sqlite://$DIR/a.db" >"$DIR/log" 2>&1 & PID=$!; }
ready() { local t0=$(date +%s%N); until curl -sf "http://127.0.0.1:$PORT/readyz" >/dev/null; do sleep 0.005; done; echo $(( ($(date +%s%N)-t0)/1000000 )); }
def() { local n=$1; local ev field st=active
  case $((n%4)) in 0) ev=case.created field=subject;; 1) ev=case.updated field=subject;; 2) ev=lead.created field=email;; 3) ev=opportunity.created field=name;; esac
  [ $((n%5)) -eq 0 ] && st=draft
  printf '{"name":"automation %d","trigger":{"event":"%s","conditions":{"%s":"value %d"}},"actions":[{"type":"send_notification","params":{"channel":"slack","message":"hit %d"}}],"status":"%s"}' $n $ev $field $n $n $st; }
create() { curl -s -o /dev/null -w '%{http_code} %{time_total}\n' -X POST "http://127.0.0.1:$PORT/api/v1/automations" -H "Authorization: Bearer scale-token" -H 'Content-Type: application/json' -d "$(def $1)"; }
start; echo "ready after start: $(ready) ms (empty database)"
made=0
for at in ${AT//,/ }; do
  while [ $made -lt $at ]; do r=$(create $made); [ "${r%% *}" = 201 ] || { echo "create $made: $r"; exit 1; }; made=$((made+1)); done
  : > "$DIR/s"; for i in $(seq 40); do create $made | awk '{print $2}' >> "$DIR/s"; made=$((made+1)); done
  sort -n "$DIR/s" > "$DIR/ss"
  echo "at $at: create p50 $(awk 'NR==20{printf "%.2f", $1*1000}' $DIR/ss) ms, p99 $(awk 'NR==40{printf "%.2f", $1*1000}' $DIR/ss) ms; RSS $(awk '/VmRSS/{print $2}' /proc/$PID/status) kB"
done
kill $PID; wait $PID 2>/dev/null || true
start; echo "restart to ready with $made automations: $(ready) ms; RSS $(awk '/VmRSS/{print $2}' /proc/$PID/status) kB"
sleep 2; echo "idle RSS after 2 s: $(awk '/VmRSS/{print $2}' /proc/$PID/status) kB"
kill $PID; wait $PID 2>/dev/null || true; rm -rf "$DIR"
