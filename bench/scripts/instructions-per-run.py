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
import http.client, os, subprocess, sys, tempfile, threading, time
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from seedload import CASE, call, make_seed, slack_sink, start

BIN, N, C, OUT = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
sink_port, got = slack_sink()
callgrind = ["valgrind", "--tool=callgrind", "--compress-strings=no", "--compress-pos=no", f"--callgrind-out-file={OUT}"]
p, port = start(callgrind, BIN, tempfile.mkdtemp(), sink_port, "warn", subprocess.DEVNULL)
tok = make_seed(port)
c0 = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
# warm up: 50 cases
for _ in range(50): call(c0, "POST", "/api/v1/records/case", CASE, tok)
while len(got) < 50: time.sleep(0.1)
time.sleep(1)
subprocess.run(["callgrind_control", "-z", str(p.pid)], capture_output=True)
got.clear()
def worker(k):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    for _ in range(N // C):
        status, _ = call(conn, "POST", "/api/v1/records/case", CASE, tok); assert status in (200, 201), status
t0 = time.time()
ts = [threading.Thread(target=worker, args=(k,)) for k in range(C)]
[t.start() for t in ts]; [t.join() for t in ts]
while len(got) < N and time.time() - t0 < 600: time.sleep(0.1)
time.sleep(1)
subprocess.run(["callgrind_control", "-d", str(p.pid)], capture_output=True)
print(f"{N} runs in {time.time()-t0:.1f}s, delivered {len(got)}; counters in {OUT}.1")
time.sleep(2)
p.terminate(); p.wait()
