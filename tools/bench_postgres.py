#!/usr/bin/env python3
"""Durable creates and gets: one esmlog node on segment files against two nodes on one PostgreSQL,
in one run, driven by wrk.

    tools/bench_postgres.py [--seconds 10] [--connections 8] [--binary .build/release/esmlog]

Phase 1: one node, --sync always, segment files: creates for SECONDS, then gets for SECONDS.
Phase 2: one node alone on a throwaway PostgreSQL: creates (the ceiling of one head row here).
Phase 3: on the same PostgreSQL (tools/postgres.sh, fsync and synchronous_commit on) and two
nodes on it; one wrk per node at once (CONNECTIONS each) for creates, then gets on each node
alone. Prints requests/s,
p50 and p99 per phase and the ratios the issue asks for. Two cores run wrk, the nodes and the
database together, so every figure is a whole-machine figure.
"""
import argparse
import os
import shutil
import subprocess
import tempfile
import threading
import time

from bench_wrk import HERE, all_uuids, wrk


def serve(binary, data, extra=()):
    p = subprocess.Popen([binary, "serve", "--data-dir", data, "--port", "0", "--log-level", "error", "--transition-delay", "0",
                          "--snapshot-every-events", "0", *extra], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    line = p.stdout.readline()
    if not line.startswith("esmlog listening"):
        raise RuntimeError("esmlog did not start")
    return p, int(line.rsplit(":", 1)[1])


def together(jobs):
    """Runs wrk jobs at once; returns their results in order."""
    results = [None] * len(jobs)

    def run(k, job):
        results[k] = job()
    threads = [threading.Thread(target=run, args=(k, j)) for k, j in enumerate(jobs)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    return results


def summed(results):
    return {"per_second": sum(r["per_second"] for r in results), "p50_ms": max(r["p50_ms"] for r in results),
            "p99_ms": max(r["p99_ms"] for r in results), "non2xx": sum(r["non2xx"] for r in results)}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--binary", default=os.path.join(HERE, "..", ".build", "release", "esmlog"))
    args = parser.parse_args()
    work = tempfile.mkdtemp(prefix="esmlog-bench-pg-")
    results = {}
    try:
        p, port = serve(args.binary, os.path.join(work, "files"))
        try:
            create = wrk("create.lua", port, args.seconds, args.connections, {"ESM_SOURCE": "unique", "ESM_RUN": "f"})
            all_uuids(port, os.path.join(work, "uuids-files"))
            get = wrk("get.lua", port, args.seconds, args.connections, {"ESM_UUIDS": os.path.join(work, "uuids-files")})
            results["1 node, segment files"] = (create, get)
        finally:
            p.terminate()
            p.wait()

        pg_dir = tempfile.mkdtemp(prefix="esmlog-bench-pgdata-")  # its own: the server's user must reach it
        url = subprocess.run(["bash", os.path.join(HERE, "postgres.sh"), "start", pg_dir, "54391"], check=True,
                             capture_output=True, text=True).stdout.strip()
        try:
            # One node on PostgreSQL alone, on a database of its own: the ceiling two nodes share.
            subprocess.run(["psql", "-h", "127.0.0.1", "-p", "54391", "-U", "esm", "-d", "postgres", "-qc", "CREATE DATABASE single"], check=True)
            p, port = serve(args.binary, os.path.join(work, "single"), ["--storage", url.rsplit("/", 1)[0] + "/single"])
            try:
                results["1 node, PostgreSQL"] = (wrk("create.lua", port, args.seconds, args.connections, {"ESM_SOURCE": "unique", "ESM_RUN": "s"}),
                                                 {"per_second": 0, "p50_ms": 0, "p99_ms": 0, "non2xx": 0})
            finally:
                p.terminate()
                p.wait()
            nodes = [serve(args.binary, os.path.join(work, f"n{k}"), ["--storage", url]) for k in range(2)]
            try:
                creates = together([lambda port=port, k=k: wrk("create.lua", port, args.seconds, args.connections,
                                                               {"ESM_SOURCE": "unique", "ESM_RUN": f"n{k}"})
                                    for k, (_, port) in enumerate(nodes)])
                time.sleep(1)
                all_uuids(nodes[0][1], os.path.join(work, "uuids-pg"))
                # Gets one node at a time, as the single node's were: they are answered from memory.
                gets = [wrk("get.lua", port, args.seconds, args.connections, {"ESM_UUIDS": os.path.join(work, "uuids-pg")})
                        for _, port in nodes]
                results["2 nodes, PostgreSQL"] = (summed(creates), summed(gets))
                results["  node 1"] = (creates[0], gets[0])
                results["  node 2"] = (creates[1], gets[1])
            finally:
                for p, _ in nodes:
                    p.terminate()
                    p.wait()
            verify = subprocess.run([args.binary, "verify", "--data-dir", os.path.join(work, "v"), "--storage", url],
                                    capture_output=True, text=True)
            verified = verify.stdout.strip().splitlines()
        finally:
            subprocess.run(["bash", os.path.join(HERE, "postgres.sh"), "stop", pg_dir], capture_output=True)
            shutil.rmtree(pg_dir, ignore_errors=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)

    print(f"wrk -t2 -c{args.connections} per node, {args.seconds} s phases, {os.cpu_count()} cores shared by wrk, the nodes and PostgreSQL")
    print(f"{'target':24} {'phase':7} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'non-2xx':>8}")
    for target, (c, g) in results.items():
        for phase, x in (("create", c), ("get", g)):
            if x["per_second"] == 0:
                continue
            print(f"{target:24} {phase:7} {x['per_second']:9.0f} {x['p50_ms']:8.2f} {x['p99_ms']:8.2f} {x['non2xx']:8}")
    files, pg = results["1 node, segment files"], results["2 nodes, PostgreSQL"]
    print(f"durable creates, 2 nodes on PostgreSQL / 1 node on segment files: {pg[0]['per_second'] / files[0]['per_second']:.2f}")
    print(f"durable creates, 1 node on PostgreSQL / 1 node on segment files: {results['1 node, PostgreSQL'][0]['per_second'] / files[0]['per_second']:.2f}")
    for k in (1, 2):
        print(f"gets on node {k} / single-node gets: {results[f'  node {k}'][1]['per_second'] / files[1]['per_second']:.2f}")
    print("verify of the PostgreSQL log after the run: " + " | ".join(verified[-3:]))


if __name__ == "__main__":
    main()
