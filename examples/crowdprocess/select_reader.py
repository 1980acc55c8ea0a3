#!/usr/bin/env python3
"""Reads a job's results the way CrowdProcess's Python client does, to prove Tabgrid serves it.

That client (`crowdprocess` on PyPI) calls `job(tasks)` like this: it opens `results?stream` and
`errors?stream`, uploads the tasks from a thread, and a reader thread loops on
`select()` over the two responses' sockets, reading ONE line with `readline()` from a stream each
time `select()` says its socket is readable. It never closes the job, so the streams never end;
it stops once it has read as many lines as it uploaded tasks. `readline()` goes through
`requests`' buffered reader, which takes whatever the socket holds (up to 8 KiB) at once, so
lines can sit in that buffer while `select()`, which only sees the socket, waits forever.

This script reads exactly that way (it is not that client's code) for every N in SIZES, RUNS times
each, and checks every result and every error. It exits 0 when all runs are complete, 1 with
the counts of the first run that stalled for longer than TIMEOUT seconds.

    TABGRID_URL=http://127.0.0.1:8080 TABGRID_TOKEN=<token> SIZES=1,10,200,5000 RUNS=20 \
        python3 examples/crowdprocess/select_reader.py
"""
import json
import os
import queue
import select
import sys
import threading
import time

import requests

BASE = os.environ.get("TABGRID_URL", "http://127.0.0.1:8080").rstrip("/") + "/api/jobs/"
HEADERS = {"Authorization": "Token " + os.environ["TABGRID_TOKEN"]}
SIZES = [int(n) for n in os.environ.get("SIZES", "1,10,200,5000").split(",")]
RUNS = int(os.environ.get("RUNS", "20"))
TIMEOUT = float(os.environ.get("TIMEOUT", "60"))

# Every hundredth task throws, so the errors stream is read too (error lines carry a stack:
# a few hundred bytes that this reader takes a byte at a time).
PROGRAM = """
function Run(d) {
  if (d % 100 === 3) throw new Error("unlucky " + d);
  return d * 2;
}
"""


def run_once(n):
    """One `job(range(n))`, read with select + one readline per wakeup. Returns (results, errors)."""
    res = requests.post(BASE, data=json.dumps({"program": PROGRAM, "bid": 1.0, "group": None}), headers=HEADERS)
    assert res.status_code == 201, res.text
    job_id = res.json()["id"]
    results = requests.get(BASE + job_id + "/results?stream", stream=True, headers=HEADERS)
    errors = requests.get(BASE + job_id + "/errors?stream", stream=True, headers=HEADERS)
    assert results.status_code == 200 and errors.status_code == 200

    outstanding = [0]
    uploaded = threading.Event()

    def upload():
        def lines():
            for i in range(n):
                yield json.dumps(i).encode() + b"\n"
                outstanding[0] += 1

        up = requests.post(BASE + job_id + "/tasks", data=lines(), headers=HEADERS)
        assert up.status_code == 201, up.text
        uploaded.set()

    uploader = threading.Thread(target=upload, daemon=True)
    uploader.start()

    got = {results.raw: queue.Queue(), errors.raw: queue.Queue()}
    streams = [results.raw, errors.raw]

    def read():
        while True:
            ready, _, _ = select.select(streams, [], [], 0.001)
            for stream in ready:
                line = stream.readline()  # ONE line per wakeup, as that client reads
                if len(line) == 0:
                    continue
                got[stream].put(json.loads(line.decode()))
                outstanding[0] -= 1
            if uploaded.is_set() and outstanding[0] == 0:
                return

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    reader.join(TIMEOUT)
    values = list(got[results.raw].queue)
    failures = list(got[errors.raw].queue)
    if reader.is_alive():
        return job_id, values, failures, False
    results.close()
    errors.close()
    requests.delete(BASE + job_id, headers=HEADERS)
    return job_id, values, failures, True


def main():
    started = time.time()
    for n in SIZES:
        for run in range(RUNS):
            t0 = time.time()
            job_id, values, failures, finished = run_once(n)
            if os.environ.get("VERBOSE"): print(f"n={n} run={run + 1} {time.time() - t0:.2f}s")
            want_values = sorted(2 * i for i in range(n) if i % 100 != 3)
            want_errors = [i for i in range(n) if i % 100 == 3]
            if not finished:
                print(f"STALLED n={n} run={run + 1} job={job_id}: {len(values)} results and {len(failures)} errors of {n} after {TIMEOUT}s")
                return 1
            assert sorted(values) == want_values, f"n={n} run={run + 1}: wrong results"
            assert sorted(e["index"] for e in failures) == want_errors, f"n={n} run={run + 1}: wrong errors"
            assert all(e["message"] == "unlucky %d" % e["index"] and e["type"] == "program" for e in failures)
        print(f"n={n}: {RUNS} runs complete")
    print(f"all runs complete in {time.time() - started:.1f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
