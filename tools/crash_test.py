#!/usr/bin/env python3
"""Crash test: kill -9 esmlog under concurrent writes, restart, and check every acknowledged mutation.

    tools/crash_test.py --cycles 200 [--seed N] [--clients 6] [--binary .build/debug/esmlog]

Each cycle starts `esmlog serve` on the same data folder, drives creates, updates and deletes
from several clients over keep-alive HTTP, kills the server with SIGKILL at a random moment,
restarts it and checks that:
  - every create, update and delete that got a 2xx is there with the acknowledged values (a
    deleted mapping may be Deleting or gone, never back to an earlier state); a request that
    was in flight at the kill got no answer, so either outcome is allowed for it alone;
  - every mapping's LastModified is no earlier than the last acknowledged change to it;
  - `esmlog verify` passes (a torn tail cut at restart is allowed).
Bounded in cycles and in time; prints the seed so a failure can be rerun.
"""
import argparse
import http.client
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import threading
import time

PATH = "/2015-03-31/event-source-mappings"
ACCOUNT = "123456789012"


class Server:
    def __init__(self, binary, data_dir):
        self.binary, self.data_dir = binary, data_dir

    def start(self):
        self.proc = subprocess.Popen(
            [self.binary, "serve", "--data-dir", self.data_dir, "--port", "0", "--transition-delay", "0.005",
             "--account", ACCOUNT, "--log-level", "error", "--snapshot-every-events", "500"],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        line = self.proc.stdout.readline()
        if not line.startswith("esmlog listening on "):
            raise RuntimeError(f"esmlog did not start: {line!r}")
        self.port = int(line.rsplit(":", 1)[1])

    def kill9(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)
        self.proc.stdout.close()

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(timeout=20)
        self.proc.stdout.close()


def call(conn, method, path, body=None):
    conn.request(method, path, body=None if body is None else json.dumps(body), headers={"Content-Type": "application/json"})
    r = conn.getresponse()
    return r.status, json.loads(r.read() or b"null")


def writer(port, k, rng, ledger, lock, stop, counts):
    """Creates, updates and deletes its own mappings, recording what was acknowledged and what
    was in flight when the server died (an unanswered request may or may not have happened)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    mine = []
    n = 0
    while not stop.is_set():
        n += 1
        roll = rng.random()
        try:
            if roll < 0.5 or not mine:
                status, body = call(conn, "POST", PATH, {"FunctionName": f"fn{k}", "BatchSize": 1 + n % 10,
                                                         "EventSourceArn": f"arn:aws:sqs:us-east-1:{ACCOUNT}:c{k}-{n}-{rng.randrange(1 << 30)}"})
                if status == 202:
                    mine.append(body["UUID"])
                    with lock:
                        ledger[body["UUID"]] = {"batch": body["BatchSize"], "at": body["LastModified"], "deleted": False, "pending": None}
                        counts["acknowledged"] += 1
            elif roll < 0.85:
                uuid = rng.choice(mine)
                batch = 1 + rng.randrange(10)
                with lock:
                    ledger[uuid]["pending"] = ("update", batch)
                status, body = call(conn, "PUT", f"{PATH}/{uuid}", {"BatchSize": batch})
                with lock:
                    ledger[uuid]["pending"] = None
                    if status == 202:
                        ledger[uuid].update(batch=batch, at=body["LastModified"])
                        counts["acknowledged"] += 1
            else:
                uuid = mine.pop(rng.randrange(len(mine)))
                with lock:
                    ledger[uuid]["pending"] = ("delete",)
                status, body = call(conn, "DELETE", f"{PATH}/{uuid}")
                with lock:
                    ledger[uuid]["pending"] = None
                    if status == 202:
                        ledger[uuid].update(deleted=True, at=body["LastModified"])
                        counts["acknowledged"] += 1
        except (OSError, http.client.HTTPException, ValueError):
            return  # the server was killed: a request without an answer was not acknowledged


def check(port, ledger):
    """Every acknowledged mutation is there; an in-flight one may or may not be. Afterwards the
    ledger records what was found, so later cycles check against it."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    for uuid, e in ledger.items():
        status, body = call(conn, "GET", f"{PATH}/{uuid}")
        pending = e["pending"]
        gone = status == 404 or (status == 200 and body["State"] == "Deleting")
        if e["deleted"]:
            if not gone:
                return f"{uuid}: deletion acknowledged, found {body.get('State') if status == 200 else status}"
            continue
        if gone and pending == ("delete",):
            e.update(deleted=True, pending=None)
            continue
        if status != 200:
            return f"{uuid}: acknowledged and not deleted, GET answered {status}"
        allowed = {e["batch"]} | ({pending[1]} if pending and pending[0] == "update" else set())
        if body["BatchSize"] not in allowed:
            return f"{uuid}: acknowledged BatchSize {e['batch']}, found {body['BatchSize']}"
        if body["LastModified"] < e["at"]:
            return f"{uuid}: LastModified {body['LastModified']} before the acknowledged {e['at']}"
        e.update(batch=body["BatchSize"], at=body["LastModified"], pending=None)
    return None


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cycles", type=int, default=200)
    parser.add_argument("--seed", type=int, default=random.randrange(1 << 30))
    parser.add_argument("--clients", type=int, default=6)
    parser.add_argument("--seconds", type=float, default=1800, help="stop starting cycles after this long")
    parser.add_argument("--binary", default=os.path.join(os.path.dirname(__file__), "..", ".build", "debug", "esmlog"))
    args = parser.parse_args()
    rng = random.Random(args.seed)
    print(f"crash test: seed {args.seed}, {args.cycles} cycles, {args.clients} clients", flush=True)
    data_dir = os.path.join(tempfile.mkdtemp(prefix="esmlog-crash-"), "data")
    ledger, counts, lock = {}, {"acknowledged": 0}, threading.Lock()
    deadline = time.time() + args.seconds
    cycles = 0
    for cycle in range(args.cycles):
        if time.time() > deadline:
            break
        server = Server(args.binary, data_dir)
        server.start()
        problem = check(server.port, ledger)
        if problem:
            server.stop()
            sys.exit(f"cycle {cycle} (seed {args.seed}): {problem}")
        stop = threading.Event()
        threads = [threading.Thread(target=writer, args=(server.port, k, random.Random(rng.random()), ledger, lock, stop, counts))
                   for k in range(args.clients)]
        for t in threads:
            t.start()
        time.sleep(0.05 + rng.random() * 0.4)
        server.kill9()
        stop.set()
        for t in threads:
            t.join(timeout=20)
        verify = subprocess.run([args.binary, "verify", "--data-dir", data_dir], capture_output=True, text=True)
        if verify.returncode != 0 and not all("torn tail" in line for line in verify.stdout.splitlines() if line.startswith("problem:")):
            sys.exit(f"cycle {cycle} (seed {args.seed}): verify failed:\n{verify.stdout}")
        cycles += 1
    server = Server(args.binary, data_dir)
    server.start()
    problem = check(server.port, ledger)
    server.stop()
    verify = subprocess.run([args.binary, "verify", "--data-dir", data_dir], capture_output=True, text=True)
    if problem or verify.returncode != 0:
        sys.exit(f"final check (seed {args.seed}): {problem or verify.stdout}")
    print(f"crash test passed: {cycles} kill -9 cycles, {counts['acknowledged']} acknowledged mutations, "
          f"{len(ledger)} mappings checked after every restart (seed {args.seed})")


if __name__ == "__main__":
    main()
