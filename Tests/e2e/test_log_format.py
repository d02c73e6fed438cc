"""The log on disk, read by an independent reader written from docs/log-format.md."""
import os
import sys

from conftest import ACCOUNT, ROOT, Server, run_cli, wait_gone, wait_state

sys.path.insert(0, os.path.join(ROOT, "tools"))
import logdump  # noqa: E402


def test_independent_reader_agrees_with_verify_across_segments(data_dir):
    server = Server(data_dir, transition_delay=0.01, extra=["--segment-size-bytes", "4096"]).start()
    try:
        lam = server.client(access_key="AKIDAUDITOR")
        made = [lam.create_event_source_mapping(FunctionName="worker", EventSourceArn=f"arn:aws:sqs:us-east-1:{ACCOUNT}:q{i}")["UUID"]
                for i in range(40)]
        wait_state(lam, made[0], {"Enabled"})
        lam.update_event_source_mapping(UUID=made[0], BatchSize=5)
        wait_state(lam, made[0], {"Enabled"})
        lam.delete_event_source_mapping(UUID=made[1])
        wait_gone(lam, made[1])
    finally:
        server.stop()

    events = [e for _, e in logdump.read_log(data_dir)]
    segments, head, chain = logdump.read_log.summary
    assert len(segments) > 2 and all(sealed for _, _, sealed in segments[:-1])
    verify = run_cli("verify", "--data-dir", data_dir).stdout
    assert f"head sequence: {head}" in verify
    assert f"head hash: {chain}" in verify
    assert [e["Sequence"] for e in events] == list(range(1, head + 1))

    creates = [e for e in events if e["Type"] == "Created"]
    assert len(creates) == 40
    actor = creates[0]["Actor"]
    assert actor["AccessKeyId"] == "AKIDAUDITOR" and actor["Region"] == "us-east-1"
    assert actor["SourceIp"] == "127.0.0.1" and actor["UserAgent"].startswith("Boto3/") and actor["RequestId"]
    update = next(e for e in events if e["Type"] == "Updated")
    assert update["Set"] == {"BatchSize": 5} and update["Initiator"] == "User"
    kinds = [(e["Type"], e.get("From"), e.get("State")) for e in events if e["UUID"] == made[1]]
    assert kinds == [("Created", None, "Creating"), ("StateChanged", "Creating", "Enabled"),
                     ("DeleteRequested", None, "Deleting"), ("Removed", None, None)]
    assert all(e["Initiator"] == "System" and "Actor" not in e for e in events if e["Type"] in ("StateChanged", "Removed"))
