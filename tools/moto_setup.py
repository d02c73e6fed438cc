"""Starts moto_server with what it needs before it accepts a mapping: a function and a queue."""
import io
import socket
import subprocess
import sys
import time
import zipfile


def start_moto():
    """Returns (process, port, queue ARN); the function is named "worker"."""
    import boto3
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    proc = subprocess.Popen([sys.executable, "-m", "moto.server", "-p", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            time.sleep(0.1)
    kw = dict(endpoint_url=f"http://127.0.0.1:{port}", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    role = boto3.client("iam", **kw).create_role(RoleName="bench", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    code = io.BytesIO()
    with zipfile.ZipFile(code, "w") as z:
        z.writestr("index.py", "def handler(event, context):\n    return None\n")
    boto3.client("lambda", **kw).create_function(FunctionName="worker", Runtime="python3.11", Role=role, Handler="index.handler",
                                                 Code={"ZipFile": code.getvalue()})
    sqs = boto3.client("sqs", **kw)
    url = sqs.create_queue(QueueName="bench")["QueueUrl"]
    queue = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    return proc, port, queue
