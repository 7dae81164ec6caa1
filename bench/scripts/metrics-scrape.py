#!/usr/bin/env python3
"""Seconds per `GET /metrics` on a big history (bench/REPORT.md, 11:00 update of 2026-12-06).

With `fill`, starts BIN once on a new SQLite file in DIR (to migrate it), stops it and
writes 1,000,000 runs and 2,000,000 ended steps straight into the file. Then starts BIN on
that file and times five scrapes. Loopback only; bounded by the five scrapes.
Usage: python3 metrics-scrape.py BIN DIR [fill]
"""
import http.client, os, sqlite3, subprocess, sys, time
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from seedload import slack_sink, start

BIN, DIR = sys.argv[1], sys.argv[2]
sink_port, _ = slack_sink()
if len(sys.argv) > 3 and sys.argv[3] == "fill":
    os.makedirs(DIR, exist_ok=True)
    p, _ = start([], BIN, DIR, sink_port, "warn", subprocess.DEVNULL)
    p.terminate(); p.wait()
    db = sqlite3.connect(f"{DIR}/db.sqlite")
    statuses = ["completed", "failed", "queued", "waiting"]
    db.executemany(
        "INSERT INTO runs (id, workspace_id, automation_id, version, event_id, object, record_id, status, created_at, duration_ms) "
        "VALUES (?, 'w', 'a', 1, ?, 'case', ?, ?, '2026-12-01T00:00:00.000Z', 5)",
        ((f"r{i}", f"e{i}", f"c{i}", statuses[i % 4]) for i in range(1_000_000)))
    db.executemany(
        "INSERT INTO steps (workspace_id, run_id, step_id, seq, type, status, started_at, finished_at, duration_ms, input) "
        "VALUES ('w', ?, ?, ?, 'send_notification', 'completed', '2026-12-01T00:00:00.000Z', '2026-12-01T00:00:00.005Z', ?, ?)",
        ((f"r{i // 2}", f"s{i % 2}", i % 2, i % 700, '{"channel":"slack","message":"Critical case created"}')
         for i in range(2_000_000)))
    db.commit(); db.close()
p, port = start([], BIN, DIR, sink_port, "warn", subprocess.DEVNULL)
conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
took = []
for _ in range(5):
    t = time.time()
    conn.request("GET", "/metrics")
    conn.getresponse().read()
    took.append(time.time() - t)
print("seconds per scrape:", " ".join(f"{x:.3f}" for x in took))
p.terminate(); p.wait()
