"""The sim / learner / env commands: contracts and malformed input (one line, documented exit code, no traceback)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import uuid
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest

SECLAB = str(Path(sys.executable).with_name("seclab"))


def run(args: list[str], env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([SECLAB, *args], capture_output=True, text=True, timeout=120,
                          env=env if env is not None else dict(os.environ))


def one_line_error(proc: subprocess.CompletedProcess[str]) -> str:
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    return lines[0]


@pytest.fixture
def empty_state(tmp_path) -> dict[str, str]:
    """An environment whose state dir has no simulator."""
    return dict(os.environ, SECLAB_STATE_DIR=str(tmp_path / "empty"))


def test_status_json_while_up(sim):
    proc = run(["sim", "status", "--format", "json"])
    assert proc.returncode == 0
    assert json.loads(proc.stdout) == {"running": True, "endpoint": sim.endpoint, "port": sim.port, "pid": sim.pid}


def test_start_on_running_own_server_returns_its_info(sim):
    proc = run(["sim", "start", "--format", "json"])
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert data["port"] == sim.port and data["pid"] == sim.pid and data["already_running"] is True


def test_sim_not_running(empty_state):
    proc = run(["sim", "status"], env=empty_state)
    assert proc.returncode == 3
    assert "not running" in one_line_error(proc)
    proc = run(["sim", "status", "--format", "json"], env=empty_state)
    assert proc.returncode == 3 and json.loads(proc.stdout)["running"] is False
    proc = run(["env", "--format", "json"], env=empty_state)
    assert proc.returncode == 3 and "seclab sim start" in one_line_error(proc)
    proc = run(["sim", "stop"], env=empty_state)
    assert proc.returncode == 0 and "was not running" in proc.stdout


@pytest.mark.parametrize("args,code", [
    (["sim", "start", "--port", "99999"], 2),
    (["sim", "start", "--port", "abc"], 2),
    (["sim", "start", "--port", "-1"], 2),
    (["sim", "status", "--format", "yaml"], 2),
    (["learner", "add", "Bad Name"], 2),
    (["learner", "add", "-leading-dash"], 2),
    (["learner", "add", "x" * 64], 2),
    (["learner", "add", "ünicode"], 2),
    (["learner", "show", "nobody-by-this-name"], 5),
    (["learner", "remove", "default"], 2),
    (["env", "--learner", "nobody-by-this-name"], 5),
    (["env", "--learner", "../etc/passwd"], 2),
    (["env", "--format", "xml"], 2),
])
def test_malformed_input(sim, args, code):
    proc = run(args)
    assert proc.returncode == code, (proc.stdout, proc.stderr)
    one_line_error(proc)


def test_refuses_a_port_held_by_a_server_it_did_not_start(empty_state):
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b'{"service": "seclab-sim", "token_sha256": "forged"}')

        def log_message(self, *args: object) -> None:
            return None

    server = HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        port = str(server.server_address[1])
        proc = run(["sim", "start", "--port", port], env=empty_state)
        assert proc.returncode == 4
        assert f"port {port} is in use" in one_line_error(proc)
        # a forged state file naming that server is not "ours" either
        state = Path(empty_state["SECLAB_STATE_DIR"]) / "sim"
        state.mkdir(parents=True, exist_ok=True)
        (state / "server.json").write_text(json.dumps({"pid": os.getpid(), "port": int(port), "token": "guess"}))
        proc = run(["sim", "status", "--format", "json"], env=empty_state)
        assert proc.returncode == 3 and json.loads(proc.stdout)["running"] is False
        proc = run(["sim", "stop"], env=empty_state)
        assert proc.returncode == 0 and "was not running" in proc.stdout
    finally:
        server.shutdown()
        server.server_close()


def test_learner_add_and_env_contract(sim):
    name = f"cli-{uuid.uuid4().hex[:8]}"
    proc = run(["learner", "add", name, "--format", "json"])
    assert proc.returncode == 0, proc.stderr
    added = json.loads(proc.stdout)
    assert added["name"] == name and len(added["home_account"]) == 12 and added["home_account"] != "123456789012"
    assert len(added["access_key_id"]) == 20 and "secret_access_key" not in added
    again = json.loads(run(["learner", "add", name, "--format", "json"]).stdout)
    assert again == added  # idempotent
    env = json.loads(run(["env", "--learner", name, "--format", "json"]).stdout)
    for key in ("AWS_ENDPOINT_URL", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_DEFAULT_REGION", "AWS_REGION",
                "AWS_EC2_METADATA_DISABLED", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE", "AWS_PROFILE",
                "SECLAB_LEARNER", "SECLAB_STATE_DIR"):
        assert env.get(key), key
    assert env["AWS_ENDPOINT_URL"] == sim.endpoint and env["AWS_ACCESS_KEY_ID"] == added["access_key_id"]
    assert oct(Path(env["AWS_SHARED_CREDENTIALS_FILE"]).stat().st_mode & 0o777) == "0o600"
    names = [lr["name"] for lr in json.loads(run(["learner", "list", "--format", "json"]).stdout)]
    assert "default" in names and name in names


def test_home_account_is_derived_from_the_name(tmp_path):
    env = dict(os.environ, SECLAB_STATE_DIR=str(tmp_path / "a"))
    first = json.loads(run(["learner", "add", "same-name", "--format", "json"], env=env).stdout)
    env = dict(os.environ, SECLAB_STATE_DIR=str(tmp_path / "b"))
    second = json.loads(run(["learner", "add", "same-name", "--format", "json"], env=env).stdout)
    assert first["home_account"] == second["home_account"]
    assert first["access_key_id"] != second["access_key_id"]


def test_state_files_are_private(sim):
    from seclab.sim import state

    for path in (state.learners_file(), state.admin_file(), state.server_file(), state.journal_file()):
        if path.exists():
            assert path.stat().st_mode & 0o077 == 0, path
    assert (Path(os.environ["SECLAB_STATE_DIR"]).stat().st_mode & 0o077) == 0


def test_corrupt_registry_is_an_error_not_a_reset(tmp_path):
    env = dict(os.environ, SECLAB_STATE_DIR=str(tmp_path / "s"))
    assert run(["learner", "add", "keeper"], env=env).returncode == 0
    registry_file = tmp_path / "s" / "learners.json"
    registry_file.write_text("{not json")
    proc = run(["learner", "add", "newcomer"], env=env)
    assert proc.returncode == 2 and "not valid JSON" in one_line_error(proc)
    assert registry_file.read_text() == "{not json"


@pytest.mark.parametrize("region", ["nowhere", "us-east-1; rm -rf /", ""])
def test_env_rejects_bad_region(sim, region):
    proc = run(["env", "--region", region])
    assert proc.returncode == 2
    one_line_error(proc)
