#!/usr/bin/env python3
"""The b-trees each commit of a seed create writes (bench/REPORT.md, issue 22).

Every b-tree a commit touches is at least one page, one WAL frame, two `pwrite64` calls and
a checksum, whatever the commit's size. This starts BIN on a new SQLite file with a local
Slack stand-in, makes the seed automation, sends a few cases to warm the tables, truncates
the WAL, then sends N critical cases one at a time (one commit each), waits for their Slack
messages, and reads the WAL: the pages of each commit, named by their b-tree (SQLite's
`dbstat` table; `sqlite_schema` is page 1, the header, written when the file grows). Prints
the commits grouped by the b-trees they wrote. Loopback only; bounded by N and 60 s.
Usage: python3 wal-pages.py BIN N
"""
import collections, http.client, os, sqlite3, struct, sys, tempfile, time
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from seedload import CASE, call, make_seed, slack_sink, start

BIN, N = sys.argv[1], int(sys.argv[2])
sink_port, got = slack_sink()
d = tempfile.mkdtemp()
p, port = start([], BIN, d, sink_port, "warn", open(os.devnull, "w"))
db = os.path.join(d, "db.sqlite")
try:
    tok = make_seed(port)
    conn = http.client.HTTPConnection("127.0.0.1", port)
    send = lambda: call(conn, "POST", "/api/v1/records/case", CASE, tok)[0]
    for _ in range(5):
        assert send() == 201
    deadline = time.time() + 60
    while len(got) < 5 and time.time() < deadline: time.sleep(0.05)
    time.sleep(0.5)
    c = sqlite3.connect(db); c.execute("PRAGMA wal_checkpoint(TRUNCATE)"); c.close()
    for _ in range(N):
        assert send() == 201
    while len(got) < N + 5 and time.time() < deadline: time.sleep(0.05)
    time.sleep(0.5)
    wal = open(db + "-wal", "rb").read()
    page_size = struct.unpack(">I", wal[8:12])[0]
    frames, off = [], 32
    while off + 24 + page_size <= len(wal):
        frames.append(struct.unpack(">II", wal[off:off + 8]))  # page number, size if a commit
        off += 24 + page_size
    c = sqlite3.connect(db)
    owner = {page: name for name, page in c.execute("SELECT name, pageno FROM dbstat")}
    commits, current = [], []
    for page, commit in frames:
        current.append(owner.get(page, "(free)"))
        if commit:
            commits.append(current); current = []
    print(f"{len(frames)} frames in {len(commits)} commits for {N} single creates")
    shapes = collections.Counter(tuple(sorted(set(cm))) for cm in commits)
    for shape, n in shapes.most_common():
        print(f"{n} commits writing {len(shape)} b-trees: {', '.join(shape)}")
finally:
    p.kill()
