"""Terraform's AWS provider against esmlog, offline: init from a filesystem mirror of the
hashicorp/aws provider, apply several mappings, plan shows no changes, update, plan again, import a
mapping made with the AWS CLI, destroy, and the API lists nothing.

The mirror folder (the one holding registry.terraform.io/) comes from ESMLOG_TF_PROVIDER_MIRROR or
is looked for on the machine. Without terraform or a mirror the test is skipped with the reason."""
import json
import os
import shutil
import subprocess
import textwrap

import pytest

from conftest import Server, run_cli, wait_state

PROVIDER_VERSION = "5.100.0"
ACCOUNT = "123456789012"


def find_mirror():
    given = os.environ.get("ESMLOG_TF_PROVIDER_MIRROR")
    if given:
        return given if os.path.isdir(os.path.join(given, "registry.terraform.io", "hashicorp", "aws")) else None
    for root in ("/opt", "/usr/share", "/usr/local/share", os.path.expanduser("~"), "/var/lib", "/srv"):
        for dirpath, dirnames, _ in os.walk(root):
            if dirpath.count(os.sep) - root.count(os.sep) > 4:
                dirnames[:] = []
                continue
            if os.path.isdir(os.path.join(dirpath, "registry.terraform.io", "hashicorp", "aws", PROVIDER_VERSION)):
                return dirpath
    return None


TERRAFORM = shutil.which("terraform")
MIRROR = find_mirror() if TERRAFORM else None
pytestmark = pytest.mark.skipif(
    TERRAFORM is None or MIRROR is None,
    reason="terraform is not installed" if TERRAFORM is None else
    f"no filesystem mirror of hashicorp/aws {PROVIDER_VERSION} (set ESMLOG_TF_PROVIDER_MIRROR)")


def config(port, sqs_batch=10, sqs_enabled=True, sqs_tags='{ team = "payments" }', imported=""):
    return textwrap.dedent(f"""
        terraform {{
          required_providers {{
            aws = {{ source = "hashicorp/aws", version = "{PROVIDER_VERSION}" }}
          }}
        }}
        provider "aws" {{
          region                      = "us-east-1"
          access_key                  = "AKIDTERRAFORM"
          secret_key                  = "not-checked"
          skip_credentials_validation = true
          skip_metadata_api_check     = true
          skip_requesting_account_id  = true
          endpoints {{ lambda = "http://127.0.0.1:{port}" }}
        }}
        resource "aws_lambda_event_source_mapping" "sqs" {{
          event_source_arn = "arn:aws:sqs:us-east-1:{ACCOUNT}:orders"
          function_name    = "orders-worker"
          batch_size       = {sqs_batch}
          enabled          = {str(sqs_enabled).lower()}
          scaling_config {{ maximum_concurrency = 5 }}
          filter_criteria {{
            filter {{ pattern = jsonencode({{ body = {{ kind = ["order"] }} }}) }}
          }}
          tags = {sqs_tags}
        }}
        resource "aws_lambda_event_source_mapping" "kinesis" {{
          event_source_arn       = "arn:aws:kinesis:us-east-1:{ACCOUNT}:stream/clicks"
          function_name          = "clicks"
          starting_position      = "LATEST"
          maximum_retry_attempts = 3
          bisect_batch_on_function_error = true
          destination_config {{
            on_failure {{ destination_arn = "arn:aws:sqs:us-east-1:{ACCOUNT}:dlq" }}
          }}
        }}
        resource "aws_lambda_event_source_mapping" "kafka" {{
          function_name     = "kafka-worker"
          topics            = ["orders"]
          starting_position = "TRIM_HORIZON"
          self_managed_event_source {{
            endpoints = {{ KAFKA_BOOTSTRAP_SERVERS = "b1.example.com:9092,b2.example.com:9092" }}
          }}
          source_access_configuration {{
            type = "VPC_SUBNET"
            uri  = "subnet:subnet-1234"
          }}
        }}
        {imported}
        """)


@pytest.fixture
def tf(tmp_path, data_dir):
    server = Server(data_dir, transition_delay=0.2).start()
    work = tmp_path / "tf"
    work.mkdir()
    rc = tmp_path / "cli.tfrc"
    rc.write_text(textwrap.dedent(f"""
        provider_installation {{
          filesystem_mirror {{
            path    = "{MIRROR}"
            include = ["registry.terraform.io/hashicorp/aws"]
          }}
          direct {{ exclude = ["registry.terraform.io/hashicorp/aws"] }}
        }}
        """))
    env = dict(os.environ, TF_CLI_CONFIG_FILE=str(rc), TF_IN_AUTOMATION="1", CHECKPOINT_DISABLE="1",
               TF_DATA_DIR=str(tmp_path / "tfdata"))

    def run(*args, ok=(0,)):
        out = subprocess.run([TERRAFORM, args[0], "-no-color", "-input=false", *args[1:]], cwd=work, env=env, capture_output=True, text=True,
                             timeout=300)
        assert out.returncode in ok, f"terraform {' '.join(args)} exited {out.returncode}:\n{out.stdout}\n{out.stderr}"
        return out

    def write(text):
        (work / "main.tf").write_text(text)

    yield server, run, write
    server.stop()


def test_terraform_applies_plans_clean_updates_imports_and_destroys(tf, data_dir):
    server, run, write = tf
    lam = server.client()
    write(config(server.port))
    run("init")
    run("apply", "-auto-approve")
    mappings = lam.list_event_source_mappings()["EventSourceMappings"]
    assert len(mappings) == 3 and all(m["State"] == "Enabled" for m in mappings)
    sqs = next(m for m in mappings if m.get("EventSourceArn", "").endswith(":orders"))
    assert lam.list_tags(Resource=sqs["EventSourceMappingArn"])["Tags"] == {"team": "payments"}
    assert run("plan", "-detailed-exitcode").returncode == 0

    # An update of batch size, enabled and tags, then a clean plan.
    write(config(server.port, sqs_batch=5, sqs_enabled=False, sqs_tags='{ team = "payments", owner = "checkout" }'))
    assert run("plan", "-detailed-exitcode", ok=(2,)).returncode == 2
    run("apply", "-auto-approve")
    now = lam.get_event_source_mapping(UUID=sqs["UUID"])
    assert (now["BatchSize"], now["State"]) == (5, "Disabled")
    assert lam.list_tags(Resource=sqs["EventSourceMappingArn"])["Tags"] == {"team": "payments", "owner": "checkout"}
    assert run("plan", "-detailed-exitcode").returncode == 0

    # Import a mapping made with the AWS CLI.
    env = dict(os.environ, AWS_ACCESS_KEY_ID="AKIDCLI", AWS_SECRET_ACCESS_KEY="x", AWS_DEFAULT_REGION="us-east-1")
    made = json.loads(subprocess.run(
        ["aws", "lambda", "create-event-source-mapping", "--endpoint-url", server.endpoint, "--function-name", "legacy",
         "--event-source-arn", f"arn:aws:sqs:us-east-1:{ACCOUNT}:legacy", "--batch-size", "7"],
        env=env, capture_output=True, text=True, check=True, timeout=60).stdout)
    wait_state(lam, made["UUID"], {"Enabled"})
    imported = textwrap.dedent(f"""
        resource "aws_lambda_event_source_mapping" "legacy" {{
          event_source_arn = "arn:aws:sqs:us-east-1:{ACCOUNT}:legacy"
          function_name    = "arn:aws:lambda:us-east-1:{ACCOUNT}:function:legacy"
          batch_size       = 7
        }}
        """)
    write(config(server.port, sqs_batch=5, sqs_enabled=False, sqs_tags='{ team = "payments", owner = "checkout" }',
                 imported=imported))
    run("import", "aws_lambda_event_source_mapping.legacy", made["UUID"])
    assert run("plan", "-detailed-exitcode").returncode == 0

    run("destroy", "-auto-approve")
    assert lam.list_event_source_mappings()["EventSourceMappings"] == []
    server.stop()
    # Terraform's calls are in the audit log like anyone's.
    timeline = json.loads(run_cli("timeline", "--data-dir", data_dir, "--format", "json").stdout)["Events"]
    operations = {e["Operation"] for e in timeline}
    assert {"CreateEventSourceMapping", "UpdateEventSourceMapping", "TagResource", "DeleteEventSourceMapping"} <= operations
    assert any("Terraform" in (e.get("Actor") or {}).get("UserAgent", "") for e in timeline)
    assert "ok" in run_cli("verify", "--data-dir", data_dir).stdout.splitlines()
