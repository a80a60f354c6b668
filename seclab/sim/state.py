"""Where the simulator keeps its files, and the small file helpers every sim module shares.

Why one module: the CLI process, the server process and the tests all find the same files from
`seclab.paths.state_dir()` (which honours SECLAB_STATE_DIR), so each path is spelled exactly once. Files holding
secrets are written 0600 inside the 0700 state directory.
"""

from __future__ import annotations

import fcntl
import json
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from seclab import paths

DEFAULT_PORT = 4566
HOST = "127.0.0.1"


def sim_dir() -> Path:
    """The simulator's own folder inside the state dir (server state, journal, audit, captured credentials)."""
    path = paths.state_dir() / "sim"
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    return path


def server_file() -> Path:
    return sim_dir() / "server.json"


def journal_file() -> Path:
    return sim_dir() / "journal.jsonl"


def audit_file() -> Path:
    return sim_dir() / "audit.jsonl"


def creds_file() -> Path:
    return sim_dir() / "credentials.jsonl"


def seed_file() -> Path:
    return sim_dir() / "seed"


def log_file() -> Path:
    return sim_dir() / "server.log"


def learners_file() -> Path:
    return paths.state_dir() / "learners.json"


def admin_file() -> Path:
    return paths.state_dir() / "admin.json"


def aws_dir() -> Path:
    path = paths.state_dir() / "aws"
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    return path


@contextmanager
def locked(path: Path) -> Iterator[None]:
    """An exclusive advisory lock on `path` + ".lock" (fcntl), for read-modify-write of a shared JSON file."""
    lock_path = path.with_name(path.name + ".lock")
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


def write_private(path: Path, text: str) -> None:
    """Atomically replace `path` with `text`, mode 0600 (readers never see a half-written file)."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


def read_json(path: Path) -> Any:
    """The JSON document in `path`, or None when the file is missing or unreadable (a torn or foreign file)."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (FileNotFoundError, ValueError, OSError):
        return None


def open_append_private(path: Path) -> Any:
    """Open `path` for appending text, creating it 0600."""
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    return os.fdopen(fd, "a", encoding="utf-8", buffering=1)
