#!/usr/bin/env python3
"""esmlog and moto_server side by side, driven by wrk (so the load generator is not the limit).

    tools/bench_wrk.py [--mappings 100000] [--moto-mappings 1000] [--seconds 10] [--connections 16]

For each target: a create phase (until MAPPINGS exist, or SECONDS for moto), then get, update and
list phases of SECONDS each, from CONNECTIONS keep-alive connections on 2 wrk threads. esmlog is
measured with --sync always (durable) and --sync none; moto_server with the same scripts (one
function and one queue, which moto needs to exist; it accepts duplicate mappings). Then two
ceilings get the get script for SECONDS each, under the same wrk load: tools/trivial_server.c
(built with cc), an HTTP server that only answers; and HummingbirdCeiling (tools/benchmarks, built
with swift unless --ceiling-binary names it), Hummingbird 2 set up as esmlog sets it up and
answering the same bytes, which is what esmlog's own framework costs. Prints requests/s, p50 and
p99 per phase, the server's CPU time per request, RSS, and the ratios. Needs wrk (Debian), a C
compiler and moto[server].
"""
import argparse
import http.client
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time

from moto_setup import start_moto

HERE = os.path.dirname(os.path.abspath(__file__))
PATH = "/2015-03-31/event-source-mappings"


def wrk(script, port, seconds, connections, env):
    out = subprocess.run(["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--timeout", "10s", "-s", os.path.join(HERE, "wrk", script),
                          f"http://127.0.0.1:{port}"], capture_output=True, text=True,
                         env={**os.environ, "ESM_WRK_DIR": os.path.join(HERE, "wrk"), **env}, timeout=seconds + 120)
    m = re.search(r"WRKJSON (\{.*\})", out.stdout)
    if not m:
        raise RuntimeError(f"wrk failed: {out.stdout}\n{out.stderr}")
    r = json.loads(m.group(1))
    r["per_second"] = (r["requests"] - r["non2xx"]) / r["seconds"]
    return r


def all_uuids(port, path_file):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    headers = {"Authorization": "AWS4-HMAC-SHA256 Credential=AKIDWRK/20261129/us-east-1/lambda/aws4_request, SignedHeaders=host, Signature=0"}
    uuids, marker = [], None
    while True:
        conn.request("GET", PATH + "?MaxItems=100" + (f"&Marker={marker}" if marker else ""), headers=headers)
        page = json.loads(conn.getresponse().read())
        uuids += [m["UUID"] for m in page["EventSourceMappings"]]
        marker = page.get("NextMarker")
        if not marker:
            break
    with open(path_file, "w") as f:
        f.write("\n".join(uuids) + "\n")
    return len(uuids)


def cpu_seconds(pid):
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def timed(pid, script, port, seconds, connections, env):
    """wrk, plus the server's CPU time (user and system) per request answered in that phase."""
    before = cpu_seconds(pid)
    r = wrk(script, port, seconds, connections, env)
    r["cpu_us"] = (cpu_seconds(pid) - before) * 1e6 / max(r["requests"], 1)
    return r


def rss_kib(pid):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def phases(port, pid, args, source, mappings, create_seconds):
    work = tempfile.mkdtemp(prefix="esm-wrk-")
    uuid_file = os.path.join(work, "uuids")
    out = {}
    created = 0
    creates = []
    while True:
        r = timed(pid, "create.lua", port, create_seconds, args.connections, {"ESM_SOURCE": source})
        creates.append(r)
        created += r["requests"] - r["non2xx"]
        if created >= mappings or create_seconds == args.seconds:
            break
    total = sum(c["requests"] - c["non2xx"] for c in creates)
    out["create"] = {**creates[0], "per_second": total / sum(c["seconds"] for c in creates),
                     "cpu_us": sum(c["cpu_us"] * c["requests"] for c in creates) / max(sum(c["requests"] for c in creates), 1)}
    out["mappings"] = all_uuids(port, uuid_file)
    time.sleep(1)
    env = {"ESM_UUIDS": uuid_file}
    out["get"] = timed(pid, "get.lua", port, args.seconds, args.connections, env)
    out["update"] = timed(pid, "update.lua", port, args.seconds, args.connections, env)
    time.sleep(1)
    out["list"] = timed(pid, "list.lua", port, args.seconds, args.connections, env)
    out["rss_kib"] = rss_kib(pid)
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--mappings", type=int, default=100_000)
    parser.add_argument("--moto-mappings", type=int, default=1000)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--binary", default=os.path.join(HERE, "..", ".build", "release", "esmlog"))
    parser.add_argument("--ceiling-binary", help="a built HummingbirdCeiling (default: build it from tools/benchmarks)")
    args = parser.parse_args()
    ceiling_binary = args.ceiling_binary
    if not ceiling_binary:
        package = os.path.join(HERE, "benchmarks")
        subprocess.run(["swift", "build", "-c", "release", "--package-path", package, "--product", "HummingbirdCeiling"], check=True)
        ceiling_binary = os.path.join(package, ".build", "release", "HummingbirdCeiling")
    results = {}
    for sync in ("always", "none"):
        data = tempfile.mkdtemp(prefix="esmlog-wrk-")
        p = subprocess.Popen([args.binary, "serve", "--data-dir", data, "--port", "0", "--sync", sync, "--log-level", "error",
                              "--transition-delay", "0"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        port = int(p.stdout.readline().rsplit(":", 1)[1])
        try:
            results[f"esmlog {sync}"] = phases(port, p.pid, args, "unique", args.mappings, 5)
        finally:
            p.terminate()
            p.wait()

    moto, port, queue = start_moto()
    try:
        results["moto_server"] = phases(port, moto.pid, args, queue, args.moto_mappings, args.seconds)
    finally:
        moto.terminate()
        moto.wait()

    work = tempfile.mkdtemp(prefix="esmlog-trivial-")
    try:
        binary = os.path.join(work, "trivial_server")
        subprocess.run(["cc", "-O2", "-o", binary, os.path.join(HERE, "trivial_server.c")], check=True)
        uuids = os.path.join(work, "uuids")
        with open(uuids, "w") as f:
            f.write("00000000-0000-4000-8000-000000000001\n")
        ceilings = {}
        for name, command in (("trivial C server", [binary, "0"]), ("Hummingbird", [ceiling_binary, "0"])):
            c = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
            try:
                port = int(c.stdout.readline().split()[1])
                ceilings[name] = timed(c.pid, "get.lua", port, args.seconds, args.connections, {"ESM_UUIDS": uuids})
            finally:
                c.terminate()
                c.wait()
    finally:
        shutil.rmtree(work, ignore_errors=True)

    print(f"wrk -t2 -c{args.connections}, {args.seconds} s phases, {os.cpu_count()} cores shared by wrk and the server")
    print(f"{'target':17} {'phase':7} {'mappings':>9} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'CPU us':>8} {'non-2xx':>8}")
    for target, r in results.items():
        for phase in ("create", "get", "update", "list"):
            x = r[phase]
            print(f"{target:17} {phase:7} {r['mappings']:9} {x['per_second']:9.0f} {x['p50_ms']:8.2f} {x['p99_ms']:8.2f} {x['cpu_us']:8.1f} {x['non2xx']:8}")
        print(f"{target:17} RSS {r['rss_kib']} KiB = {r['rss_kib'] * 1024 // max(r['mappings'], 1)} bytes per mapping")
    for name, x in ceilings.items():
        print(f"{name:17} {'get':7} {'':>9} {x['per_second']:9.0f} {x['p50_ms']:8.2f} {x['p99_ms']:8.2f} {x['cpu_us']:8.1f} {x['non2xx']:8}")
    e, n, m = results["esmlog always"], results["esmlog none"], results["moto_server"]
    trivial, framework = ceilings["trivial C server"]["per_second"], ceilings["Hummingbird"]["per_second"]
    print(f"Hummingbird's own gets / trivial server's gets {framework / trivial:5.2f}")
    for phase in ("create", "get", "update", "list"):
        rate = e[phase]["per_second"]
        print(f"{phase:7} esmlog/moto {rate / m[phase]['per_second']:7.1f}x   durable/unsafe {rate / n[phase]['per_second']:5.2f}"
              f"   esmlog / trivial server's gets {rate / trivial:5.2f}   esmlog / Hummingbird's gets {rate / framework:5.2f}")


if __name__ == "__main__":
    main()
