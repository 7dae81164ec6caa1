#!/usr/bin/env python3
"""Statements per run of the seed automation (README, Performance; bench/REPORT.md).

Starts BIN with sqlx's statement log on a new SQLite file and a local Slack stand-in, makes
the seed automation, sends N critical cases over C keep-alive connections (single creates,
or with BATCH the batch endpoint, BATCH cases a request), waits for the N Slack messages and
prints the statements logged per run, by kind. Loopback only; bounded by N and 120 s.
Usage: python3 count-statements.py BIN N C [BATCH]
"""
import collections, http.client, os, sys, tempfile, threading, time
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from seedload import CASE, call, make_seed, slack_sink, start

BIN, N, C = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
BATCH = int(sys.argv[4]) if len(sys.argv) > 4 else 0
sink_port, got = slack_sink()
d = tempfile.mkdtemp()
log = open(os.path.join(d, "log"), "w")
p, port = start([], BIN, d, sink_port, "sqlx::query=debug", log)
tok = make_seed(port)
log.flush(); start_lines = sum(1 for _ in open(os.path.join(d, "log")))
def worker(k):
    conn = http.client.HTTPConnection("127.0.0.1", port)
    per = N // C
    i = 0
    while i < per:
        if BATCH:
            status, _ = call(conn, "POST", "/api/v1/records/case:batch", {"items": [CASE] * BATCH}, tok)
            i += BATCH
        else:
            status, _ = call(conn, "POST", "/api/v1/records/case", CASE, tok)
            i += 1
        assert status in (200, 201), status
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
kinds = collections.Counter()
for l in stm:
    i = l.find('summary="')
    kinds[l[i+9:i+9+40].split('"')[0] if i >= 0 else "?"] += 1
print(f"{N} runs, {C} conns: requests {t1-t0:.2f}s, delivered {len(got)} by {t2-t0:.2f}s, statements {len(stm)} = {len(stm)/N:.2f}/run")
for k, v in kinds.most_common(25): print(f"  {v/N:7.3f}  {k}")
