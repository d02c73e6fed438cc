#!/usr/bin/env python3
"""esmlog and moto_server side by side on the same ESM workload, one after the other.

    tools/bench_vs_moto.py --mappings 1000 --clients 16 [--binary .build/release/esmlog]

Phases, each from CLIENTS threads over keep-alive HTTP: create MAPPINGS mappings, get (2x
MAPPINGS requests), update (MAPPINGS requests), list (first page of 100, MAPPINGS/4 requests).
esmlog runs with --sync always (durable, the default) and again with --sync none for the write
phases. moto needs the function and the queue to exist and accepts any number of mappings on
one (queue, function) pair, so it is given one of each; esmlog refuses duplicates (409, as AWS
does), so it gets a distinct queue ARN per mapping. Needs `moto[server]` (pip).
"""
import argparse
import http.client
import json
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time

from moto_setup import start_moto

PATH = "/2015-03-31/event-source-mappings"
# What an SDK sends; moto_server routes requests by the service in the credential scope.
HEADERS = {"Content-Type": "application/json", "User-Agent": "Boto3/1.43.11 bench",
           "Authorization": "AWS4-HMAC-SHA256 Credential=AKIDBENCH/20261129/us-east-1/lambda/aws4_request, "
                            "SignedHeaders=host;x-amz-date, Signature=" + "0" * 64}


def run_phase(port, clients, requests, make):
    """Runs `requests` requests from `clients` threads; make(i) -> (method, path, body)."""
    latencies, errors, results = [], [], []
    lock = threading.Lock()
    counter = iter(range(requests))

    def worker():
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        while True:
            with lock:
                i = next(counter, None)
            if i is None:
                break
            method, path, body = make(i)
            t = time.perf_counter()
            conn.request(method, path, body=None if body is None else json.dumps(body), headers=HEADERS)
            r = conn.getresponse()
            data = r.read()
            dt = time.perf_counter() - t
            with lock:
                latencies.append(dt)
                if r.status >= 300:
                    errors.append((r.status, data[:200]))
                else:
                    results.append(data)
        conn.close()

    threads = [threading.Thread(target=worker) for _ in range(clients)]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - start
    latencies.sort()
    if errors:
        raise RuntimeError(f"{len(errors)} errors, first: {errors[0]}")
    return {"per_second": requests / elapsed, "p50_ms": latencies[len(latencies) // 2] * 1000,
            "p99_ms": latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000, "results": results}


def workload(port, clients, mappings, source_arn, function):
    out = {}
    uuids = []
    rng = random.Random(1)
    r = run_phase(port, clients, mappings, lambda i: ("POST", PATH, {"FunctionName": function, "EventSourceArn": source_arn(i), "BatchSize": 10}))
    uuids = [json.loads(d)["UUID"] for d in r.pop("results")]
    out["create"] = r
    time.sleep(0.5)
    out["get"] = run_phase(port, clients, 2 * mappings, lambda i: ("GET", f"{PATH}/{rng.choice(uuids)}", None))
    out["update"] = run_phase(port, clients, mappings, lambda i: ("PUT", f"{PATH}/{uuids[i % len(uuids)]}", {"BatchSize": 1 + i % 9}))
    out["list"] = run_phase(port, clients, max(1, mappings // 4), lambda i: ("GET", f"{PATH}?MaxItems=100", None))
    for phase in out.values():
        phase.pop("results", None)
    return out


def start_esmlog(binary, sync, delay):
    data = tempfile.mkdtemp(prefix="esmlog-bench-")
    p = subprocess.Popen([binary, "serve", "--data-dir", data, "--port", "0", "--sync", sync, "--log-level", "error",
                          "--transition-delay", str(delay)], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    port = int(p.stdout.readline().rsplit(":", 1)[1])
    return p, port, data


def rss_kib(pid):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--mappings", type=int, default=1000)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--binary", default=os.path.join(os.path.dirname(__file__), "..", ".build", "release", "esmlog"))
    args = parser.parse_args()
    results = {}

    # Updates move a mapping to Updating; a zero transition delay settles it before the next one.
    for sync in ("always", "none"):
        p, port, data = start_esmlog(args.binary, sync, 0)
        try:
            results[f"esmlog ({sync})"] = workload(port, args.clients, args.mappings,
                                                   lambda i: f"arn:aws:sqs:us-east-1:000000000000:bench-{i}", "worker")
            results[f"esmlog ({sync})"]["rss_kib"] = rss_kib(p.pid)
        finally:
            p.terminate()
            p.wait()
            shutil.rmtree(data, ignore_errors=True)

    moto, port, queue = start_moto()
    try:
        results["moto_server"] = workload(port, args.clients, args.mappings, lambda i: queue, "worker")
        results["moto_server"]["rss_kib"] = rss_kib(moto.pid)
    finally:
        moto.terminate()
        moto.wait()

    print(f"{args.mappings} mappings, {args.clients} clients, {os.cpu_count()} cores, client and servers on one machine")
    print(f"{'target':18} {'phase':7} {'ops/s':>9} {'p50 ms':>8} {'p99 ms':>8}")
    for target, phases in results.items():
        for phase, r in phases.items():
            if phase != "rss_kib":
                print(f"{target:18} {phase:7} {r['per_second']:9.0f} {r['p50_ms']:8.2f} {r['p99_ms']:8.2f}")
        print(f"{target:18} RSS after the run: {phases['rss_kib']} KiB")
    e, n, m = results["esmlog (always)"], results["esmlog (none)"], results["moto_server"]
    for phase in ("create", "get", "update", "list"):
        print(f"{phase:7} esmlog/moto {e[phase]['per_second'] / m[phase]['per_second']:6.1f}x   "
              f"durable/unsafe {e[phase]['per_second'] / n[phase]['per_second']:5.2f}")


if __name__ == "__main__":
    main()
