"""A short run of tools/crash_test.py (the long run is the tool's default of 200 cycles)."""
import os
import subprocess
import sys

from conftest import BINARY, ROOT


def test_crash_tool_short_run():
    cycles = os.environ.get("ESMLOG_CRASH_CYCLES", "8")
    r = subprocess.run([sys.executable, os.path.join(ROOT, "tools", "crash_test.py"), "--cycles", cycles, "--binary", BINARY,
                        "--seconds", "240"], capture_output=True, text=True, timeout=600)
    print(r.stdout)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "crash test passed" in r.stdout
