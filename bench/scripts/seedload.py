"""The seed automation on a server started for a measurement (count-statements.py,
instructions-per-run.py): a local Slack stand-in that counts the messages it receives, the
server on a new SQLite file in `directory`, the seed automation, and an admin token
without a rate limit. Loopback only.
"""
import http.client, http.server, json, os, subprocess, threading, time

ADMIN = "tok"
SEED = {"name": "seed", "trigger": {"event": "case.created", "conditions": {"priority": "critical"}},
        "actions": [{"type": "assign_to_queue", "params": {"queue_id": "q_escalations"}},
                    {"type": "send_notification", "params": {"channel": "slack", "message": "Critical case {{ id }} created"}}],
        "status": "active"}
CASE = {"subject": "x", "priority": "critical"}


def slack_sink():
    """A Slack stand-in on loopback: its port, and the list it appends one item to per message."""
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
    return sink.server_port, got


def start(prefix, binary, directory, sink_port, rust_log, stderr):
    """Starts `prefix + [binary, "serve", ...]`; returns the process and the port it listens on."""
    env = dict(os.environ, AUTOMATIONS_ADMIN_TOKEN=ADMIN, RUST_LOG=rust_log)
    p = subprocess.Popen(prefix + [binary, "serve", "--addr", "127.0.0.1:0", "--database-url", f"sqlite://{directory}/db.sqlite",
        "--slack-webhook-url", f"http://127.0.0.1:{sink_port}/hook", "--webhook-allow-private"],
        stdout=subprocess.PIPE, stderr=stderr, env=env, text=True)
    port = None
    for line in p.stdout:
        if line.startswith("listening on "):
            port = int(line.strip().rsplit(":", 1)[1]); break
    threading.Thread(target=lambda: [None for _ in p.stdout], daemon=True).start()
    return p, port


def call(conn, method, path, body=None, tok=ADMIN):
    conn.request(method, path, body=json.dumps(body) if body is not None else None,
                 headers={"authorization": f"Bearer {tok}", "content-type": "application/json"})
    r = conn.getresponse(); data = r.read(); return r.status, data


def make_seed(port, tries=600):
    """Waits for /healthz, then makes the queue, the seed automation and a token without a
    rate limit; returns the token."""
    c0 = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    for _ in range(tries):
        try:
            if call(c0, "GET", "/healthz")[0] == 200: break
        except Exception:
            time.sleep(0.05); c0 = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    assert call(c0, "POST", "/api/v1/records/queue", {"id": "q_escalations", "name": "Escalations"})[0] == 201
    s, b = call(c0, "POST", "/api/v1/automations", SEED); assert s == 201, b
    s, b = call(c0, "POST", "/api/v1/tokens", {"name": "load", "scopes": ["admin"], "rate_limit": "off"}); assert s == 201, b
    return json.loads(b)["token"]
