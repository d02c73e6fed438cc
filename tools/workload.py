#!/usr/bin/env python3
"""Drives an ESM endpoint with a realistic mix of requests and prints ops/s and latency.

Any endpoint that speaks the Lambda ESM REST-JSON protocol works (esmlog, moto_server, ...).
Requests go over keep-alive HTTP from CLIENTS threads, with the headers an SDK sends (a boto3
user agent and a SigV4-shaped Authorization header naming an access key), and bodies like real
deployments send: SQS mappings with filters and scaling, Kinesis and DynamoDB mappings with
destinations, self-managed Kafka mappings.

    tools/workload.py --endpoint http://127.0.0.1:9321 --clients 16 --ops 20000 --mix create=30,update=50,delete=10,get=5,list=5

The run is bounded by --ops and --seconds, whichever comes first. Exit code 1 if any request
got a 5xx or a connection error.
"""
import argparse
import http.client
import json
import random
import threading
import time
import urllib.parse

PATH = "/2015-03-31/event-source-mappings"
ACCOUNT = "123456789012"
USER_AGENT = ("Boto3/1.43.11 md/Botocore#1.43.11 ua/2.1 os/linux#6.1.0 md/arch#x86_64 lang/python#3.11.7 "
              "md/pyimpl#CPython cfg/retry-mode#legacy Botocore/1.43.11")


def authorization(key):
    return (f"AWS4-HMAC-SHA256 Credential={key}/20261129/us-east-1/lambda/aws4_request, "
            "SignedHeaders=host;x-amz-date, Signature=" + "0" * 64)


def create_body(rng, n):
    kind = rng.random()
    fn = f"service-{n % 50}-handler"
    if kind < 0.6:
        body = {"FunctionName": fn, "EventSourceArn": f"arn:aws:sqs:us-east-1:{ACCOUNT}:orders-{n}-queue",
                "BatchSize": 10, "ScalingConfig": {"MaximumConcurrency": rng.choice([5, 10, 50])},
                "FunctionResponseTypes": ["ReportBatchItemFailures"],
                "FilterCriteria": {"Filters": [{"Pattern": json.dumps({"body": {"type": ["order_created", "order_updated"]}})}]}}
    elif kind < 0.85:
        body = {"FunctionName": fn, "EventSourceArn": f"arn:aws:kinesis:us-east-1:{ACCOUNT}:stream/clickstream-{n}",
                "StartingPosition": "LATEST", "BatchSize": 100, "ParallelizationFactor": rng.choice([1, 2, 4]),
                "MaximumRetryAttempts": 3, "BisectBatchOnFunctionError": True,
                "DestinationConfig": {"OnFailure": {"Destination": f"arn:aws:sqs:us-east-1:{ACCOUNT}:clickstream-dlq"}}}
    elif kind < 0.95:
        body = {"FunctionName": fn, "StartingPosition": "TRIM_HORIZON",
                "EventSourceArn": f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/users-{n}/stream/2026-11-01T00:00:00.000",
                "MaximumRecordAgeInSeconds": 3600, "TumblingWindowInSeconds": 30}
    else:
        body = {"FunctionName": fn, "Topics": [f"payments-{n}"], "StartingPosition": "LATEST",
                "SelfManagedEventSource": {"Endpoints": {"KAFKA_BOOTSTRAP_SERVERS": ["b-1.kafka.internal:9092", "b-2.kafka.internal:9092"]}},
                "SourceAccessConfigurations": [{"Type": "SASL_SCRAM_512_AUTH", "URI": f"arn:aws:secretsmanager:us-east-1:{ACCOUNT}:secret:kafka-{n}"}]}
    if rng.random() < 0.3:
        body["Tags"] = {"team": rng.choice(["payments", "search", "growth"]), "env": "prod"}
    return body


def update_body(rng, uuid_kind):
    choice = rng.random()
    if choice < 0.5:
        return {"BatchSize": rng.choice([5, 8, 10])} if uuid_kind == "sqs" else {"BatchSize": rng.choice([50, 100, 200])}
    if choice < 0.7:
        return {"Enabled": rng.random() < 0.5}
    if choice < 0.85 and uuid_kind == "sqs":
        return {"FilterCriteria": {"Filters": [{"Pattern": json.dumps({"body": {"type": [rng.choice(["a", "b", "c"])]}})}]}}
    return {"FunctionName": f"service-{rng.randrange(50)}-handler"}


class Stats:
    def __init__(self):
        self.lock = threading.Lock()
        self.latency = {}
        self.status = {}
        self.errors = 0

    def add(self, op, seconds, status):
        with self.lock:
            self.latency.setdefault(op, []).append(seconds)
            self.status[(op, status)] = self.status.get((op, status), 0) + 1


def client(k, args, stats, budget, deadline, known, known_lock):
    rng = random.Random(args.seed * 1000 + k)
    host, port = urllib.parse.urlsplit(args.endpoint).hostname, urllib.parse.urlsplit(args.endpoint).port
    conn = http.client.HTTPConnection(host, port, timeout=30)
    headers = {"User-Agent": USER_AGENT, "Authorization": authorization(f"AKIDCLIENT{k:04d}"), "Content-Type": "application/json"}
    ops, weights = zip(*args.mix.items())
    n = 0
    while time.monotonic() < deadline:
        with budget["lock"]:
            if budget["left"] <= 0:
                break
            budget["left"] -= 1
        op = rng.choices(ops, weights)[0]
        with known_lock:
            target = rng.choice(known) if known else None
        if op in ("update", "delete", "get") and target is None:
            op = "create"
        method, path, body = "GET", PATH, None
        if op == "create":
            n += 1
            method, body = "POST", create_body(rng, k * 1_000_000 + n)
        elif op == "update":
            method, path, body = "PUT", f"{PATH}/{target[0]}", update_body(rng, target[1])
        elif op == "delete":
            method, path = "DELETE", f"{PATH}/{target[0]}"
        elif op == "get":
            path = f"{PATH}/{target[0]}"
        else:
            path = f"{PATH}?MaxItems=100"
        payload = json.dumps(body).encode() if body is not None else None
        started = time.perf_counter()
        try:
            conn.request(method, path, body=payload, headers=headers)
            r = conn.getresponse()
            data = r.read()
        except (OSError, http.client.HTTPException):
            stats.errors += 1
            conn.close()
            conn = http.client.HTTPConnection(host, port, timeout=30)
            continue
        stats.add(op, time.perf_counter() - started, r.status)
        if op == "create" and r.status == 202:
            created = json.loads(data)
            with known_lock:
                known.append((created["UUID"], "sqs" if ":sqs:" in created.get("EventSourceArn", "") else "other"))
        elif op == "delete" and r.status == 202:
            with known_lock:
                if target in known:
                    known.remove(target)
    conn.close()


def percentile(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(len(values) * p))] if values else 0.0


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--endpoint", default="http://127.0.0.1:9321")
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--ops", type=int, default=10000)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--mix", default="create=30,update=50,delete=10,get=5,list=5")
    parser.add_argument("--json", action="store_true", help="print the summary as one JSON object")
    args = parser.parse_args()
    args.mix = {k: float(v) for k, v in (item.split("=") for item in args.mix.split(","))}

    stats = Stats()
    budget = {"left": args.ops, "lock": threading.Lock()}
    known, known_lock = [], threading.Lock()
    deadline = time.monotonic() + args.seconds
    threads = [threading.Thread(target=client, args=(k, args, stats, budget, deadline, known, known_lock)) for k in range(args.clients)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - started

    total = sum(len(v) for v in stats.latency.values())
    summary = {"clients": args.clients, "seconds": round(elapsed, 3), "ops": total, "ops_per_second": round(total / elapsed, 1),
               "connection_errors": stats.errors, "operations": {}}
    for op, values in sorted(stats.latency.items()):
        summary["operations"][op] = {
            "count": len(values), "per_second": round(len(values) / elapsed, 1),
            "p50_ms": round(percentile(values, 0.50) * 1000, 3), "p99_ms": round(percentile(values, 0.99) * 1000, 3),
            "status": {str(s): c for (o, s), c in sorted(stats.status.items()) if o == op}}
    if args.json:
        print(json.dumps(summary))
    else:
        print(f"{total} requests from {args.clients} clients in {elapsed:.2f} s: {total / elapsed:.0f}/s, {stats.errors} connection errors")
        for op, s in summary["operations"].items():
            print(f"  {op:7} {s['count']:7} {s['per_second']:9.0f}/s  p50 {s['p50_ms']:7.2f} ms  p99 {s['p99_ms']:7.2f} ms  status {s['status']}")
    server_errors = sum(c for (_, s), c in stats.status.items() if s >= 500)
    return 1 if server_errors or stats.errors else 0


if __name__ == "__main__":
    raise SystemExit(main())
