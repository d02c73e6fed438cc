"""A throwaway PostgreSQL (tools/postgres.sh), a database per test, a TCP proxy the test can cut,
and the checks every multi-node test ends with."""
import json
import os
import select
import socket
import subprocess
import tempfile
import threading
import time
import uuid as uuidlib

from conftest import ROOT, Server, run_cli

SCRIPT = os.path.join(ROOT, "tools", "postgres.sh")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PostgresServer:
    """One PostgreSQL cluster in a temporary folder, stoppable like a crash (immediate) and restartable."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="esmlog-pg-")
        self.port = free_port()

    def start(self):
        subprocess.run(["bash", SCRIPT, "start", self.dir, str(self.port)], check=True, capture_output=True, text=True, timeout=180)
        return self

    def stop(self, mode="fast"):
        subprocess.run(["bash", SCRIPT, "stop", self.dir, mode], check=True, capture_output=True, text=True, timeout=60)

    def psql(self, database, sql):
        out = subprocess.run(["psql", "-h", "127.0.0.1", "-p", str(self.port), "-U", "esm", "-d", database, "-qAt", "-c", sql],
                             check=True, capture_output=True, text=True, timeout=60)
        return out.stdout.strip()

    def new_database(self):
        name = "t_" + uuidlib.uuid4().hex[:12]
        self.psql("postgres", f"CREATE DATABASE {name}")
        return name

    def url(self, database, port=None):
        return f"postgres://esm@127.0.0.1:{port or self.port}/{database}"


class Proxy:
    """Forwards 127.0.0.1:port to the database. `cut()` stops forwarding without closing anything
    (a network that drops packets); `heal()` closes what was cut and forwards again."""

    def __init__(self, target_port):
        self.target = target_port
        self.listener = socket.socket()
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(64)
        self.port = self.listener.getsockname()[1]
        self.cut_off = False
        self.pairs = []
        self.lock = threading.Lock()
        self.closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while not self.closed:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            if self.cut_off:
                with self.lock:
                    self.pairs.append((client, None))
                continue
            try:
                upstream = socket.create_connection(("127.0.0.1", self.target), timeout=5)
            except OSError:
                client.close()
                continue
            with self.lock:
                self.pairs.append((client, upstream))
            threading.Thread(target=self._pump, args=(client, upstream), daemon=True).start()

    def _pump(self, a, b):
        sockets = [a, b]
        try:
            while not self.closed:
                ready, _, _ = select.select(sockets, [], [], 0.1)
                if self.cut_off:
                    time.sleep(0.05)
                    continue
                for s in ready:
                    data = s.recv(65536)
                    if not data:
                        return
                    (b if s is a else a).sendall(data)
        except (OSError, ValueError):  # closed by heal() or close()
            return
        finally:
            if not self.cut_off:
                for s in sockets:
                    try:
                        s.close()
                    except OSError:
                        pass

    def cut(self):
        self.cut_off = True

    def heal(self):
        with self.lock:
            pairs, self.pairs = self.pairs, []
        for pair in pairs:
            for s in pair:
                if s is not None:
                    try:
                        s.close()
                    except OSError:
                        pass
        self.cut_off = False

    def close(self):
        self.closed = True
        self.heal()
        self.listener.close()


def node(url, data_dir, transition_delay=0.2, extra=()):
    return Server(data_dir, transition_delay=transition_delay, extra=["--storage", url, *extra]).start()


class Ledger:
    """What clients were told: every acknowledged write and its request id, kept across threads."""

    def __init__(self):
        self.lock = threading.Lock()
        self.acknowledged = []  # (operation, request id, uuid)
        self.failed = []  # (operation, request id or None, error text)
        self.conflicts = 0

    def ok(self, operation, response, uuid):
        with self.lock:
            self.acknowledged.append((operation, response["ResponseMetadata"]["RequestId"], uuid))

    def error(self, operation, error):
        # A connection error (a killed node) has no response, or a response of None.
        response = getattr(error, "response", None) or {}
        request = response.get("ResponseMetadata", {}).get("RequestId")
        code = response.get("Error", {}).get("Code", type(error).__name__)
        with self.lock:
            if code == "ResourceConflictException":
                self.conflicts += 1
            self.failed.append((operation, request, code))


def export_events(url, data_dir):
    out = run_cli("export", "--data-dir", data_dir, "--storage", url, "--format", "jsonl").stdout
    return [json.loads(line) for line in out.splitlines() if json.loads(line).get("RecordType") == "Event"]


def replay_state(url, data_dir):
    return json.loads(run_cli("replay", "--data-dir", data_dir, "--storage", url).stdout)


def listed(client):
    mappings, marker = [], None
    while True:
        page = client.list_event_source_mappings(**({"Marker": marker} if marker else {}), MaxItems=100)
        mappings += page["EventSourceMappings"]
        marker = page.get("NextMarker")
        if not marker:
            return mappings


def view(mappings):
    def seconds(t):
        return round(t.timestamp() if hasattr(t, "timestamp") else float(t), 3)
    return sorted((m["UUID"], m["State"], m.get("BatchSize"), seconds(m["LastModified"])) for m in mappings)


TRANSITIONAL = ("Creating", "Updating", "Enabling", "Disabling", "Deleting")


def settled_state(url, scratch, deadline_seconds):
    """The replayed state once no mapping is in a transitional state."""
    deadline = time.time() + deadline_seconds
    while True:
        state = replay_state(url, scratch)
        busy = [m["UUID"] for m in state["EventSourceMappings"] if m["State"] in TRANSITIONAL]
        if not busy:
            return state
        if time.time() > deadline:
            raise AssertionError(f"transitions never completed for {busy[:5]}")
        time.sleep(0.2)


def check_log(pg, database, url, scratch, ledger, nodes, deadline_seconds=10):
    """After the load: the log verifies, its sequence has no gaps, every acknowledged write is in
    it exactly once, no two live mappings share a function and source, and every node's state is
    a fresh replay's."""
    state = settled_state(url, scratch, deadline_seconds)
    verify = run_cli("verify", "--data-dir", scratch, "--storage", url, check=False)
    assert verify.returncode == 0 and verify.stdout.strip().endswith("ok"), verify.stdout + verify.stderr
    rows = pg.psql(database, "SELECT count(*), coalesce(max(last_seq), 0) FROM esm_record WHERE bytes IS NOT NULL")
    head = pg.psql(database, "SELECT last_seq FROM esm_head")
    events = export_events(url, scratch)
    sequences = [e["Sequence"] for e in events]
    assert sequences == list(range(1, len(sequences) + 1)), "sequence has a gap or a repeat"
    assert int(head) == len(sequences), (head, rows, len(sequences))
    by_request = {}
    for e in events:
        request = (e.get("Actor") or {}).get("RequestId")
        if request:
            by_request[request] = by_request.get(request, 0) + 1
    repeated = [r for r, n in by_request.items() if n > 1]
    assert not repeated, f"requests applied more than once: {repeated[:5]}"
    for operation, request, _ in ledger.acknowledged:
        assert by_request.get(request) == 1, f"acknowledged {operation} {request} is in the log {by_request.get(request, 0)} times"
    # Each transition a user change started is completed exactly once: a system event follows
    # every user event that left a transitional state, and no system event follows another.
    last = {}
    for e in events:
        before = last.get(e["UUID"])
        if e.get("Initiator") == "System":
            assert before is not None and before.get("Initiator") != "System", f"transition of {e['UUID']} completed twice (#{e['Sequence']})"
        last[e["UUID"]] = e
    live = {}
    for m in state["EventSourceMappings"]:
        key = (m["FunctionArn"], m.get("EventSourceArn") or json.dumps([m.get("SelfManagedEventSource"), m.get("Topics")], sort_keys=True))
        assert key not in live, f"two live mappings for {key}: {live[key]} and {m['UUID']}"
        live[key] = m["UUID"]
    expected = view(state["EventSourceMappings"])
    for n in nodes:
        client = n.client()
        deadline = time.time() + deadline_seconds
        while True:
            seen = view(listed(client))
            if seen == expected:
                break
            if time.time() > deadline:
                raise AssertionError(f"node on port {n.port} differs from a fresh replay: {len(seen)} vs {len(expected)} mappings")
            time.sleep(0.1)
    return events, state
