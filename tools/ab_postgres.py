#!/usr/bin/env python3
"""Durable creates of two esmlog builds, interleaved: for each build in turn, one node on segment
files, one node alone on PostgreSQL, then two nodes on one PostgreSQL database, each a fresh server.

    tools/ab_postgres.py URL BINARY_A BINARY_B [ROUNDS] [SECONDS]

URL names a running PostgreSQL (tools/postgres.sh start DIR); each run creates its own databases
on it. The builds alternate A, B, then B, A, so a slow stretch of a noisy machine falls on both.
Prints each run's figures and verify of the two-node log, then each build's lists and means.
"""
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import uuid

from bench_postgres import serve, together
from bench_wrk import wrk


def main():
    url, a, b = sys.argv[1:4]
    rounds = int(sys.argv[4]) if len(sys.argv) > 4 else 3
    seconds = int(sys.argv[5]) if len(sys.argv) > 5 else 8
    base = url.rsplit("/", 1)[0]
    host, port = base.rsplit("@", 1)[1].rsplit(":", 1)
    builds = {"A": a, "B": b}
    results = {k: {"files": [], "pg1": [], "pg2": []} for k in builds}
    run = 0
    tag = "ab" + uuid.uuid4().hex[:8]  # this invocation's databases: s and m, then the run's number
    for r in range(rounds):
        for name in (["A", "B"] if r % 2 == 0 else ["B", "A"]):
            binary, got = builds[name], results[name]
            run += 1
            work = tempfile.mkdtemp(prefix="esmlog-ab-pg-")
            try:
                p, http = serve(binary, os.path.join(work, "files"))
                try:
                    got["files"].append(wrk("create.lua", http, seconds, 8, {"ESM_SOURCE": "unique", "ESM_RUN": f"f{run}"})["per_second"])
                finally:
                    p.terminate()
                    p.wait()
                for db in (f"{tag}s{run}", f"{tag}m{run}"):
                    subprocess.run(["psql", "-h", host, "-p", port, "-U", "esm", "-d", "postgres", "-qc", f"CREATE DATABASE {db}"], check=True)
                p, http = serve(binary, os.path.join(work, "single"), ["--storage", f"{base}/{tag}s{run}"])
                try:
                    got["pg1"].append(wrk("create.lua", http, seconds, 8, {"ESM_SOURCE": "unique", "ESM_RUN": f"s{run}"})["per_second"])
                finally:
                    p.terminate()
                    p.wait()
                nodes = [serve(binary, os.path.join(work, f"n{k}"), ["--storage", f"{base}/{tag}m{run}"]) for k in range(2)]
                try:
                    creates = together([lambda http=http, k=k: wrk("create.lua", http, seconds, 8, {"ESM_SOURCE": "unique", "ESM_RUN": f"n{k}x{run}"})
                                        for k, (_, http) in enumerate(nodes)])
                    got["pg2"].append(sum(c["per_second"] for c in creates))
                finally:
                    for p, _ in nodes:
                        p.terminate()
                        p.wait()
                verify = subprocess.run([binary, "verify", "--data-dir", os.path.join(work, "v"), "--storage", f"{base}/{tag}m{run}"],
                                        capture_output=True, text=True)
                print(name, "round", r, {k: round(v[-1]) for k, v in got.items()}, "ratio", round(got["pg2"][-1] / got["files"][-1], 2),
                      "verify:", verify.stdout.strip().splitlines()[-1][:80], flush=True)
            finally:
                shutil.rmtree(work, ignore_errors=True)
    for name in builds:
        f, s, m = (results[name][k] for k in ("files", "pg1", "pg2"))
        print(name, "files", [round(x) for x in f], "pg1", [round(x) for x in s], "pg2", [round(x) for x in m],
              "ratios", [round(y / x, 2) for x, y in zip(f, m)], "mean pg1", round(statistics.mean(s)), "mean pg2", round(statistics.mean(m)))


if __name__ == "__main__":
    main()
