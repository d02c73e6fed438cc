"""The log on PostgreSQL: several esmlog nodes on one database, migration both ways, and what
happens when a node dies, the database stops, or a node is cut off from it. Every test ends with
check_log: no gaps, the chain verifies, every acknowledged write is there once, at most one live
mapping per function and source, and every node's state equals a fresh replay."""
import filecmp
import json
import os
import random
import shutil
import tempfile
import threading
import time

import pytest

from conftest import ROOT, run_cli, wait_state
from pg_cluster import Ledger, PostgresServer, Proxy, check_log, export_events, listed, node, replay_state

GOLDEN = os.path.join(ROOT, "data", "golden-v2")
FUNCTION = "arn:aws:lambda:us-east-1:123456789012:function:"


@pytest.fixture(scope="module")
def pg():
    server = PostgresServer().start()
    yield server
    server.stop("immediate")
    shutil.rmtree(server.dir, ignore_errors=True)


@pytest.fixture
def db(pg):
    return pg.new_database()


@pytest.fixture
def scratch():
    d = tempfile.mkdtemp(prefix="esmlog-pg-e2e-")
    yield d
    shutil.rmtree(d, ignore_errors=True)


@pytest.fixture
def golden(scratch):
    """A copy of the golden folder to migrate from: migrate takes the source folder's lock, which
    writes its pid into the folder's LOCK file."""
    path = os.path.join(scratch, "golden")
    shutil.copytree(GOLDEN, path)
    return path


@pytest.fixture
def cluster():
    nodes = []
    yield nodes
    for n in nodes:
        n.stop()


def test_migrate_there_and_back_keeps_every_byte(pg, db, scratch, golden):
    url = pg.url(db)
    there = run_cli("migrate", "--from", golden, "--to", url)
    assert there.stdout.splitlines()[-1] == "ok"
    expected = run_cli("verify", "--data-dir", GOLDEN).stdout
    on_pg = run_cli("verify", "--data-dir", scratch + "/x", "--storage", url).stdout
    assert on_pg == expected
    # Every reader answers the same from the database as from the folder.
    for command in (["replay"], ["replay", "--at-seq", "20"], ["timeline"], ["inspect"], ["export", "--format", "csv"]):
        assert run_cli(*command, "--data-dir", scratch + "/x", "--storage", url).stdout == run_cli(*command, "--data-dir", GOLDEN).stdout, command
    back = os.path.join(scratch, "back")
    assert run_cli("migrate", "--from", url, "--to", back).stdout.splitlines()[-1] == "ok"
    names = sorted(os.listdir(os.path.join(GOLDEN, "wal")))
    segments = [n for n in names if n.endswith(".seg")]
    assert sorted(n for n in os.listdir(os.path.join(back, "wal")) if n.endswith(".seg")) == segments
    for n in segments:
        assert filecmp.cmp(os.path.join(GOLDEN, "wal", n), os.path.join(back, "wal", n), shallow=False), n
    # A target that holds a log is refused, and left as it was.
    again = run_cli("migrate", "--from", golden, "--to", url, check=False)
    assert again.returncode != 0 and "already holds a log" in again.stderr
    assert run_cli("verify", "--data-dir", scratch + "/x", "--storage", url).stdout == expected
    refused = run_cli("migrate", "--from", url, "--to", back, check=False)
    assert refused.returncode != 0 and "not empty" in refused.stderr


def test_migrated_history_is_served_and_extended(pg, db, scratch, golden, cluster):
    url = pg.url(db)
    run_cli("migrate", "--from", golden, "--to", url)
    before = replay_state(url, scratch + "/r")
    n = node(url, os.path.join(scratch, "n1"))
    cluster.append(n)
    lam = n.client()
    assert len(listed(lam)) == len(before["EventSourceMappings"])
    m = lam.create_event_source_mapping(FunctionName="migrated", EventSourceArn="arn:aws:sqs:us-east-1:123456789012:after")
    wait_state(lam, m["UUID"], ["Enabled"])
    ledger = Ledger()
    ledger.ok("create", m, m["UUID"])
    check_log(pg, db, url, scratch + "/r", ledger, cluster)


def test_two_nodes_read_their_writes_and_see_each_other(pg, db, scratch, cluster):
    url = pg.url(db)
    a, b = node(url, os.path.join(scratch, "a")), node(url, os.path.join(scratch, "b"))
    cluster += [a, b]
    ca, cb = a.client(), b.client()
    ledger = Ledger()
    m = ca.create_event_source_mapping(FunctionName="f", EventSourceArn="arn:aws:sqs:us-east-1:123456789012:q", BatchSize=5)
    ledger.ok("create", m, m["UUID"])
    assert ca.get_event_source_mapping(UUID=m["UUID"])["BatchSize"] == 5  # read your writes on the node
    started = time.time()
    while True:  # the other node shows it within a second
        try:
            cb.get_event_source_mapping(UUID=m["UUID"])
            break
        except cb.exceptions.ResourceNotFoundException:
            assert time.time() - started < 1.0, "node b did not show node a's create within 1 s"
            time.sleep(0.02)
    wait_state(cb, m["UUID"], ["Enabled"])
    with pytest.raises(cb.exceptions.ResourceConflictException) as conflict:
        cb.create_event_source_mapping(FunctionName="f", EventSourceArn="arn:aws:sqs:us-east-1:123456789012:q")
    assert m["UUID"] in str(conflict.value)
    u = cb.update_event_source_mapping(UUID=m["UUID"], BatchSize=7)
    ledger.ok("update", u, m["UUID"])
    wait_state(cb, m["UUID"], ["Enabled"])
    # Node a shows b's update once it has followed the log (before, it may show the state before it).
    started = time.time()
    while ca.get_event_source_mapping(UUID=m["UUID"])["BatchSize"] != 7 or ca.get_event_source_mapping(UUID=m["UUID"])["State"] != "Enabled":
        assert time.time() - started < 1.0, "node a did not show node b's update within 1 s"
        time.sleep(0.02)
    d = ca.delete_event_source_mapping(UUID=m["UUID"])
    ledger.ok("delete", d, m["UUID"])
    # An update of a mapping another node just deleted is refused as AWS refuses it.
    with pytest.raises(cb.exceptions.ClientError) as late:
        started = time.time()
        while time.time() - started < 2:
            cb.update_event_source_mapping(UUID=m["UUID"], BatchSize=8)
            time.sleep(0.02)
    assert late.value.response["Error"]["Code"] in ("ResourceInUseException", "ResourceNotFoundException")
    check_log(pg, db, url, scratch + "/r", ledger, cluster)


def test_same_function_and_source_at_once_on_two_nodes_gets_one_202(pg, db, scratch, cluster):
    url = pg.url(db)
    a, b = node(url, os.path.join(scratch, "a")), node(url, os.path.join(scratch, "b"))
    cluster += [a, b]
    ledger = Ledger()
    clients = [a.client(), b.client(), a.client(), b.client()]
    for round_ in range(8):
        gate = threading.Barrier(len(clients))

        def create(client, source=f"arn:aws:sqs:us-east-1:123456789012:race{round_}"):
            gate.wait()
            try:
                m = client.create_event_source_mapping(FunctionName="racer", EventSourceArn=source)
                ledger.ok("create", m, m["UUID"])
            except Exception as e:  # noqa: BLE001 - every answer is kept
                ledger.error("create", e)

        threads = [threading.Thread(target=create, args=(c,)) for c in clients]
        [t.start() for t in threads]
        [t.join(30) for t in threads]
    assert len(ledger.acknowledged) == 8, ledger.failed
    assert ledger.conflicts == 8 * (len(clients) - 1), ledger.failed
    check_log(pg, db, url, scratch + "/r", ledger, cluster)


def load(clients, ledger, stop, count, seed):
    """Creates, updates and deletes from one thread, bounded in count, until `stop`."""
    rng = random.Random(seed)
    mine = []
    for i in range(count):
        if stop.is_set():
            return
        client = rng.choice(clients)
        try:
            if not mine or rng.random() < 0.5:
                m = client.create_event_source_mapping(FunctionName=f"load{seed}", EventSourceArn=f"arn:aws:sqs:us-east-1:123456789012:s{seed}-{i}",
                                                       BatchSize=rng.randint(1, 10))
                ledger.ok("create", m, m["UUID"])
                mine.append(m["UUID"])
            elif rng.random() < 0.7:
                u = client.update_event_source_mapping(UUID=rng.choice(mine), BatchSize=rng.randint(1, 10))
                ledger.ok("update", u, u["UUID"])
            else:
                uuid = mine.pop(rng.randrange(len(mine)))
                d = client.delete_event_source_mapping(UUID=uuid)
                ledger.ok("delete", d, uuid)
        except Exception as e:  # noqa: BLE001 - failures are expected during faults; all are kept
            ledger.error("write", e)
            time.sleep(0.05)


def run_load(clients_per_thread, ledger, seconds, count=150, first_seed=0):
    stop = threading.Event()
    threads = [threading.Thread(target=load, args=(clients, ledger, stop, count, first_seed + k), daemon=True)
               for k, clients in enumerate(clients_per_thread)]
    [t.start() for t in threads]
    return stop, threads


def finish(stop, threads):
    stop.set()
    for t in threads:
        t.join(60)
        assert not t.is_alive(), "a client thread hung"


def test_kill9_of_a_node_under_load_loses_nothing(pg, db, scratch, cluster):
    url = pg.url(db)
    nodes = [node(url, os.path.join(scratch, f"n{i}")) for i in range(3)]
    cluster += nodes
    ledger = Ledger()
    survivors = [nodes[0].client(), nodes[1].client()]
    stop, threads = run_load([[nodes[k % 3].client()] if k < 3 else survivors for k in range(5)], ledger, 0)
    time.sleep(3)
    nodes[2].kill9()
    time.sleep(3)
    finish(stop, threads)
    assert len(ledger.acknowledged) > 50, (len(ledger.acknowledged), ledger.failed[:5])
    # The dead node's pending transitions are completed by the others.
    check_log(pg, db, url, scratch + "/r", ledger, nodes[:2])
    # It starts again from its own snapshots and the shared log, and agrees.
    nodes[2].start()
    check_log(pg, db, url, scratch + "/r", ledger, nodes)


def test_immediate_stop_of_postgres_under_load(pg, db, scratch, cluster):
    url = pg.url(db)
    nodes = [node(url, os.path.join(scratch, f"n{i}")) for i in range(2)]
    cluster += nodes
    ledger = Ledger()
    stop, threads = run_load([[n.client()] for n in nodes] * 2, ledger, 0, count=400)
    time.sleep(2)
    acknowledged_before = len(ledger.acknowledged)
    pg.stop("immediate")
    try:
        time.sleep(0.5)
        # Writes fail fast with AWS's 500, reads go on from memory.
        client = nodes[0].client()
        started = time.time()
        with pytest.raises(client.exceptions.ServiceException):
            client.create_event_source_mapping(FunctionName="down", EventSourceArn="arn:aws:sqs:us-east-1:123456789012:down")
        assert time.time() - started < 10
        assert isinstance(listed(client), list)
    finally:
        pg.start()
    time.sleep(3)
    finish(stop, threads)
    assert len(ledger.acknowledged) > acknowledged_before, "no write succeeded after the database came back"
    check_log(pg, db, url, scratch + "/r", ledger, nodes)


def test_node_cut_off_from_postgres_serves_reads_and_catches_up(pg, db, scratch, cluster):
    url = pg.url(db)
    proxy = Proxy(pg.port)
    try:
        a = node(url, os.path.join(scratch, "a"))
        c = node(pg.url(db, port=proxy.port), os.path.join(scratch, "c"))
        cluster += [a, c]
        ledger = Ledger()
        ca, cc = a.client(), c.client()
        m = cc.create_event_source_mapping(FunctionName="cut", EventSourceArn="arn:aws:sqs:us-east-1:123456789012:cut")
        ledger.ok("create", m, m["UUID"])
        wait_state(cc, m["UUID"], ["Enabled"])
        proxy.cut()
        started = time.time()
        with pytest.raises(cc.exceptions.ServiceException):
            cc.update_event_source_mapping(UUID=m["UUID"], BatchSize=3)
        assert time.time() - started < 10, "a write on a cut-off node hung"
        assert cc.get_event_source_mapping(UUID=m["UUID"])["State"] == "Enabled"  # reads from memory
        # The rest of the cluster goes on.
        for i in range(20):
            r = ca.create_event_source_mapping(FunctionName="cut", EventSourceArn=f"arn:aws:sqs:us-east-1:123456789012:other{i}")
            ledger.ok("create", r, r["UUID"])
        proxy.heal()
        check_log(pg, db, url, scratch + "/r", ledger, [a, c], deadline_seconds=20)
        u = cc.update_event_source_mapping(UUID=m["UUID"], BatchSize=4)
        ledger.ok("update", u, m["UUID"])
        check_log(pg, db, url, scratch + "/r", ledger, [a, c])
    finally:
        proxy.close()


def test_repair_on_postgres_cuts_a_damaged_log_moves_the_rest_aside_and_journals_it(pg, db, scratch, golden, cluster):
    url = pg.url(db)
    run_cli("migrate", "--from", golden, "--to", url)
    data = os.path.join(scratch, "n1")
    rows = int(pg.psql(db, "SELECT count(*) FROM esm_record"))
    # One byte of the record holding events 20 and 21 changed in the database: verify names it.
    pg.psql(db, "UPDATE esm_record SET bytes = set_byte(bytes, 30, get_byte(bytes, 30) # 1) WHERE last_seq = 21")
    bad = run_cli("verify", "--data-dir", data, "--storage", url, check=False)
    assert bad.returncode == 1 and "checksum mismatch" in bad.stdout and "head sequence: 19" in bad.stdout
    # A cut past the last valid event is refused plainly, and changes nothing.
    refused = run_cli("repair", "--data-dir", data, "--storage", url, "--truncate-after", "20", check=False)
    assert refused.returncode != 0 and "past the last valid event (19)" in refused.stderr and "Transaction" not in refused.stderr
    assert pg.psql(db, "SELECT count(*) FROM esm_repair") == "0"
    assert int(pg.psql(db, "SELECT count(*) FROM esm_record")) == rows
    out = run_cli("repair", "--data-dir", data, "--storage", url, "--truncate-after", "19").stdout.splitlines()
    assert out[0] == "kept events 1...19" and out[-1].startswith("journal: esm_repair row 1 in postgres://")
    # Nothing is deleted: what was cut lies beside the log, under the journal's row.
    kept, cut = (int(x) for x in pg.psql(db, "SELECT (SELECT count(*) FROM esm_record), (SELECT count(*) FROM esm_record_cut WHERE repair = 1)").split("|"))
    assert kept + cut == rows and f"moved aside: {cut} records to esm_record_cut" in out
    assert pg.psql(db, "SELECT min(last_seq) FROM esm_record_cut") == "21"
    entry = json.loads(pg.psql(db, "SELECT entry FROM esm_repair"))
    assert entry["KeptThroughSequence"] == 19 and entry["PreviousLastValidSequence"] == 19
    assert any("checksum mismatch" in p for p in entry["Problems"]) and entry["HeadHash"] in "\n".join(out)
    good = run_cli("verify", "--data-dir", data, "--storage", url).stdout.splitlines()
    assert "head sequence: 19" in good and good[-1] == "ok"
    # verify lists the repair, as it lists a data folder's repairs.jsonl.
    assert [json.loads(line[len("repair: "):]) for line in good if line.startswith("repair: ")] == [entry]
    assert run_cli("replay", "--data-dir", data, "--storage", url).stdout == run_cli("replay", "--data-dir", GOLDEN, "--at-seq", "19").stdout
    # Nodes go on from the cut.
    n = node(url, data)
    cluster.append(n)
    ledger = Ledger()
    m = n.client().create_event_source_mapping(FunctionName="after-repair", EventSourceArn="arn:aws:sqs:us-east-1:123456789012:after-repair")
    ledger.ok("create", m, m["UUID"])
    wait_state(n.client(), m["UUID"], ["Enabled"])
    # The log goes on at 20 (the node first completes the transitions left open at 19), no gap.
    sequences = [e["Sequence"] for e in export_events(url, scratch + "/x")]
    assert sequences == list(range(1, len(sequences) + 1)) and len(sequences) > 20
    check_log(pg, db, url, scratch + "/r", ledger, [n])


def test_bad_storage_urls_are_refused_plainly(scratch):
    for bad, says in [("postgres://127.0.0.1/db", "no user"), ("postgres://u@127.0.0.1:5/", "no database"),
                      ("mysql://u@h/db", "--storage must be postgres://")]:
        r = run_cli("verify", "--data-dir", scratch, "--storage", bad, check=False)
        assert r.returncode != 0 and says in r.stderr, (bad, r.stderr)
    unreachable = run_cli("verify", "--data-dir", scratch, "--storage", "postgres://u:secret@127.0.0.1:1/db", check=False)
    assert unreachable.returncode != 0 and "postgres://u@127.0.0.1:1/db" in unreachable.stderr
    assert "secret" not in unreachable.stderr


def test_cloudtrail_import_into_postgres_reads_as_the_folder_import(pg, db, scratch, tmp_path):
    from cloudtrail_fixtures import write_bucket
    bucket = str(tmp_path / "bucket")
    write_bucket(bucket)
    url = pg.url(db)
    folder = os.path.join(scratch, "folder")
    run_cli("import", "--data-dir", folder, bucket)
    expected = run_cli("import", "--data-dir", os.path.join(scratch, "count"), bucket).stderr.split("imported: ")[1].split(",")[0]
    first = run_cli("import", "--data-dir", os.path.join(scratch, "pgimport"), "--storage", url, bucket)
    assert f"imported: {expected}," in first.stderr
    again = run_cli("import", "--data-dir", os.path.join(scratch, "pgimport"), "--storage", url, bucket)
    assert "imported: 0," in again.stderr
    for command in (["timeline"], ["replay"], ["export", "--format", "csv"]):
        assert run_cli(*command, "--data-dir", scratch + "/x", "--storage", url).stdout == run_cli(*command, "--data-dir", folder).stdout
    # An imported log is not served.
    refused = run_cli("serve", "--data-dir", os.path.join(scratch, "s"), "--storage", url, "--port", "0", check=False)
    assert refused.returncode != 0 and "imported CloudTrail history" in refused.stderr
