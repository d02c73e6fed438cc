#!/usr/bin/env python3
"""Times `esmlog import` on CloudTrail trail files (.json.gz) where most records are other
services', as an account trail delivers them, and prints records per second.

    tools/bench_import.py [--records 200000] [--lambda-share 0.05] [--files 40] [--binary .build/release/esmlog]

The records are shaped like real trail records (envelope, userIdentity, request and response of
S3, EC2, STS and KMS calls; event source mapping creates and updates); the files are written once
into a temporary folder and the import is timed as a whole command, into a fresh data folder."""
import argparse
import gzip
import json
import os
import random
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "Tests", "e2e"))
from cloudtrail_fixtures import CLI_USER, envelope, mapping  # noqa: E402


def other(rng, i):
    service, name, params = rng.choice([
        ("s3.amazonaws.com", "GetObject", {"bucketName": "logs-bucket", "key": f"app/{i}.log", "Host": "logs-bucket.s3.amazonaws.com"}),
        ("ec2.amazonaws.com", "DescribeInstances", {"instancesSet": {}, "filterSet": {"items": [{"name": "tag:env", "valueSet": {"items": [{"value": "prod"}]}}]}}),
        ("sts.amazonaws.com", "AssumeRole", {"roleArn": "arn:aws:iam::123456789012:role/ci", "roleSessionName": f"ci-{i}", "durationSeconds": 3600}),
        ("kms.amazonaws.com", "Decrypt", {"encryptionAlgorithm": "SYMMETRIC_DEFAULT", "encryptionContext": {"aws:lambda:FunctionArn": "arn:aws:lambda:us-east-2:123456789012:function:f"}}),
    ])
    r = envelope(name, f"2024-06-{1 + i % 28:02d}T{i % 24:02d}:{i % 60:02d}:{(i * 7) % 60:02d}Z", f"{i:08x}-0000-4000-8000-{rng.getrandbits(48):012x}",
                 CLI_USER, params, None, readOnly=True, tlsDetails={"tlsVersion": "TLSv1.3", "cipherSuite": "TLS_AES_128_GCM_SHA256",
                                                                      "clientProvidedHostHeader": service.replace("amazonaws.com", "us-east-2.amazonaws.com")})
    r["eventSource"] = service
    return r


def lambda_record(rng, i):
    uuid = f"{rng.getrandbits(32):08x}-5678-40ab-8def-{i:012x}"
    arn = f"arn:aws:lambda:us-east-2:123456789012:event-source-mapping:{uuid}"
    return envelope("CreateEventSourceMapping20150331", f"2024-06-{1 + i % 28:02d}T10:00:00Z", f"{i:08x}-1111-4000-8000-{rng.getrandbits(48):012x}",
                    CLI_USER, {"eventSourceArn": "arn:aws:sqs:us-east-2:123456789012:q", "functionName": "f", "batchSize": 10},
                    mapping("Creating", "Jun 1, 2024, 10:00:00 AM", uuid=uuid, arn=arn))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--records", type=int, default=200_000)
    ap.add_argument("--lambda-share", type=float, default=0.05)
    ap.add_argument("--files", type=int, default=40)
    ap.add_argument("--binary", default=os.path.join(os.path.dirname(__file__), "..", ".build", "release", "esmlog"))
    args = ap.parse_args()
    rng = random.Random(7)
    work = tempfile.mkdtemp(prefix="esmlog-bench-import-")
    per_file = args.records // args.files
    raw = gz = 0
    for f in range(args.files):
        records = [lambda_record(rng, f * per_file + i) if rng.random() < args.lambda_share else other(rng, f * per_file + i)
                   for i in range(per_file)]
        data = json.dumps({"Records": records}).encode()
        raw += len(data)
        path = os.path.join(work, "AWSLogs", "123456789012", "CloudTrail", "us-east-2", "2024", "06", "01",
                            f"123456789012_CloudTrail_us-east-2_20240601T{f:04d}Z_{f:016x}.json.gz")
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as out:
            blob = gzip.compress(data)
            gz += len(blob)
            out.write(blob)
    total = per_file * args.files
    data_dir = os.path.join(work, "data")
    started = time.perf_counter()
    out = subprocess.run([args.binary, "import", "--data-dir", data_dir, os.path.join(work, "AWSLogs")], capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if out.returncode != 0:
        sys.exit(out.stderr)
    print(out.stderr.strip())
    print(f"{total} records in {args.files} files ({raw / 1e6:.1f} MB JSON, {gz / 1e6:.1f} MB gzip), "
          f"{args.lambda_share:.0%} event source mapping records: {seconds:.2f} s, {total / seconds:,.0f} records/s")


if __name__ == "__main__":
    main()
