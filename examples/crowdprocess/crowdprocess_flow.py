#!/usr/bin/env python3
"""The classic CrowdProcess flow, against Tabgrid's CrowdProcess-compatible REST API.

Only the base URL differs from a program written for CrowdProcess:

    BASE = "https://api.crowdprocess.com/jobs/"      # before
    BASE = "http://127.0.0.1:8080/api/jobs/"         # Tabgrid

Run it with a Tabgrid server and at least one worker tab open:

    TABGRID_TOKEN=<token> python3 examples/crowdprocess/crowdprocess_flow.py
"""
import json
import os
import sys
import threading

import requests

BASE = os.environ.get("TABGRID_URL", "http://127.0.0.1:8080").rstrip("/") + "/api/jobs/"
HEADERS = {"Authorization": "Token " + os.environ["TABGRID_TOKEN"]}
TASKS = int(os.environ.get("TASKS", "1000"))

PROGRAM = """
function Run(d) {
  if (d % 100 === 99) throw new Error("no multiples of 100 minus one: " + d);
  return d * 2;
}
"""


def lines(response):
    """Yields one JSON value per line of a streamed response, as CrowdProcess clients read it."""
    while True:
        line = response.raw.readline()
        if not line:
            return
        yield json.loads(line.decode())


# 1. Create a job. Like CrowdProcess's client, send JSON with no Content-Type.
res = requests.post(BASE, data=json.dumps({"program": PROGRAM, "bid": 1.0, "group": None}), headers=HEADERS)
assert res.status_code == 201, res.text
job_id = res.json()["id"]
print("created job", job_id)

# 2. Open the result and error streams first, then stream the tasks up (chunked NDJSON).
results = requests.get(BASE + job_id + "/results?stream", stream=True, headers=HEADERS)
errors = requests.get(BASE + job_id + "/errors?stream", stream=True, headers=HEADERS)


def upload():
    def tasks():
        for n in range(TASKS):
            yield json.dumps(n).encode() + b"\n"

    up = requests.post(BASE + job_id + "/tasks", data=tasks(), headers=HEADERS)
    assert up.status_code == 201, up.text
    print("uploaded", up.json()["count"], "tasks")


uploader = threading.Thread(target=upload)
uploader.start()

# 3. Read results and errors until every task is accounted for (CrowdProcess clients count).
expected_errors = TASKS // 100
got_errors = []
error_reader = threading.Thread(target=lambda: got_errors.extend(e for _, e in zip(range(expected_errors), lines(errors))))
error_reader.start()
got_results = [r for _, r in zip(range(TASKS - expected_errors), lines(results))]
error_reader.join()
uploader.join()

assert sorted(got_results) == sorted(2 * n for n in range(TASKS) if n % 100 != 99), "wrong results"
assert sorted(e["index"] for e in got_errors) == [n for n in range(TASKS) if n % 100 == 99], "wrong errors"
assert all(e["message"].startswith("no multiples") and e["type"] == "program" for e in got_errors)
print("results:", len(got_results), "errors:", len(got_errors))

# 4. List jobs: CrowdProcess's fields are all there.
job = next(j for j in requests.get(BASE, headers=HEADERS).json() if j["id"] == job_id)
print("listed:", {k: job[k] for k in ("status", "total", "finished", "failed", "bid", "browserHours")})
assert job["total"] == TASKS and job["finished"] + job["failed"] == TASKS

# 5. Delete it (CrowdProcess's client calls BASE + "/" + id: the double slash works too).
res = requests.delete(BASE + "/" + job_id, headers=HEADERS)
assert res.status_code == 204, res.text
assert requests.get(BASE + job_id, headers=HEADERS).status_code == 404
print("deleted job", job_id)
sys.exit(0)
