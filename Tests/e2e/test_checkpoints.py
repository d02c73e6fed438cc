"""Signed checkpoints: keygen, checkpoint, serve --signing-key, and verify --public-key failing on a
history cut and rewritten after a checkpoint (chain consistent, journal gone), on a tampered
checkpoint, on another key's checkpoint, and with a checkpoint file kept apart."""
import json
import os
import shutil

from conftest import BINARY, Server, run_cli, wait_state

SQS = "arn:aws:sqs:us-east-1:123456789012:q"


def keys(tmp_path, name="k"):
    private, public = tmp_path / f"{name}.key", tmp_path / f"{name}.pub"
    run_cli("keygen", "--private", str(private), "--public", str(public))
    return str(private), str(public)


def create(lam, n):
    return lam.create_event_source_mapping(FunctionName="f", EventSourceArn=f"{SQS}{n}")["UUID"]


def verify(data_dir, *args):
    out = run_cli("verify", "--data-dir", data_dir, *args, check=False)
    return out.returncode, out.stdout


def test_keygen_never_overwrites_and_keeps_the_private_key_private(tmp_path):
    private, public = keys(tmp_path)
    assert oct(os.stat(private).st_mode & 0o777) == "0o600"
    again = run_cli("keygen", "--private", private, "--public", str(tmp_path / "other.pub"), check=False)
    assert again.returncode != 0 and "exists" in again.stderr


def test_serve_signs_checkpoints_and_verify_checks_them(tmp_path, data_dir):
    private, public = keys(tmp_path)
    server = Server(data_dir, extra=["--signing-key", private, "--checkpoint-every", "0.2"]).start()
    lam = server.client()
    uuids = [create(lam, i) for i in range(3)]
    for u in uuids:
        wait_state(lam, u, {"Enabled"})
    server.stop()
    lines = open(os.path.join(data_dir, "checkpoints.jsonl")).read().splitlines()
    assert len(lines) >= 1
    last = json.loads(lines[-1])
    head = run_cli("verify", "--data-dir", data_dir).stdout
    assert f"head sequence: {last['Sequence']}" in head and f"head hash: {last['HeadHash']}" in head
    code, out = verify(data_dir, "--public-key", public)
    assert code == 0 and "ok" in out.splitlines() and "verify, newest sequence" in out, out
    coverage = json.loads(run_cli("export", "--data-dir", data_dir, "--format", "jsonl").stdout.splitlines()[0])
    assert coverage["Checkpoint"]["Sequence"] == last["Sequence"]
    assert "signed checkpoint at sequence" in run_cli("timeline", "--data-dir", data_dir).stdout.splitlines()[0]
    # One mapping's history: the first read walks the whole log (and builds the mapping index), so
    # it states the checkpoint as any walk does; a read through the index states none, and says why.
    assert not os.path.exists(os.path.join(data_dir, "index", "mappings.idx"))
    first = run_cli("timeline", "--data-dir", data_dir, uuids[0]).stdout.splitlines()[0]
    assert "verification: ok" in first and "signed checkpoint at sequence" in first, first
    indexed = run_cli("timeline", "--data-dir", data_dir, uuids[0]).stdout.splitlines()[0]
    assert "not walked" in indexed and "checkpoint" not in indexed, indexed


def rewritten_history(tmp_path, data_dir):
    """A log of 6 creates, a checkpoint at its head, then the tail cut, the journal removed and
    different events written: a log whose own chain verifies."""
    private, public = keys(tmp_path)
    server = Server(data_dir, transition_delay=3600).start()
    lam = server.client()
    for i in range(6):
        create(lam, i)
    server.stop()
    run_cli("checkpoint", "--data-dir", data_dir, "--signing-key", private)
    run_cli("repair", "--data-dir", data_dir, "--truncate-after", "3")
    os.remove(os.path.join(data_dir, "wal", "repairs.jsonl"))
    for name in os.listdir(os.path.join(data_dir, "wal")):
        if ".cut" in name:
            os.remove(os.path.join(data_dir, "wal", name))
    server = Server(data_dir, transition_delay=3600).start()
    for i in range(10, 14):
        create(server.client(), i)
    server.stop()
    return private, public


def test_a_history_rewritten_after_a_checkpoint_fails_verify(tmp_path, data_dir):
    private, public = rewritten_history(tmp_path, data_dir)
    # The rewritten log is consistent on its own terms...
    plain = run_cli("verify", "--data-dir", data_dir, check=False).stdout
    assert "head sequence: 7" in plain and "repair:" not in plain
    # ...but not with what was signed.
    code, out = verify(data_dir, "--public-key", public)
    assert code == 1 and "history was rewritten" in out, out
    assert "ok" not in out.splitlines()


def test_a_cut_without_new_events_fails_verify(tmp_path, data_dir):
    private, public = keys(tmp_path)
    server = Server(data_dir, transition_delay=3600).start()
    for i in range(4):
        create(server.client(), i)
    server.stop()
    run_cli("checkpoint", "--data-dir", data_dir, "--signing-key", private)
    run_cli("repair", "--data-dir", data_dir, "--truncate-after", "2")
    code, out = verify(data_dir, "--public-key", public)
    assert code == 1 and "signed events were removed" in out, out


def test_a_tampered_or_foreign_checkpoint_fails_and_one_kept_apart_still_catches_a_rewrite(tmp_path, data_dir):
    private, public = keys(tmp_path)
    _, other_public = keys(tmp_path, "other")
    server = Server(data_dir, transition_delay=3600).start()
    for i in range(3):
        create(server.client(), i)
    server.stop()
    run_cli("checkpoint", "--data-dir", data_dir, "--signing-key", private)
    path = os.path.join(data_dir, "checkpoints.jsonl")
    kept_apart = str(tmp_path / "kept.jsonl")
    shutil.copy(path, kept_apart)
    assert verify(data_dir, "--public-key", public)[0] == 0
    assert "signed by another key" in verify(data_dir, "--public-key", other_public)[1]
    record = json.loads(open(path).read())
    record["TimeMilliseconds"] += 1
    open(path, "w").write(json.dumps(record) + "\n")
    code, out = verify(data_dir, "--public-key", public)
    assert code == 1 and "the signature does not verify" in out, out
    # Delete the folder's checkpoints and rewrite: the copy kept elsewhere still tells.
    os.remove(path)
    run_cli("repair", "--data-dir", data_dir, "--truncate-after", "1")
    os.remove(os.path.join(data_dir, "wal", "repairs.jsonl"))
    server = Server(data_dir, transition_delay=3600).start()
    for i in range(5, 8):
        create(server.client(), i)
    server.stop()
    assert verify(data_dir)[0] == 0
    assert verify(data_dir, "--public-key", public)[0] == 1  # nothing signed in the folder any more
    code, out = verify(data_dir, "--public-key", public, "--checkpoint", kept_apart)
    assert code == 1 and "history was rewritten" in out, out
