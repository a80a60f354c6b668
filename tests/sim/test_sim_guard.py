"""Nothing seclab hands out reaches real AWS (B.9 #24, #25)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import boto3
import pytest

from seclab.errors import RealAwsRefused
from seclab.sim import guard, sessions

SECLAB = str(Path(sys.executable).with_name("seclab"))


@pytest.mark.parametrize("address", [("52.216.0.1", 443), ("8.8.8.8", 53), ("169.254.169.254", 80)])
def test_socket_guard_refuses_non_loopback(address):
    assert guard.socket_guard_installed()
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        with pytest.raises(RealAwsRefused):
            sock.connect(address)
        with pytest.raises(RealAwsRefused):
            sock.connect_ex(address)


def test_socket_guard_allows_loopback(sim):
    with socket.create_connection(("127.0.0.1", sim.port), timeout=5):
        pass


def test_plain_boto3_to_real_aws_is_refused_by_the_socket_guard():
    client = boto3.client("s3", endpoint_url="https://s3.amazonaws.com", region_name="us-east-1",
                          aws_access_key_id="AKIAREALLOOKING00000", aws_secret_access_key="x")
    with pytest.raises(Exception) as err:
        client.list_buckets()
    cause = getattr(err.value, "kwargs", {}).get("error", err.value)  # botocore wraps it in HTTPClientError
    assert isinstance(cause, RealAwsRefused)
    with pytest.raises(RealAwsRefused):
        socket.getaddrinfo("sts.amazonaws.com", 443)


def test_seclab_session_refuses_real_endpoint_before_sending(sim, learner, monkeypatch):
    attempts: list[object] = []
    original = socket.socket.connect
    guard.uninstall_socket_guard()
    try:
        def recording_connect(self, address):
            attempts.append(address)
            return original(self, address)

        monkeypatch.setattr(socket.socket, "connect", recording_connect)
        session = sessions.learner_session(learner.name)
        for url in ("https://s3.amazonaws.com", "https://sts.us-east-1.amazonaws.com", "http://10.0.0.1:4566"):
            client = session.client("s3", endpoint_url=url)
            with pytest.raises(RealAwsRefused):
                client.list_buckets()
        assert attempts == []
    finally:
        monkeypatch.undo()
        guard.install_socket_guard()


def test_hook_checks_hosts():
    for url in ("http://127.0.0.1:4566/", "http://localhost:4566", "http://[::1]:4566/x", "http://127.8.9.10/"):
        guard.check_url(url)
    for url in ("https://s3.amazonaws.com", "http://169.254.169.254/latest", "http://127.0.0.1.evil.com/",
                "http://localhost.evil.com", "", "not a url"):
        with pytest.raises(RealAwsRefused):
            guard.check_url(url)


def test_env_never_hands_out_a_real_endpoint(sim):
    env = dict(os.environ, AWS_ENDPOINT_URL="https://s3.amazonaws.com", AWS_PROFILE="prod",
               AWS_ACCESS_KEY_ID="AKIAREALKEY000000000", AWS_SECRET_ACCESS_KEY="real",
               AWS_SESSION_TOKEN="tok", AWS_ENDPOINT_URL_S3="https://s3.amazonaws.com")
    run = subprocess.run([SECLAB, "env", "--format", "json"], env=env, capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    values = json.loads(run.stdout)
    assert values["AWS_ENDPOINT_URL"] == sim.endpoint
    assert "amazonaws.com" not in run.stdout
    assert values["AWS_PROFILE"].startswith("seclab-") and values["AWS_ACCESS_KEY_ID"] != "AKIAREALKEY000000000"
    assert values["AWS_EC2_METADATA_DISABLED"] == "true"
    warning = [line for line in run.stderr.splitlines() if "real AWS" in line]
    assert len(warning) == 1 and "AWS_PROFILE=prod" in warning[0] and "real" not in values["AWS_SECRET_ACCESS_KEY"]
    shell = subprocess.run([SECLAB, "env"], env=env, capture_output=True, text=True, timeout=60)
    assert "unset AWS_SESSION_TOKEN" in shell.stdout and "unset AWS_ENDPOINT_URL_S3" in shell.stdout
    assert f"export AWS_ENDPOINT_URL={sim.endpoint}" in shell.stdout


def test_env_is_all_a_notebook_needs(sim, learner, tmp_path):
    """A child process under `seclab env` (and real-looking config around it) acts as the learner."""
    fake_home = tmp_path / "home"
    (fake_home / ".aws").mkdir(parents=True)
    (fake_home / ".aws" / "credentials").write_text("[default]\naws_access_key_id=AKIAREAL\naws_secret_access_key=x\n")
    (fake_home / ".aws" / "config").write_text("[default]\nregion=eu-west-3\nendpoint_url=https://evil.example\n")
    base = dict(os.environ, HOME=str(fake_home), AWS_PROFILE="default")
    env = sessions.scrubbed_environ(learner.name, base=base)
    code = ("import boto3, json; s=boto3.client('sts'); print(json.dumps(s.get_caller_identity()['Account']));"
            "b=boto3.client('s3'); print(b.meta.endpoint_url)")
    run = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    account, endpoint = run.stdout.split()
    assert json.loads(account) == learner.home_account
    assert endpoint == sim.endpoint
