#!/usr/bin/env python3
# gen-posture.py -- writes posture JSON logs shaped like the daemon's
# (milter/posture_log.c), for the report tests and the report benchmark.
#
#   gen-posture.py test DIR [SEED]   a mix of good and bad input in DIR: several
#       hosts, plain and gzip files, a truncated gzip file, lines that are not
#       JSON, a huge line, a future schema, link lines, unknown connectors,
#       hostile bytes in names. The expected figures are NOT written here: the test
#       computes them independently by reading the files back.
#   gen-posture.py bench FILE BYTES  clean lines until FILE holds BYTES bytes.
#
# Deterministic for a given seed: a failing test can be rerun on the same input.
import gzip
import time
import json
import os
import random
import sys

CONNECTORS = ["bank", "insurer", "payroll", "legal", "partner-%d"]
REASONS = ["tls_required: no TLS", "min_tls_version: TLSv1.2 < TLSv1.3",
           "cert_name: 'mx.example.net' not in [mx.bank.example]",
           "issuer: 'Evil CA' not allowed", "verify: certificate not verified"]


def record(rnd, t, host, policy, conn, schema=None, maxr=4):
    tls = rnd.choice(["TLSv1.3", "TLSv1.3", "TLSv1.2", "TLSv1.2", "TLSv1", None])
    verdict = rnd.choice(["pass", "pass", "pass", "fail", "none", "error"])
    action = {"pass": "accept", "none": "accept"}.get(
        verdict, rnd.choice(["reject", "tempfail", "quarantine", "tag"]))
    mode = rnd.choice(["enforce", "enforce", "monitor"])
    nr = rnd.randint(1, maxr)
    cn = rnd.choice(["mx1.%s.example", "mx2.%s.example"]) % (conn or "default")
    if t > 1764500000 + 5 * 86400:
        issuer = rnd.choice(["R11", "E6"])          # a rollover on day 6
    else:
        issuer = "R10"
    reasons = [] if verdict in ("pass", "none") else rnd.sample(REASONS, rnd.randint(1, 2))
    r = {}
    if schema is not None:
        r["schema"] = schema
    r.update({
        "time": "%sZ" % time.strftime("%Y-%m-%dT%H:%M:%S",
                                                     time.gmtime(t)),
        "queue_id": "%010X" % rnd.getrandbits(40),
        "delivered": action in ("accept", "tag", "quarantine"),
        "connector": conn, "verdict": verdict, "action": action, "mode": mode,
        "client_name": cn, "client_addr": "192.0.2.%d" % rnd.randint(1, 254),
        "from": "sender%d@%s.example" % (rnd.randint(1, 99), conn or "default"),
        "rcpts": nr, "tls": tls,
        "cipher": None if tls is None else "TLS_AES_256_GCM_SHA384",
        "bits": None if tls is None else rnd.choice([256, 128, 112]),
        "fs": None if tls is None else rnd.choice(["yes", "yes", "no"]),
        "cert": None if tls is None else cn,
        "issuer": None if tls is None else issuer,
        "root": None if tls is None else "ISRG Root X1",
        "verified": None if tls is None else rnd.choice(["yes", "yes", "no"]),
        "reasons": reasons,
        "recipients": [{"rcpt": "user%d@corp.example" % i, "connector": conn,
                        "verdict": verdict, "action": action, "mode": mode,
                        "refused": action in ("reject", "tempfail"), "reasons": reasons}
                       for i in range(nr)],
    })
    if host is not None:
        r["host"] = host
    if policy is not None:
        r["policy"] = policy
    return json.dumps(r, separators=(",", ":"))


def test(d, seed):
    rnd = random.Random(seed)
    t0 = 1764500000         # 2025-11-30
    hosts = [("mx1", "sha256:0123456789abcdef"), ("mx2", "sha256:fedcba9876543210"),
             (None, None)]   # an old daemon: no host, no policy
    files = {"mx1.jsonl": [], "mx2.jsonl.gz": [], "old.jsonl": [], "mx1.jsonl.1.gz": []}
    names = list(files)
    for i in range(3000):
        t = t0 + rnd.randint(0, 10 * 86400)
        h = rnd.randrange(3)
        conn = rnd.choice(CONNECTORS + [None])
        if conn == "partner-%d":
            conn = "partner-%d" % rnd.randint(1, 5)
        files[names[h] if rnd.random() < 0.8 else "mx1.jsonl.1.gz"].append(
            record(rnd, t, hosts[h][0], hosts[h][1], conn))
    bad = files["mx1.jsonl"]
    bad.insert(10, "this is not JSON")
    bad.insert(20, '{"time":"2025-12-01T00:00:00Z",')          # cut short
    bad.insert(30, "[1,2,3]")
    bad.insert(40, '{"queue_id":"NOTIME"}')
    bad.insert(50, "x" * (1024 * 1024 + 10))                   # huge
    bad.insert(60, json.dumps({"schema": 1, "type": "link", "prev": "00" * 32,
                               "time": "2025-12-01T00:00:00Z"}))
    bad.insert(70, record(rnd, t0 + 3600, "mx1", hosts[0][1], "bank", schema=2)[:-1]
               + ',"newfield":{"x":[1,2]}}')
    bad.insert(80, record(rnd, t0 + 7200, "mx1", hosts[0][1], "evil\u001b[31m\r\nname<b>\","))
    bad.insert(90, record(rnd, t0 + 7300, "mx1", hosts[0][1],
                          "long-" + "y" * 5000))                # huge field
    bad.insert(100, "")
    with open(os.path.join(d, "mx1.jsonl"), "w") as f:
        f.write("\n".join(files["mx1.jsonl"]) + "\n")
    with open(os.path.join(d, "old.jsonl"), "w") as f:
        f.write("\n".join(files["old.jsonl"]))                   # no final newline
    with gzip.open(os.path.join(d, "mx2.jsonl.gz"), "wt") as f:
        f.write("\n".join(files["mx2.jsonl.gz"]) + "\n")
    full = gzip.compress(("\n".join(files["mx1.jsonl.1.gz"]) + "\n").encode())
    with open(os.path.join(d, "mx1.jsonl.1.gz"), "wb") as f:
        f.write(full[:len(full) * 2 // 3])                     # truncated


def bench(path, size):
    rnd = random.Random(1)
    t0 = 1764500000
    # A pool of lines reused with fresh times keeps generation fast; one or two
    # recipients a line gives the 1.6 million messages per GB.
    pool = [record(rnd, t0, "mx%d" % (i % 3 + 1), "sha256:0123456789abcdef",
                   rnd.choice(["bank", "insurer", "payroll", "legal", None] +
                              ["partner-%d" % k for k in range(40)]), maxr=2)
            for i in range(5000)]
    n = 0
    with open(path, "w") as f:
        i = 0
        while n < size:
            t = t0 + i * 2
            line = pool[i % len(pool)]
            ts = "%sZ" % time.strftime("%Y-%m-%dT%H:%M:%S",
                                                     time.gmtime(t))
            line = '{"time":"%s"%s\n' % (ts, line[line.index(","):])
            f.write(line)
            n += len(line)
            i += 1


if __name__ == "__main__":
    if len(sys.argv) >= 3 and sys.argv[1] == "test":
        test(sys.argv[2], int(sys.argv[3]) if len(sys.argv) > 3 else 1)
    elif len(sys.argv) == 4 and sys.argv[1] == "bench":
        bench(sys.argv[2], int(sys.argv[3]))
    else:
        sys.exit("usage: gen-posture.py test DIR [SEED] | bench FILE BYTES")
