"""esmlog import: CloudTrail history of mappings in AWS accounts, from every container, deduplicated,
order-independent, honest about what CloudTrail does not say; every audit command on the result."""
import gzip
import json
import os
import random
import subprocess

import pytest

from cloudtrail_fixtures import (ACCOUNT, ALL, ARN_A, ARN_B, MAPPING_RECORDS, OTHER, UUID_A, UUID_B, athena_lines,
                                 eventbridge_lines, lookup_events_pages, write_bucket)
from conftest import BINARY, ROOT, Server, run_cli


def esmlog_import(data_dir, *paths, stdin=None, check=True, extra=()):
    out = subprocess.run([BINARY, "import", "--data-dir", data_dir, *extra, *paths], capture_output=True, text=True, input=stdin,
                         timeout=120)
    if check:
        assert out.returncode == 0, out.stderr
    return out


def summary(out):
    line = out.stderr.strip().splitlines()[-1]
    return dict(part.split(": ") for part in line.split(", "))


def timeline(data_dir, *args):
    return json.loads(run_cli("timeline", "--data-dir", data_dir, "--format", "json", *args).stdout)["Events"]


def without_sequences(events):
    return [{k: v for k, v in e.items() if k != "Sequence"} for e in events]


def replay(data_dir, *args):
    return json.loads(run_cli("replay", "--data-dir", data_dir, *args).stdout)


def jsonl(tmp_path, name, records):
    p = tmp_path / name
    p.write_text("".join(json.dumps(r) + "\n" for r in records))
    return str(p)


def test_a_bucket_of_account_and_organization_trails_imports_once(tmp_path, data_dir):
    bucket = str(tmp_path / "bucket")
    write_bucket(bucket)
    s = summary(esmlog_import(data_dir, bucket))
    assert s == {"files": "6", "records read": "15", "imported": str(len(MAPPING_RECORDS)), "duplicates": "2",
                 "not mapping records": "4", "refused calls": "1", "log head sequence": "9"}
    again = summary(esmlog_import(data_dir, bucket))
    assert (again["imported"], again["duplicates"]) == ("0", str(len(MAPPING_RECORDS) + 2))
    assert "ok" in run_cli("verify", "--data-dir", data_dir).stdout.splitlines()
    inspect = run_cli("inspect", "--data-dir", data_dir).stdout
    assert "head sequence: 9" in inspect


def test_the_timeline_of_an_imported_mapping_is_exact(tmp_path, data_dir):
    bucket = str(tmp_path / "bucket")
    write_bucket(bucket)
    esmlog_import(data_dir, bucket)
    events = timeline(data_dir, UUID_A)
    got = [(e["Time"], e["Operation"], e["StateBefore"], e["StateAfter"], (e.get("Actor") or {}).get("Identity", {}).get("PrincipalArn"),
            [(c["Field"], c["Before"], c["After"]) for c in e["Changes"] if c["Field"] != "State"], e.get("Notes", []))
           for e in events]
    role = f"arn:aws:sts::{ACCOUNT}:assumed-role/Example/example-role"
    alice, mallory = f"arn:aws:iam::{ACCOUNT}:user/alice", f"arn:aws:iam::{ACCOUNT}:user/mallory"
    pattern = {"Filters": [{"Pattern": '{"body": {"kind": ["order"]}}'}]}
    kms = f"arn:aws:kms:us-east-2:{ACCOUNT}:key/a1b2c3d4-5678-90ab-cdef-EXAMPLE11111"
    assert got[0][:5] == ("2024-05-09T21:05:41.000Z", "CreateEventSourceMapping", None, "Creating", role)
    assert dict((f, a) for f, b, a in got[0][5]) == {
        "BatchSize": 10, "EventSourceArn": "arn:aws:sqs:us-east-2:123456789012:example-queue", "EventSourceMappingArn": ARN_A,
        "FilterCriteria.Filters": pattern["Filters"], "FunctionArn": "arn:aws:lambda:us-east-2:123456789012:function:example-function",
        "FunctionResponseTypes": [], "KMSKeyArn": kms, "MaximumBatchingWindowInSeconds": 0, "StateTransitionReason": "USER_INITIATED",
        "Tags.team": "payments", "UUID": UUID_A}
    assert got[1:] == [
        ("2024-06-01T08:00:00.000Z", "UpdateEventSourceMapping", "Creating", "Updating", alice, [("BatchSize", 10, 5)],
         ["Creating → ? not observed: CloudTrail does not record Lambda's own transitions"]),
        ("2024-06-02T09:30:00.000Z", "UpdateEventSourceMapping (refused)", "Updating", "Updating", mallory, [],
         [f"refused: AccessDenied: User: {mallory} is not authorized to perform: lambda:UpdateEventSourceMapping on resource: {ARN_A} "
          "because no identity-based policy allows the lambda:UpdateEventSourceMapping action (nothing changed)"]),
        ("2024-06-03T10:00:00.000Z", "TagResource", "Updating", "Updating", alice, [("Tags.owner", None, "checkout")], []),
        ("2024-06-04T10:00:00.000Z", "UntagResource", "Updating", "Updating", alice, [("Tags.team", "payments", None)], []),
        ("2024-09-10T12:00:00.000Z", "UpdateEventSourceMapping", "Updating", "Updating", alice,
         [("FilterCriteria", pattern, "(redacted by CloudTrail)")],
         ["Updating → ? not observed: CloudTrail does not record Lambda's own transitions",
          "FilterCriteria redacted by CloudTrail: its value is unknown"]),
        ("2024-09-20T03:00:00.000Z", "LambdaESMDisabled", "Updating", "Disabled", None, [("StateTransitionReason", "USER_INITIATED", "Lambda Function not found")],
         ["Updating → ? not observed: CloudTrail does not record Lambda's own transitions"]),
        ("2024-09-21T00:00:00.000Z", "DeleteEventSourceMapping", "Disabled", "Deleting", alice,
         [("StateTransitionReason", "Lambda Function not found", "USER_INITIATED")],
         ["FilterCriteria redacted by CloudTrail: its value is unknown"]),
    ]
    trail = events[0]["CloudTrail"]
    assert trail == {"EventID": "e0000000-0000-4000-8000-000000000001", "EventName": "CreateEventSourceMapping20150331",
                     "Account": ACCOUNT, "Region": "us-east-2", "EventSourceMappingArn": ARN_A, "ErrorCode": None}
    identity = events[0]["Actor"]["Identity"]
    assert identity == {"Type": "AssumedRole", "PrincipalArn": role, "PrincipalId": "AROA123456789EXAMPLE:userid1",
                        "SessionIssuerArn": f"arn:aws:iam::{ACCOUNT}:role/User1", "InvokedBy": "AWS Internal", "Console": True}
    b = timeline(data_dir, UUID_B)
    assert [(e["Operation"], e["Actor"]["Identity"]["InvokedBy"], e["CloudTrail"]["Account"], e["CloudTrail"]["Region"]) for e in b] == [
        ("CreateEventSourceMapping", "cloudformation.amazonaws.com", "210987654321", "eu-west-1")]


def test_time_travel_shows_the_last_recorded_state(tmp_path, data_dir):
    bucket = str(tmp_path / "bucket")
    write_bucket(bucket)
    esmlog_import(data_dir, bucket)

    def at(t):
        r = replay(data_dir, "--at", t)
        return {m["UUID"]: m for m in r["EventSourceMappings"]}, r.get("Tags", {})

    m, tags = at("2024-05-10T00:00:00Z")
    assert set(m) == {UUID_A} and m[UUID_A]["State"] == "Creating" and m[UUID_A]["BatchSize"] == 10
    assert m[UUID_A]["LastModified"] == 1715288741.0 and tags == {UUID_A: {"team": "payments"}}
    m, tags = at("2024-06-05T00:00:00Z")
    assert m[UUID_A]["BatchSize"] == 5 and m[UUID_A]["State"] == "Updating" and tags[UUID_A] == {"owner": "checkout"}
    assert UUID_B not in m
    m, _ = at("2024-09-15T00:00:00Z")
    assert m[UUID_A]["FilterCriteria"] == "(redacted by CloudTrail)"
    assert m[UUID_B]["State"] == "Creating" and m[UUID_B]["EventSourceMappingArn"] == ARN_B
    m, _ = at("2030-01-01T00:00:00Z")
    assert m[UUID_A]["State"] == "Deleting"  # CloudTrail does not record the removal


def reference(tmp_path):
    d = str(tmp_path / "reference")
    esmlog_import(d, jsonl(tmp_path, "all.jsonl", ALL))
    times = ["2024-05-10T00:00:00Z", "2024-06-02T10:00:00Z", "2024-09-15T00:00:00Z", "2030-01-01T00:00:00Z"]
    return without_sequences(timeline(d)), [replay(d, "--at", t)["EventSourceMappings"] for t in times], times


@pytest.mark.parametrize("seed", range(6))
def test_any_order_and_any_batching_gives_the_same_history(tmp_path, seed):
    expected, states, times = reference(tmp_path)
    rng = random.Random(seed)
    records = list(ALL)
    rng.shuffle(records)
    runs = rng.randint(1, 5)
    cuts = sorted(rng.sample(range(1, len(records)), runs - 1))
    parts = [records[a:b] for a, b in zip([0] + cuts, cuts + [len(records)])]
    d = str(tmp_path / f"shuffled-{seed}")
    for i, part in enumerate(parts):
        extra = part + rng.sample(records, 2)  # overlaps between runs, as between trails
        esmlog_import(d, jsonl(tmp_path, f"run{seed}-{i}.jsonl", extra))
    assert without_sequences(timeline(d)) == expected
    assert [replay(d, "--at", t)["EventSourceMappings"] for t in times] == states
    assert "ok" in run_cli("verify", "--data-dir", d).stdout.splitlines()


@pytest.mark.parametrize("container", ["lookup-v1", "lookup-v2", "eventbridge", "athena", "stdin", "gzip-jsonl"])
def test_every_container_gives_the_same_history(tmp_path, container):
    expected, _, _ = reference(tmp_path)
    d = str(tmp_path / container)
    if container in ("lookup-v1", "lookup-v2"):
        p = tmp_path / f"{container}.json"
        p.write_text(lookup_events_pages(ALL, v2=container == "lookup-v2"))
        esmlog_import(d, str(p))
    elif container == "eventbridge":
        p = tmp_path / "eb.jsonl"
        p.write_text(eventbridge_lines(ALL))
        esmlog_import(d, str(p))
    elif container == "athena":
        p = tmp_path / "athena.jsonl"
        p.write_text(athena_lines(ALL))
        esmlog_import(d, str(p))
    elif container == "stdin":
        esmlog_import(d, "-", stdin=json.dumps({"Records": ALL}))
    else:
        p = tmp_path / "records.jsonl.gz"
        with gzip.open(p, "wt") as f:
            f.write("".join(json.dumps(r) + "\n" for r in ALL))
        esmlog_import(d, str(p))
    assert without_sequences(timeline(d)) == expected


def test_an_esmlog_export_round_trips_to_the_same_timeline(tmp_path):
    golden = os.path.join(ROOT, "data", "golden-v2")
    exported = tmp_path / "export.json"
    run_cli("export", "--data-dir", golden, "--format", "cloudtrail", "--output", str(exported))
    d = str(tmp_path / "imported")
    assert summary(esmlog_import(d, str(exported)))["imported"] == "48"

    def view(events):
        return [(e["Time"], e["UUID"], e["Operation"], e["StateBefore"], e["StateAfter"], e["Changes"],
                 {k: (e.get("Actor") or {}).get(k) for k in ("AccessKeyId", "RequestId", "SourceIp", "UserAgent", "Region")})
                for e in events]
    assert view(timeline(d)) == view(timeline(golden))
    assert replay(d)["EventSourceMappings"] == replay(golden)["EventSourceMappings"]
    assert summary(esmlog_import(d, str(exported)))["imported"] == "0"


def test_imported_history_exported_and_imported_again_is_the_same(tmp_path, data_dir):
    bucket = str(tmp_path / "bucket")
    write_bucket(bucket)
    esmlog_import(data_dir, bucket)
    exported = tmp_path / "again.json"
    run_cli("export", "--data-dir", data_dir, "--format", "cloudtrail", "--output", str(exported))
    again = str(tmp_path / "again")
    assert summary(esmlog_import(again, str(exported)))["imported"] == str(len(MAPPING_RECORDS))
    assert without_sequences(timeline(again)) == without_sequences(timeline(data_dir))
    # The same eventIDs: importing the export into the first folder adds nothing.
    assert summary(esmlog_import(data_dir, str(exported)))["imported"] == "0"


@pytest.mark.parametrize("correction_first", [False, True])
def test_a_record_corrected_by_an_addendum_is_replaced_by_its_correction(tmp_path, data_dir, correction_first):
    from cloudtrail_fixtures import CREATE, UPDATE
    correction = json.loads(json.dumps(UPDATE))
    correction["eventID"] = "e0000000-0000-4000-8000-0000000000c1"
    correction["responseElements"]["batchSize"] = 6
    correction["addendum"] = {"reason": "UPDATED_DATA", "updatedFields": "responseElements",
                              "originalRequestID": UPDATE["requestID"], "originalEventID": UPDATE["eventID"]}
    records = [correction, CREATE, UPDATE] if correction_first else [CREATE, UPDATE, correction]
    esmlog_import(data_dir, jsonl(tmp_path, "corrected.jsonl", records))
    events = timeline(data_dir, UUID_A)
    updates = [e for e in events if e["Operation"] == "UpdateEventSourceMapping"]
    assert len(updates) == 1 and updates[0]["CloudTrail"]["EventID"] == correction["eventID"]
    assert [(c["Before"], c["After"]) for c in updates[0]["Changes"] if c["Field"] == "BatchSize"] == [(10, 6)]
    assert any("corrects CloudTrail record " + UPDATE["eventID"] in n for n in updates[0]["Notes"])
    assert replay(data_dir)["EventSourceMappings"][0]["BatchSize"] == 6


@pytest.mark.parametrize("bad", ["truncated-gz", "malformed", "not-an-object", "not-cloudtrail"])
def test_bad_input_names_the_file_and_imports_nothing_unless_skip_bad(tmp_path, data_dir, bad):
    good = jsonl(tmp_path, "good.jsonl", ALL)
    path = tmp_path / f"bad-{bad}.json"
    if bad == "truncated-gz":
        raw = gzip.compress(json.dumps({"Records": ALL}).encode())
        path = tmp_path / "bad.json.gz"
        path.write_bytes(raw[: len(raw) // 2])
    elif bad == "malformed":
        path.write_text('{"Records": [{"eventSource": "lambda.amazonaws.com",')
    elif bad == "not-an-object":
        path.write_text(json.dumps({"Records": [ALL[0], 42]}))
    else:
        path.write_text(json.dumps({"hello": "world"}))
    out = esmlog_import(data_dir, good, str(path), check=False)
    assert out.returncode != 0 and str(path) in out.stderr and "nothing was imported" in out.stderr, out.stderr
    assert not os.path.exists(os.path.join(data_dir, "wal")) or run_cli("verify", "--data-dir", data_dir).stdout.count("events: 0") == 1
    s = summary(esmlog_import(data_dir, good, str(path), extra=["--skip-bad"]))
    assert s["imported"] == str(len(MAPPING_RECORDS)) and s["files"] == "1 (1 skipped)"


def test_imported_and_served_history_stay_apart(tmp_path, data_dir):
    records = jsonl(tmp_path, "r.jsonl", ALL)
    server = Server(data_dir).start()
    try:
        live = esmlog_import(data_dir, records, check=False)
        assert live.returncode != 0 and "another esmlog process" in live.stderr
        server.client().create_event_source_mapping(FunctionName="f", EventSourceArn="arn:aws:sqs:us-east-1:123456789012:q")
    finally:
        server.stop()
    served = esmlog_import(data_dir, records, check=False)
    assert served.returncode != 0 and "do not mix" in served.stderr
    imported = str(tmp_path / "imported")
    esmlog_import(imported, records)
    refused = subprocess.run([BINARY, "serve", "--data-dir", imported, "--port", "0"], capture_output=True, text=True, timeout=30)
    assert refused.returncode != 0 and "imported CloudTrail history" in refused.stderr
    snap = run_cli("snapshot", "--data-dir", imported, check=False)
    assert snap.returncode != 0 and "imported" in snap.stderr


def test_every_audit_command_works_on_imported_history(tmp_path, data_dir):
    bucket = str(tmp_path / "bucket")
    write_bucket(bucket)
    esmlog_import(data_dir, bucket)
    rows = run_cli("export", "--data-dir", data_dir, "--format", "csv").stdout.splitlines()
    header = rows[1].split(",")
    assert "principal_arn" in header
    assert any(f"arn:aws:iam::{ACCOUNT}:user/mallory" in r for r in rows)
    for fmt in ("jsonl", "html", "cloudtrail"):
        assert run_cli("export", "--data-dir", data_dir, "--format", fmt).stdout
    diff = json.loads(run_cli("diff", "--data-dir", data_dir, "--from", "2024-05-10T00:00:00Z", "--to", "2024-07-02T00:00:00Z",
                              "--format", "json").stdout)
    a = next(m for m in diff["Mappings"] if m["UUID"] == UUID_A)
    assert next(f for f in a["Fields"] if f["Field"] == "BatchSize")["Start"] == 10
    assert diff["Created"] == [UUID_B]
    blame = json.loads(run_cli("blame", "--data-dir", data_dir, UUID_A, "--at", "2024-06-05T00:00:00Z", "--format", "json").stdout)
    batch = next(f for f in blame["Fields"] if f["Field"] == "BatchSize")
    assert batch["Operation"] == "UpdateEventSourceMapping" and batch["Actor"]["Identity"]["UserName"] == "alice"
    text = run_cli("timeline", "--data-dir", data_dir, UUID_A).stdout
    assert "note: refused: AccessDenied" in text and f"arn:aws:iam::{ACCOUNT}:user/mallory" in text
