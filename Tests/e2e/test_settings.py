"""serve's settings from --config FILE and ESMLOG_* environment variables; --help lists them all."""
import os
import re
import subprocess

import pytest

from conftest import BINARY, ROOT, Server

SUBCOMMANDS = ["serve", "replay", "snapshot", "timeline", "export", "verify", "inspect", "repair", "diff", "blame", "keygen",
               "checkpoint"]


def start(data_dir, args, env_extra):
    env = {k: v for k, v in os.environ.items() if not k.startswith("ESMLOG_")}
    env.update(env_extra)
    return Server(data_dir, arguments=args, env=env).start()


@pytest.mark.parametrize("layers,expected", [
    ({"file"}, "222222222222"),
    ({"file", "env"}, "333333333333"),
    ({"file", "env", "cli"}, "444444444444"),
])
def test_command_line_beats_environment_beats_file(tmp_path, layers, expected):
    config = tmp_path / "esmlog.conf"
    config.write_text(f"# test settings\ndata-dir = {tmp_path / 'data'}\nport = 0\ntransition-delay = 0\n"
                      f"account = 222222222222\n")
    args = ["--config", str(config)]
    env = {"ESMLOG_ACCOUNT": "333333333333"} if "env" in layers else {}
    if "cli" in layers:
        args += ["--account", "444444444444"]
    server = start(str(tmp_path / "data"), args, env)
    try:
        m = server.client().create_event_source_mapping(FunctionName="f", EventSourceArn="arn:aws:sqs:us-east-1:123456789012:q")
        assert m["FunctionArn"] == f"arn:aws:lambda:us-east-1:{expected}:function:f"
        assert os.path.isdir(tmp_path / "data" / "wal")
    finally:
        server.stop()


def test_config_file_mistakes_are_named(tmp_path):
    config = tmp_path / "bad.conf"
    config.write_text("port = 0\nprot = 1\n")
    r = subprocess.run([BINARY, "serve", "--config", str(config)], capture_output=True, text=True, timeout=60)
    assert r.returncode != 0 and f"{config} line 2: unknown setting 'prot'" in r.stderr


def test_serve_help_lists_every_setting_with_its_default():
    text = subprocess.run([BINARY, "serve", "--help"], capture_output=True, text=True, check=True, timeout=60).stdout
    options = set(re.findall(r"^  --([a-z-]+)", text, re.M)) - {"help", "config"}
    source = open(os.path.join(ROOT, "Sources", "esmlog", "Settings.swift")).read()
    names = set(re.findall(r'"([a-z-]+)"', source.split("static let names = [")[1].split("]")[0]))
    assert options == names, "every serve option must be settable from the file and the environment"
    blocks = re.split(r"\n  (?=--)", text.split("OPTIONS:")[1])
    for block in filter(str.strip, blocks):
        name = block.split()[0]
        if name in ("--credentials-file", "--signing-key", "--storage", "--config", "-h,"):  # optional: absent means none (for --storage: segment files)
            continue
        assert "(default:" in block, f"{name} shows no default"


@pytest.mark.parametrize("command", SUBCOMMANDS)
def test_every_subcommand_has_help(command):
    r = subprocess.run([BINARY, command, "--help"], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0 and "USAGE: esmlog " + command in r.stdout
