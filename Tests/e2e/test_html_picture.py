"""The HTML export's visual timeline, rendered by headless Chromium (Debian's package, which
tools/setup.sh --tests installs) and checked as a picture: each state's lane colour is drawn, and
the page is a rendered page. Where chromium cannot be had the test is skipped with the reason."""
import os
import shutil
import subprocess

import pytest

from conftest import BINARY, ROOT

# The golden v2 history: SQS, Kinesis, DynamoDB and Kafka mappings that were created, updated,
# disabled, enabled, tagged and deleted, so every state appears.
HISTORY = os.path.join(ROOT, "data", "golden-v2")
LANES = {"Creating": "#7fb3e6", "Enabling": "#9fd9a8", "Enabled": "#2e9e4f", "Updating": "#e8b630", "Disabling": "#e8873a",
         "Disabled": "#8c8c8c", "Deleting": "#d2413a"}


def test_the_visual_timeline_renders_every_state_lane(tmp_path):
    if shutil.which("chromium") is None:
        # CI installs it (tools/setup.sh --tests): there its absence is a failure, not a skip.
        assert not os.environ.get("CI"), "chromium is missing in CI"
        pytest.skip("chromium is not installed (tools/setup.sh --tests installs it)")
    html = subprocess.run([BINARY, "export", "--data-dir", HISTORY, "--format", "html"], capture_output=True, text=True,
                          check=True, timeout=60).stdout
    for state, colour in LANES.items():
        assert f'fill="{colour}"' in html, state
    assert html.count("<circle") == html.count('<a href="#ev-') > 10
    png = str(tmp_path / "timeline.png")
    # 300 pixels: more than the 12x12 legend square of each colour, so the lanes themselves count.
    colours = ",".join(f"{c}:300" for c in LANES.values())
    out = subprocess.run(["bash", os.path.join(ROOT, "tools", "html_screenshot.sh"), HISTORY, png, colours],
                         capture_output=True, text=True, timeout=180, env=dict(os.environ, ESMLOG_BIN=BINARY))
    assert out.returncode == 0, out.stdout + out.stderr
    for colour in LANES.values():
        assert f"{colour}: " in out.stdout
    print(out.stdout)
