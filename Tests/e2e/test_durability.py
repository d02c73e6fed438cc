"""Acknowledged mutations survive kill -9; replay from the files equals what the API lists."""
import datetime
import json
import os
import random
import threading
import time

from conftest import ACCOUNT, Server, run_cli, strip, wait_state


def listed(lam):
    out = []
    for page in lam.get_paginator("list_event_source_mappings").paginate():
        out += page["EventSourceMappings"]
    return out


def wire(mapping):
    """A boto3 mapping as the JSON esmlog sent (LastModified back to epoch seconds)."""
    m = strip(mapping)
    m["LastModified"] = round(m["LastModified"].timestamp(), 3)
    return m


class Writers:
    """Clients that create mappings until stopped, recording each create the server acknowledged.
    A request that got no answer (the server died or stopped) is not recorded."""

    def __init__(self, server, clients, creates_per_client, tag):
        self.acknowledged = {}  # uuid -> BatchSize the server acknowledged
        self.lock, self.done = threading.Lock(), threading.Event()
        self.threads = [threading.Thread(target=self.write, args=(server, k, creates_per_client, tag)) for k in range(clients)]
        for t in self.threads:
            t.start()

    def write(self, server, k, creates, tag):
        lam = server.client(access_key=f"AKID{tag}{k}")
        for i in range(1, creates + 1):
            if self.done.is_set():
                return
            try:
                m = lam.create_event_source_mapping(FunctionName="worker", EventSourceArn=f"arn:aws:sqs:us-east-1:{ACCOUNT}:{tag}{k}-{i}",
                                                    BatchSize=1 + i % 10)
            except Exception:
                return
            with self.lock:
                self.acknowledged[m["UUID"]] = m["BatchSize"]

    def stop(self):
        self.done.set()
        for t in self.threads:
            t.join(timeout=30)
        return self.acknowledged


def test_replay_equals_what_the_api_lists(server, lam):
    for i in range(12):
        m = lam.create_event_source_mapping(FunctionName=f"fn{i % 3}", EventSourceArn=f"arn:aws:sqs:us-east-1:{ACCOUNT}:q{i}")
        if i % 4 == 0:
            wait_state(lam, m["UUID"], {"Enabled"})
            lam.update_event_source_mapping(UUID=m["UUID"], BatchSize=3)
    time.sleep(0.5)
    api = sorted((wire(m) for m in listed(lam)), key=lambda m: m["UUID"])
    server.stop()
    replayed = json.loads(run_cli("replay", "--data-dir", server.data_dir, "--format", "json").stdout)
    assert replayed["EventSourceMappings"] == api
    assert replayed["Sequence"] > 12
    # The same log replays to the same bytes every time.
    again = run_cli("replay", "--data-dir", server.data_dir, "--format", "json").stdout
    assert json.loads(again) == replayed
    # An earlier point in the log is a prefix of the history.
    first = json.loads(run_cli("replay", "--data-dir", server.data_dir, "--at-seq", "1").stdout)
    assert first["Sequence"] == 1 and len(first["EventSourceMappings"]) == 1
    assert first["EventSourceMappings"][0]["State"] == "Creating"


def test_kill_9_keeps_every_acknowledged_mutation(data_dir):
    seed = random.randrange(1 << 30)
    rng = random.Random(seed)
    server = Server(data_dir, transition_delay=0.01).start()
    writers = Writers(server, clients=6, creates_per_client=400, tag="W")
    time.sleep(0.3 + rng.random() * 0.7)
    server.kill9()
    acknowledged = writers.stop()
    assert acknowledged, f"no acknowledged writes before the kill (seed {seed})"

    verify = run_cli("verify", "--data-dir", data_dir, check=False)
    assert "torn tail" in verify.stdout or verify.returncode == 0, verify.stdout

    server = Server(data_dir, transition_delay=0.01).start()
    try:
        lam = server.client()
        have = {m["UUID"]: m for m in listed(lam)}
        missing = [u for u in acknowledged if u not in have]
        assert not missing, f"lost {len(missing)} of {len(acknowledged)} acknowledged creates (seed {seed})"
        for uuid, batch in acknowledged.items():
            assert have[uuid]["BatchSize"] == batch
        # Transitions pending at the crash are completed after restart.
        for uuid in list(acknowledged)[:20]:
            wait_state(lam, uuid, {"Enabled"})
    finally:
        server.stop()
    assert run_cli("verify", "--data-dir", data_dir).returncode == 0
    print(f"kill -9: {len(acknowledged)} acknowledged creates checked (seed {seed})")


def test_replay_at_a_time_or_sequence_equals_what_the_api_showed_then(data_dir):
    server = Server(data_dir, transition_delay=0.01, extra=["--snapshot-every-events", "7"]).start()
    moments = []  # (time, last sequence, what the API listed)
    try:
        lam = server.client()
        uuids = []
        for i in range(6):
            uuids.append(lam.create_event_source_mapping(FunctionName="fn", EventSourceArn=f"arn:aws:sqs:us-east-1:{ACCOUNT}:t{i}")["UUID"])
            wait_state(lam, uuids[-1], {"Enabled"})
            if i % 2:
                lam.update_event_source_mapping(UUID=uuids[i - 1], BatchSize=i)
                wait_state(lam, uuids[i - 1], {"Enabled"})
            time.sleep(0.01)
            stamp = time.time()
            time.sleep(0.01)
            moments.append((stamp, sorted((wire(m) for m in listed(lam)), key=lambda m: m["UUID"])))
    finally:
        server.stop()
    snapshots = os.listdir(os.path.join(data_dir, "snapshots"))
    assert snapshots, "automatic snapshots were expected with --snapshot-every-events 7"
    for stamp, shown in moments:
        at = datetime.datetime.fromtimestamp(stamp, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
        replayed = json.loads(run_cli("replay", "--data-dir", data_dir, "--at", at).stdout)
        assert replayed["EventSourceMappings"] == shown, at
        by_seq = json.loads(run_cli("replay", "--data-dir", data_dir, "--at-seq", str(replayed["Sequence"])).stdout)
        assert by_seq == replayed
        # One mapping, read through the mapping index: what the whole replay shows of it, the
        # bytes of the snapshot-and-log path (--verify), and the same Sequence.
        for uuid in uuids:
            args = ["replay", "--data-dir", data_dir, "--at", at, "--mapping", uuid]
            fast, walked = run_cli(*args).stdout, run_cli(*args, "--verify").stdout
            assert fast == walked, (at, uuid)
            one = json.loads(fast)
            assert one["EventSourceMappings"] == [m for m in shown if m["UUID"] == uuid], (at, uuid)
            assert one["Sequence"] == replayed["Sequence"]
    one = json.loads(run_cli("replay", "--data-dir", data_dir, "--mapping", moments[0][1][0]["UUID"]).stdout)
    assert [m["UUID"] for m in one["EventSourceMappings"]] == [moments[0][1][0]["UUID"]]
    made = run_cli("snapshot", "--data-dir", data_dir).stdout
    assert made.startswith("snapshot ") and "6 mappings" in made


def test_sigterm_under_load_finishes_requests_snapshots_and_exits_0(data_dir):
    import signal
    server = Server(data_dir, transition_delay=0.01).start()
    writers = Writers(server, clients=4, creates_per_client=300, tag="TERM")
    time.sleep(0.6)
    server.proc.send_signal(signal.SIGTERM)
    code = server.proc.wait(timeout=30)
    acknowledged = writers.stop()
    server.proc.stdout.close()
    server.stderr.close()
    assert code == 0
    assert acknowledged
    snapshots = os.listdir(os.path.join(data_dir, "snapshots"))
    assert any(name.endswith(".snap") for name in snapshots)
    assert run_cli("verify", "--data-dir", data_dir).returncode == 0
    replay = json.loads(run_cli("replay", "--data-dir", data_dir).stdout)
    have = {m["UUID"]: m["BatchSize"] for m in replay["EventSourceMappings"]}
    assert all(have.get(u) == b for u, b in acknowledged.items()), "an acknowledged create is missing after SIGTERM"


def test_a_second_signal_exits_at_once_and_loses_nothing_acknowledged(data_dir):
    import signal
    import socket
    server = Server(data_dir, transition_delay=0.01).start()
    writers = Writers(server, clients=4, creates_per_client=300, tag="TWICE")
    # A request whose body never finishes keeps the graceful stop waiting (up to the request timeout).
    held = socket.create_connection(("127.0.0.1", server.port), timeout=10)
    held.sendall(b"POST /2015-03-31/event-source-mappings/ HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{")
    time.sleep(0.6)
    server.proc.send_signal(signal.SIGTERM)
    time.sleep(0.5)
    assert server.proc.poll() is None, "the graceful stop should still be waiting for the held request"
    started = time.time()
    server.proc.send_signal(signal.SIGTERM)
    code = server.proc.wait(timeout=10)
    assert time.time() - started < 2
    assert code == 128 + signal.SIGTERM
    held.close()
    acknowledged = writers.stop()
    server.proc.stdout.close()
    server.stderr.close()
    assert acknowledged
    assert run_cli("verify", "--data-dir", data_dir).returncode == 0
    replay = json.loads(run_cli("replay", "--data-dir", data_dir).stdout)
    have = {m["UUID"]: m["BatchSize"] for m in replay["EventSourceMappings"]}
    assert all(have.get(u) == b for u, b in acknowledged.items()), "an acknowledged create is missing after two signals"
    # And the server starts again on the folder.
    again = Server(data_dir).start()
    assert {m["UUID"] for m in listed(again.client())} == set(have)
    again.stop()
