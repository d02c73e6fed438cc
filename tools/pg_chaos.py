#!/usr/bin/env python3
"""The long run of the multi-node suite: three esmlog nodes on one throwaway PostgreSQL under
load, one fault per cycle (kill -9 of a node and its restart, an immediate stop of PostgreSQL
and its restart, a node cut off through a TCP proxy and healed), and after every cycle the
checks of Tests/e2e/test_postgres.py: no gaps, the chain verifies, every acknowledged write is in
the log exactly once, at most one live mapping per function and source, every node's state equals
a fresh replay.

    tools/pg_chaos.py [--cycles 12] [--seconds 4] [--binary .build/debug/esmlog]

Bounded by --cycles; each cycle runs its load for about 2 x --seconds. Prints one line per cycle
and the totals.
"""
import argparse
import collections
import os
import shutil
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "Tests", "e2e"))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cycles", type=int, default=12)
    parser.add_argument("--seconds", type=float, default=4)
    parser.add_argument("--binary", default=os.path.join(HERE, "..", ".build", "debug", "esmlog"))
    args = parser.parse_args()
    os.environ["ESMLOG_BIN"] = os.path.abspath(args.binary)
    import pg_cluster  # noqa: E402 - after ESMLOG_BIN is set
    from test_postgres import finish, run_load

    pg = pg_cluster.PostgresServer().start()
    work = tempfile.mkdtemp(prefix="esmlog-chaos-")
    database = pg.new_database()
    url = pg.url(database)
    proxy = pg_cluster.Proxy(pg.port)
    nodes = []
    totals = {"acknowledged": 0, "failed": 0, "conflicts": 0}
    started = time.time()
    try:
        nodes = [pg_cluster.node(url, os.path.join(work, "n0")), pg_cluster.node(url, os.path.join(work, "n1")),
                 pg_cluster.node(pg.url(database, port=proxy.port), os.path.join(work, "n2"))]
        ledger = pg_cluster.Ledger()
        faults = ["kill -9 of a node", "immediate stop of PostgreSQL", "node cut off from PostgreSQL"]
        for cycle in range(args.cycles):
            fault = faults[cycle % len(faults)]
            before = len(ledger.acknowledged), len(ledger.failed)
            stop, threads = run_load([[n.client()] for n in nodes] + [[nodes[0].client(), nodes[1].client()]], ledger, 0,
                                     count=100_000, first_seed=100 * cycle)
            time.sleep(args.seconds)
            if fault.startswith("kill"):
                victim = nodes[cycle % 3]
                victim.kill9()
                time.sleep(args.seconds)
                victim.start()
            elif fault.startswith("immediate"):
                pg.stop("immediate")
                time.sleep(args.seconds / 2)
                pg.start()
                time.sleep(args.seconds / 2)
            else:
                proxy.cut()
                time.sleep(args.seconds)
                proxy.heal()
            finish(stop, threads)
            events, state = pg_cluster.check_log(pg, database, url, os.path.join(work, "r"), ledger, nodes, deadline_seconds=30)
            codes = collections.Counter(code for _, _, code in ledger.failed[before[1]:])
            print(f"cycle {cycle + 1:3}: {fault:30} acknowledged {len(ledger.acknowledged) - before[0]:5}, "
                  f"not {len(ledger.failed) - before[1]:5} ({', '.join(f'{c} {n}' for c, n in codes.most_common())}); "
                  f"log {len(events)} events, {len(state['EventSourceMappings'])} mappings: checks passed", flush=True)
        totals = {"acknowledged": len(ledger.acknowledged), "failed": len(ledger.failed), "conflicts": ledger.conflicts,
                  "codes": collections.Counter(code for _, _, code in ledger.failed)}
    finally:
        for n in nodes:
            n.stop()
        proxy.close()
        pg.stop("immediate")
        shutil.rmtree(work, ignore_errors=True)
        shutil.rmtree(pg.dir, ignore_errors=True)
    print(f"{args.cycles} cycles in {time.time() - started:.0f} s: {totals['acknowledged']} writes acknowledged, all in the log exactly once; "
          f"{totals['failed']} not: " + ", ".join(f"{c} {n}" for c, n in totals.get("codes", {}).items()))


if __name__ == "__main__":
    main()
