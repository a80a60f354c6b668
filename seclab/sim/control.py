"""Start, stop, inspect and restore the simulator process.

Why a detached process with an ownership token: the simulator must outlive the `seclab sim start` command, and
seclab must never mistake someone else's server on the same port (a LocalStack, another course's simulator) for
its own. `start` writes a random token to the state file (0600) and hands it to the server through its
environment; the server's `/_seclab/health` answers the token's sha256. Only a server whose answer matches is
"ours": status reports it, stop signals it; anything else on the port is refused with one line.
"""

from __future__ import annotations

import hashlib
import http.client
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from typing import Any

from seclab import paths
from seclab.errors import Refused, SimulatorUnavailable, UsageError
from seclab.sim import state

READY_TIMEOUT_S = 30.0  # plus time to replay the journal (see _ready_timeout)
_children: dict[int, subprocess.Popen[bytes]] = {}


@dataclass(frozen=True)
class SimInfo:
    endpoint: str
    port: int
    pid: int
    restored: int = 0  # journal entries replayed at start

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class SimStatus:
    running: bool
    endpoint: str | None = None
    port: int | None = None
    pid: int | None = None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def endpoint_for(port: int) -> str:
    return f"http://{state.HOST}:{port}"


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def validate_port(port: Any) -> int:
    """A TCP port 1-65535 (0 = pick a free one); UsageError otherwise."""
    try:
        value = int(port)
    except (TypeError, ValueError):
        raise UsageError(f"invalid port {port!r}", "Use a number between 1 and 65535.") from None
    if isinstance(port, bool) or not 0 <= value <= 65535:
        raise UsageError(f"invalid port {port!r}", "Use a number between 1 and 65535.")
    return value


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((state.HOST, 0))
        return int(sock.getsockname()[1])


def _port_in_use(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((state.HOST, port))
        except OSError:
            return True
    return False


def health(port: int, timeout: float = 1.0) -> dict[str, Any] | None:
    """What `/_seclab/health` answers on `port`, or None (nothing there, not HTTP, not seclab)."""
    conn = http.client.HTTPConnection(state.HOST, port, timeout=timeout)
    try:
        conn.request("GET", "/_seclab/health")
        resp = conn.getresponse()
        body = resp.read(65536)
        if resp.status != 200:
            return None
        data = json.loads(body)
        return data if isinstance(data, dict) else None
    except (OSError, ValueError, http.client.HTTPException):
        return None
    finally:
        conn.close()


def _pid_alive(pid: int) -> bool:
    child = _children.get(pid)
    if child is not None:
        return child.poll() is None
    try:
        waited, _ = os.waitpid(pid, os.WNOHANG)
        if waited == pid:
            return False
    except ChildProcessError:
        pass
    except OSError:
        pass
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a zombie answers kill(0) but is gone
        with open(f"/proc/{pid}/stat", encoding="ascii") as handle:
            return handle.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True


def _read_state() -> dict[str, Any] | None:
    data = state.read_json(state.server_file())
    if not isinstance(data, dict) or not isinstance(data.get("port"), int) or not data.get("token"):
        return None
    return data


def _is_ours(data: dict[str, Any], timeout: float = 1.0) -> dict[str, Any] | None:
    answer = health(int(data["port"]), timeout=timeout)
    if answer and answer.get("token_sha256") == token_hash(str(data["token"])):
        return answer
    return None


def status() -> SimStatus:
    """Whether the simulator this state dir started is up (health answers with our token)."""
    data = _read_state()
    if data is None or not isinstance(data.get("pid"), int):
        return SimStatus(running=False)
    port = int(data["port"])
    if not _pid_alive(int(data["pid"])) or _is_ours(data) is None:
        return SimStatus(running=False, endpoint=None, port=port, pid=None)
    return SimStatus(running=True, endpoint=endpoint_for(port), port=port, pid=int(data["pid"]))


def current_endpoint() -> str:
    """The running simulator's endpoint without a network round trip; SimulatorUnavailable if it is not up."""
    data = _read_state()
    if data is None or not isinstance(data.get("pid"), int) or not _pid_alive(int(data["pid"])):
        raise SimulatorUnavailable("the simulator is not running", "Start it with: seclab sim start")
    return endpoint_for(int(data["port"]))


def _ready_timeout() -> float:
    try:
        size = state.journal_file().stat().st_size
    except FileNotFoundError:
        size = 0
    return READY_TIMEOUT_S + size / 200_000  # replay runs at several MB per minute; be generous


def _log_tail() -> str:
    try:
        lines = state.log_file().read_text(encoding="utf-8", errors="replace").strip().splitlines()
    except OSError:
        return ""
    for line in reversed(lines):
        if line.strip():
            return line.strip()[:300]
    return ""


def discard_state() -> None:
    """Forget everything built in the simulator (journal, captured credentials, audit log, member accounts)."""
    from seclab.sim import registry

    for path in (state.journal_file(), state.creds_file(), state.audit_file()):
        try:
            path.unlink()
        except FileNotFoundError:
            pass
    registry.clear_member_accounts()


def start(port: int | None = None, fresh: bool = False) -> SimInfo:
    """Start the simulator in the background (or return the running one); replays the journal unless `fresh`.

    Refused if the port is held by anything seclab did not start from this state dir.
    """
    want = state.DEFAULT_PORT if port is None else validate_port(port)
    with state.locked(state.server_file()):
        data = _read_state()
        if data is not None and isinstance(data.get("pid"), int) and _pid_alive(int(data["pid"])):
            answer = _is_ours(data)
            if answer is not None:
                if fresh:
                    raise Refused(
                        f"the simulator is already running on port {data['port']}; --fresh needs a stopped simulator",
                        "Run: seclab sim stop, then seclab sim start --fresh",
                    )
                return SimInfo(endpoint_for(int(data["port"])), int(data["port"]), int(data["pid"]))
        if want == 0:
            want = free_port()
        if _port_in_use(want):
            raise Refused(
                f"port {want} is in use by a server seclab did not start",
                "Stop that server or choose another port: seclab sim start --port N",
            )
        if fresh:
            discard_state()
        token = secrets.token_hex(16)
        record: dict[str, Any] = {"pid": None, "port": want, "token": token, "started_at": time.time()}
        state.write_private(state.server_file(), json.dumps(record))
        env = dict(os.environ)
        env["SECLAB_STATE_DIR"] = str(paths.state_dir().resolve())
        env["SECLAB_SIM_TOKEN"] = token
        env.pop("MOTO_ACCOUNT_ID", None)
        log = open(state.log_file(), "ab")  # noqa: SIM115 - handed to the child, closed below
        try:
            proc = subprocess.Popen(
                [sys.executable, "-m", "seclab.sim.server", "--port", str(want)],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
                env=env,
                cwd=str(paths.state_dir()),
                start_new_session=True,
                close_fds=True,
            )
        finally:
            log.close()
        _children[proc.pid] = proc
        record["pid"] = proc.pid
        state.write_private(state.server_file(), json.dumps(record))
        deadline = time.monotonic() + _ready_timeout()
        while True:
            answer = _is_ours(record, timeout=2.0)
            if answer is not None and answer.get("ready"):
                return SimInfo(endpoint_for(want), want, proc.pid, int(answer.get("restored") or 0))
            if proc.poll() is not None:
                tail = _log_tail()
                raise SimulatorUnavailable(
                    f"the simulator exited during start-up (code {proc.returncode})"
                    + (f": {tail}" if tail else ""),
                    f"See {state.log_file()}",
                )
            if time.monotonic() > deadline:
                _terminate(proc.pid)
                raise SimulatorUnavailable("the simulator did not become ready in time", f"See {state.log_file()}")
            time.sleep(0.01)


def _terminate(pid: int, grace: float = 10.0) -> None:
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        if not _pid_alive(pid):
            break
        time.sleep(0.02)
    else:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        while _pid_alive(pid) and time.monotonic() < deadline + 5:
            time.sleep(0.02)
    child = _children.pop(pid, None)
    if child is not None:
        try:
            child.wait(timeout=1)
        except subprocess.TimeoutExpired:
            pass


def stop() -> bool:
    """Stop our simulator; False if it was not running. Never signals a process that is not ours."""
    with state.locked(state.server_file()):
        data = _read_state()
        if data is None or not isinstance(data.get("pid"), int):
            return False
        pid = int(data["pid"])
        answer = _is_ours(data) if _pid_alive(pid) else None
        if answer is not None and int(answer.get("pid") or -1) == pid:
            _terminate(pid)
            stopped = True
        else:
            stopped = False
        try:
            state.server_file().unlink()
        except FileNotFoundError:
            pass
        return stopped


def restore(port: int | None = None) -> SimInfo:
    """Restart the simulator from scratch and replay the journal (same seed, so the same ids come back)."""
    data = _read_state()
    if port is None and data is not None:
        port = int(data["port"])
    stop()
    return start(port=port)
