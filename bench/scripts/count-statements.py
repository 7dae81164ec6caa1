#!/usr/bin/env python3
"""Statements per run of the seed automation (README, Performance; bench/REPORT.md).

Starts BIN with sqlx's statement log on a new SQLite file and a local Slack stand-in, makes
the seed automation, sends N critical cases over C keep-alive connections (single creates,
or with BATCH the batch endpoint, BATCH cases a request), waits for the N Slack messages and
prints the statements logged per run, by kind. Loopback only; bounded by N and 120 s.
Usage: python3 count-statements.py BIN N C [BATCH]
"""
import http.client, http.server, json, os, subprocess, sys, tempfile, threading, time

BIN, N, C = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
BATCH = int(sys.argv[4]) if len(sys.argv) > 4 else 0
got = []
class Sink(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def do_POST(self):
        n = int(self.headers.get("content-length", 0)); self.rfile.read(n)
        got.append(1)
        self.send_response(200); self.send_header("content-length", "2"); self.end_headers(); self.wfile.write(b"ok")
    def log_message(self, *a): pass
sink = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Sink)
threading.Thread(target=sink.serve_forever, daemon=True).start()
d = tempfile.mkdtemp()
log = open(os.path.join(d, "log"), "w")
env = dict(os.environ, AUTOMATIONS_ADMIN_TOKEN="tok", RUST_LOG="sqlx::query=debug")
p = subprocess.Popen([BIN, "serve", "--addr", "127.0.0.1:0", "--database-url", f"sqlite://{d}/db.sqlite",
    "--slack-webhook-url", f"http://127.0.0.1:{sink.server_port}/hook", "--webhook-allow-private"],
    stdout=subprocess.PIPE, stderr=log, env=env, text=True)
port = None
for line in p.stdout:
    if line.startswith("listening on "):
        port = int(line.strip().rsplit(":", 1)[1]); break
threading.Thread(target=lambda: [None for _ in p.stdout], daemon=True).start()
def call(conn, method, path, body=None):
    conn.request(method, path, body=json.dumps(body) if body is not None else None,
                 headers={"authorization": "Bearer tok", "content-type": "application/json"})
    r = conn.getresponse(); data = r.read(); return r.status, data
c0 = http.client.HTTPConnection("127.0.0.1", port)
for _ in range(200):
    try:
        if call(c0, "GET", "/healthz")[0] == 200: break
    except Exception: time.sleep(0.05); c0 = http.client.HTTPConnection("127.0.0.1", port)
assert call(c0, "POST", "/api/v1/records/queue", {"id": "q_escalations", "name": "Escalations"})[0] == 201
seed = {"name": "seed", "trigger": {"event": "case.created", "conditions": {"priority": "critical"}},
  "actions": [{"type": "assign_to_queue", "params": {"queue_id": "q_escalations"}},
              {"type": "send_notification", "params": {"channel": "slack", "message": "Critical case {{ id }} created"}}],
  "status": "active"}
s, b = call(c0, "POST", "/api/v1/automations", seed); assert s == 201, b
s, b = call(c0, "POST", "/api/v1/tokens", {"name": "load", "scopes": ["admin"], "rate_limit": "off"}); assert s == 201, b
tok = json.loads(b)["token"]
log.flush(); start_lines = sum(1 for _ in open(os.path.join(d, "log")))
def worker(k):
    conn = http.client.HTTPConnection("127.0.0.1", port)
    per = N // C
    i = 0
    while i < per:
        if BATCH:
            body = {"items": [{"subject": "x", "priority": "critical"}] * BATCH}
            conn.request("POST", "/api/v1/records/case:batch", body=json.dumps(body), headers={"authorization": f"Bearer {tok}", "content-type": "application/json"})
            i += BATCH
        else:
            conn.request("POST", "/api/v1/records/case", body=json.dumps({"subject": "x", "priority": "critical"}), headers={"authorization": f"Bearer {tok}", "content-type": "application/json"})
            i += 1
        r = conn.getresponse(); r.read(); assert r.status in (200, 201), r.status
t0 = time.time()
ts = [threading.Thread(target=worker, args=(k,)) for k in range(C)]
[t.start() for t in ts]; [t.join() for t in ts]
t1 = time.time()
while len(got) < N and time.time() - t0 < 120: time.sleep(0.05)
t2 = time.time()
time.sleep(1.0)
p.kill(); p.wait(); log.close()
lines = open(os.path.join(d, "log")).read().splitlines()[start_lines:]
stm = [l for l in lines if "sqlx::query" in l]
import collections
kinds = collections.Counter()
for l in stm:
    i = l.find('summary="')
    kinds[l[i+9:i+9+40].split('"')[0] if i >= 0 else "?"] += 1
print(f"{N} runs, {C} conns: requests {t1-t0:.2f}s, delivered {len(got)} by {t2-t0:.2f}s, statements {len(stm)} = {len(stm)/N:.2f}/run")
for k, v in kinds.most_common(25): print(f"  {v/N:7.3f}  {k}")
