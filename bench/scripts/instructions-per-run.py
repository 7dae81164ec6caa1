#!/usr/bin/env python3
"""Instructions per run of the seed automation in the server, under callgrind (bench/REPORT.md,
15:45 update of 2026-12-05).

Starts BIN under valgrind's callgrind on a new SQLite file with a local Slack stand-in, makes
the seed automation, sends 50 critical cases to warm up, zeroes the counters, sends N more
over C keep-alive connections (single creates), waits for their N Slack messages, dumps the
counters to OUT.1 and stops the server. Instructions per run: the total of OUT.1 divided by
N (`callgrind_annotate OUT.1`). Loopback only; bounded by N and 600 s.
Usage: python3 instructions-per-run.py BIN N C OUT
"""
import http.client, http.server, json, os, subprocess, sys, tempfile, threading, time
BIN, N, C, OUT = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
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
env = dict(os.environ, AUTOMATIONS_ADMIN_TOKEN="tok", RUST_LOG="warn")
p = subprocess.Popen(["valgrind", "--tool=callgrind", "--compress-strings=no", "--compress-pos=no", f"--callgrind-out-file={OUT}", BIN, "serve", "--addr", "127.0.0.1:0", "--database-url", f"sqlite://{d}/db.sqlite",
    "--slack-webhook-url", f"http://127.0.0.1:{sink.server_port}/hook", "--webhook-allow-private"],
    stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env, text=True)
port = None
for line in p.stdout:
    if line.startswith("listening on "):
        port = int(line.strip().rsplit(":", 1)[1]); break
threading.Thread(target=lambda: [None for _ in p.stdout], daemon=True).start()
def call(conn, method, path, body=None, tok="tok"):
    conn.request(method, path, body=json.dumps(body) if body is not None else None,
                 headers={"authorization": f"Bearer {tok}", "content-type": "application/json"})
    r = conn.getresponse(); data = r.read(); return r.status, data
c0 = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
for _ in range(600):
    try:
        if call(c0, "GET", "/healthz")[0] == 200: break
    except Exception: time.sleep(0.1); c0 = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
assert call(c0, "POST", "/api/v1/records/queue", {"id": "q_escalations", "name": "Escalations"})[0] == 201
seed = {"name": "seed", "trigger": {"event": "case.created", "conditions": {"priority": "critical"}},
  "actions": [{"type": "assign_to_queue", "params": {"queue_id": "q_escalations"}},
              {"type": "send_notification", "params": {"channel": "slack", "message": "Critical case {{ id }} created"}}],
  "status": "active"}
s, b = call(c0, "POST", "/api/v1/automations", seed); assert s == 201, b
s, b = call(c0, "POST", "/api/v1/tokens", {"name": "load", "scopes": ["admin"], "rate_limit": "off"}); assert s == 201, b
tok = json.loads(b)["token"]
# warm up: 50 cases
for _ in range(50): call(c0, "POST", "/api/v1/records/case", {"subject": "x", "priority": "critical"}, tok)
while len(got) < 50: time.sleep(0.1)
time.sleep(1)
subprocess.run(["callgrind_control", "-z", str(p.pid)], capture_output=True)
got.clear()
def worker(k):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    for _ in range(N // C):
        s, _b = call(conn, "POST", "/api/v1/records/case", {"subject": "x", "priority": "critical"}, tok); assert s in (200, 201), s
t0 = time.time()
ts = [threading.Thread(target=worker, args=(k,)) for k in range(C)]
[t.start() for t in ts]; [t.join() for t in ts]
while len(got) < N and time.time() - t0 < 600: time.sleep(0.1)
time.sleep(1)
subprocess.run(["callgrind_control", "-d", str(p.pid)], capture_output=True)
print(f"{N} runs in {time.time()-t0:.1f}s, delivered {len(got)}; counters in {OUT}.1")
time.sleep(2)
p.terminate(); p.wait()
