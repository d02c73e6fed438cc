"""One writer per data folder: a second serve, repair or snapshot beside a live server is refused
at once and harms nothing; read-only commands keep working beside it and state exactly what they
read."""
import json
import os
import subprocess
import threading
import time

from conftest import BINARY, Server, run_cli


def refused(args):
    started = time.time()
    out = subprocess.run([BINARY, *args], capture_output=True, text=True, timeout=30)
    return out, time.time() - started


def check_refusal(out, seconds, data_dir, pid):
    assert out.returncode != 0
    assert seconds < 10
    assert data_dir in out.stderr and "another esmlog process" in out.stderr, out.stderr
    assert f"pid {pid}" in out.stderr, out.stderr


def create(lam, n):
    return lam.create_event_source_mapping(
        FunctionName="worker", EventSourceArn=f"arn:aws:sqs:us-east-1:123456789012:q{n}")["UUID"]


def listed(lam):
    uuids, marker = set(), None
    while True:
        page = lam.list_event_source_mappings(**({"Marker": marker} if marker else {}))
        uuids |= {m["UUID"] for m in page["EventSourceMappings"]}
        marker = page.get("NextMarker")
        if not marker:
            return uuids


def test_a_second_serve_is_refused_and_the_first_keeps_every_acknowledged_create(server, lam, data_dir):
    acknowledged = {create(lam, i) for i in range(6)}
    out, seconds = refused(["serve", "--data-dir", data_dir, "--port", "0"])
    check_refusal(out, seconds, data_dir, server.proc.pid)
    acknowledged |= {create(lam, i) for i in range(6, 9)}
    assert listed(lam) == acknowledged
    server.stop()
    verify = run_cli("verify", "--data-dir", data_dir)
    assert "ok" in verify.stdout.splitlines()
    restarted = Server(data_dir).start()
    try:
        assert listed(restarted.client()) == acknowledged
    finally:
        restarted.stop()


def test_repair_and_snapshot_beside_a_live_server_are_refused_and_change_nothing(server, lam, data_dir):
    acknowledged = {create(lam, i) for i in range(4)}
    before = sorted(os.listdir(os.path.join(data_dir, "wal")))
    out, seconds = refused(["repair", "--data-dir", data_dir, "--truncate-after", "1"])
    check_refusal(out, seconds, data_dir, server.proc.pid)
    out, seconds = refused(["snapshot", "--data-dir", data_dir])
    check_refusal(out, seconds, data_dir, server.proc.pid)
    assert sorted(os.listdir(os.path.join(data_dir, "wal"))) == before
    assert not os.path.exists(os.path.join(data_dir, "snapshots")) or os.listdir(os.path.join(data_dir, "snapshots")) == []
    acknowledged.add(create(lam, 4))
    assert listed(lam) == acknowledged
    # Once the server is gone the folder is free again.
    server.stop()
    snap = run_cli("snapshot", "--data-dir", data_dir)
    assert snap.returncode == 0 and "snapshot" in snap.stdout


def test_read_only_commands_beside_a_live_writer_state_exactly_the_prefix_they_read(server, lam, data_dir):
    stop = threading.Event()
    created = []

    def writer():
        client = server.client()
        n = 0
        deadline = time.time() + 30
        while not stop.is_set() and time.time() < deadline and n < 400:
            created.append(create(client, 1000 + n))
            n += 1

    t = threading.Thread(target=writer)
    t.start()
    try:
        for _ in range(6):
            out = run_cli("export", "--data-dir", data_dir, "--format", "jsonl")
            lines = [json.loads(l) for l in out.stdout.splitlines()]
            coverage, events = lines[0], lines[1:]
            assert coverage["Verification"] == "ok", coverage
            sequences = [e["Sequence"] for e in events]
            assert sequences == list(range(1, coverage["LastSequence"] + 1)), (coverage, sequences[-3:])
            verify = run_cli("verify", "--data-dir", data_dir, check=False)
            assert verify.returncode == 0, verify.stdout
            time.sleep(0.05)
    finally:
        stop.set()
        t.join()
    assert len(created) > 0
