"""Fixtures that run a real `esmlog serve` on 127.0.0.1 with a fresh data folder."""
import os
import shutil
import signal
import subprocess
import tempfile
import time

import boto3
import pytest
from botocore.config import Config

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BINARY = os.environ.get("ESMLOG_BIN", os.path.join(ROOT, ".build", "debug", "esmlog"))
ACCOUNT = "123456789012"


class Server:
    """One esmlog process; can be killed with SIGKILL and started again on the same folder."""

    def __init__(self, data_dir, transition_delay=0.05, extra=(), arguments=None, env=None):
        """`arguments`, when given, replace every option after `serve` (the test sets them all);
        `env` replaces the environment."""
        self.data_dir = data_dir
        self.transition_delay = transition_delay
        self.extra = list(extra)
        self.arguments = arguments
        self.env = env
        self.proc = None
        self.port = None
        self.stderr_path = data_dir + ".stderr"

    def start(self):
        options = self.arguments if self.arguments is not None else [
            "--data-dir", self.data_dir, "--host", "127.0.0.1", "--port", "0", "--account", ACCOUNT,
            "--transition-delay", str(self.transition_delay), *self.extra]
        self.stderr = open(self.stderr_path, "ab")
        self.proc = subprocess.Popen([BINARY, "serve", *options], stdout=subprocess.PIPE, stderr=self.stderr, text=True,
                                     env=self.env)
        deadline = time.time() + 30
        line = ""
        while time.time() < deadline:
            line = self.proc.stdout.readline()
            if line.startswith("esmlog listening on "):
                self.port = int(line.rsplit(":", 1)[1])
                return self
            if self.proc.poll() is not None:
                break
        raise RuntimeError(f"esmlog did not start: {line!r}, stderr in {self.stderr_path}")

    @property
    def endpoint(self):
        return f"http://127.0.0.1:{self.port}"

    def kill9(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc:
            self.proc.stdout.close()
            self.stderr.close()

    def client(self, access_key="AKIDEXAMPLE", region="us-east-1"):
        return boto3.client(
            "lambda", endpoint_url=self.endpoint, region_name=region,
            aws_access_key_id=access_key, aws_secret_access_key="secret",
            config=Config(retries={"max_attempts": 1}, read_timeout=30, connect_timeout=5))


def run_cli(*args, check=True):
    return subprocess.run([BINARY, *args], capture_output=True, text=True, check=check, timeout=120)


@pytest.fixture
def data_dir():
    d = tempfile.mkdtemp(prefix="esmlog-e2e-")
    yield os.path.join(d, "data")
    shutil.rmtree(d, ignore_errors=True)


@pytest.fixture
def server(data_dir):
    s = Server(data_dir).start()
    yield s
    s.stop()


@pytest.fixture
def lam(server):
    return server.client()


def wait_state(client, uuid, states, timeout=10):
    """Polls GetEventSourceMapping until the state is one of `states`."""
    deadline = time.time() + timeout
    while True:
        m = client.get_event_source_mapping(UUID=uuid)
        if m["State"] in states:
            return m
        if time.time() > deadline:
            raise AssertionError(f"{uuid} stuck in {m['State']}, wanted {states}")
        time.sleep(0.02)


def wait_gone(client, uuid, timeout=10):
    deadline = time.time() + timeout
    while True:
        try:
            client.get_event_source_mapping(UUID=uuid)
        except client.exceptions.ResourceNotFoundException:
            return
        if time.time() > deadline:
            raise AssertionError(f"{uuid} not removed")
        time.sleep(0.02)


def strip(response):
    return {k: v for k, v in response.items() if k != "ResponseMetadata"}
