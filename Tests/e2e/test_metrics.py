"""GET /metrics: Prometheus text that a Prometheus parser reads, with counters that move."""
import time
import urllib.request

import pytest
from prometheus_client.parser import text_string_to_metric_families

from conftest import Server, wait_state

SQS = "arn:aws:sqs:us-east-1:123456789012:q"


def scrape(server):
    with urllib.request.urlopen(server.endpoint + "/metrics", timeout=10) as r:
        assert r.status == 200
        assert r.headers["Content-Type"].startswith("text/plain; version=0.0.4")
        text = r.read().decode()
    samples = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            samples[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return samples


def value(samples, name, **labels):
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def test_metrics_parse_and_move_with_requests_and_writes(server, lam):
    before = scrape(server)
    for name in ("esmlog_request_duration_seconds_count", "esmlog_mappings", "esmlog_log_bytes", "esmlog_snapshot_age_seconds",
                 "esmlog_events_since_snapshot", "esmlog_last_sequence"):
        assert any(k[0] == name for k in before), name
    m = lam.create_event_source_mapping(FunctionName="f", EventSourceArn=SQS)
    wait_state(lam, m["UUID"], {"Enabled"})
    with pytest.raises(lam.exceptions.ResourceNotFoundException):
        lam.get_event_source_mapping(UUID="00000000-0000-4000-8000-000000000000")
    after = scrape(server)

    def moved(name, **labels):
        return value(after, name, **labels) - value(before, name, **labels)

    assert moved("esmlog_requests_total", operation="CreateEventSourceMapping", status="202") == 1
    assert moved("esmlog_requests_total", operation="GetEventSourceMapping", status="404") == 1
    assert moved("esmlog_request_duration_seconds_count", operation="CreateEventSourceMapping") == 1
    assert moved("esmlog_appends_total") == 2  # Created, then the system's Creating → Enabled
    assert moved("esmlog_group_commit_events_sum") == 2
    assert moved("esmlog_fsync_duration_seconds_count") >= 2
    assert moved("esmlog_log_bytes_written_total") > 0
    assert value(after, "esmlog_log_bytes") > value(before, "esmlog_log_bytes")
    assert value(after, "esmlog_mappings", state="Enabled") == 1
    assert value(after, "esmlog_last_sequence") == 2
    assert value(after, "esmlog_events_since_snapshot") == 2
    assert value(after, "esmlog_snapshot_age_seconds") == -1


def test_snapshot_age_and_events_since_snapshot_follow_snapshots(data_dir):
    s = Server(data_dir, extra=["--snapshot-every-events", "2"]).start()
    try:
        lam = s.client()
        m = lam.create_event_source_mapping(FunctionName="f", EventSourceArn=SQS)
        wait_state(lam, m["UUID"], {"Enabled"})
        deadline = time.time() + 10
        while value(scrape(s), "esmlog_snapshot_age_seconds") < 0 and time.time() < deadline:
            time.sleep(0.05)
        samples = scrape(s)
        assert 0 <= value(samples, "esmlog_snapshot_age_seconds") < 60
        assert value(samples, "esmlog_events_since_snapshot") == 0
    finally:
        s.stop()
