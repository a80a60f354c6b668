"""The journal: every state-changing request moto executed, in execution order, so a crash loses nothing.

Why a request journal rather than a state snapshot: moto has no state import (moto-feasibility §4.2). Replaying
the same requests into a fresh moto seeded with the same seed recreates every resource with the same ids, as long
as nothing else draws from moto's random between them; the gateway guarantees that (reads run with the random
state saved and restored, lazily created backends draw from a derived random, see `fidelity`).

Each line is one JSON object: {"seq", "t", "learner", "service", "op", "env": {WSGI keys and headers moto reads,
including the injected x-moto-account-id}, "body": base64}. Trail deliveries are journaled too ({"kind": "trail"}),
so log files come back after a restore exactly where they were. Lines are flushed per request; a torn last line
(the process was killed mid-write) is skipped on replay.
"""

from __future__ import annotations

import base64
import io
import json
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from seclab.sim import state

_STORED_KEYS = (
    "REQUEST_METHOD",
    "PATH_INFO",
    "QUERY_STRING",
    "CONTENT_TYPE",
    "RAW_URI",
    "REQUEST_URI",
    "SCRIPT_NAME",
    "SERVER_NAME",
    "SERVER_PORT",
    "SERVER_PROTOCOL",
)
_SKIPPED_HEADERS = ("HTTP_TRANSFER_ENCODING", "HTTP_CONNECTION", "HTTP_KEEP_ALIVE", "HTTP_EXPECT")
PRESERVED_KEY = "moto.preserved_header_names"


def snapshot_environ(environ: dict[str, Any]) -> dict[str, Any]:
    """The part of a WSGI environ moto reads (strings only), for the journal."""
    env: dict[str, Any] = {}
    for key, value in environ.items():
        if not isinstance(value, str):
            continue
        if key in _STORED_KEYS or (key.startswith("HTTP_") and key not in _SKIPPED_HEADERS):
            env[key] = value
    preserved = environ.get(PRESERVED_KEY)
    if isinstance(preserved, dict) and preserved:
        env[PRESERVED_KEY] = dict(preserved)
    return env


def build_environ(env: dict[str, Any], body: bytes) -> dict[str, Any]:
    """A WSGI environ for replaying a journaled request."""
    environ: dict[str, Any] = {
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(body),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": True,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
        "REMOTE_ADDR": "127.0.0.1",
        "SCRIPT_NAME": "",
        "SERVER_NAME": state.HOST,
        "SERVER_PORT": str(state.DEFAULT_PORT),
        "SERVER_PROTOCOL": "HTTP/1.1",
    }
    environ.update(env)
    environ["CONTENT_LENGTH"] = str(len(body))
    return environ


class Journal:
    """Append-only, flushed per entry. Callers append while holding the simulator's moto lock."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or state.journal_file()
        self._handle: Any = None
        self._lock = threading.Lock()
        self.seq = 0

    def _open(self) -> Any:
        if self._handle is None:
            self._handle = state.open_append_private(self.path)
        return self._handle

    def append(self, entry: dict[str, Any]) -> None:
        with self._lock:
            self.seq += 1
            entry = {"seq": self.seq, "t": round(time.time(), 3), **entry}
            handle = self._open()
            handle.write(json.dumps(entry, separators=(",", ":")) + "\n")
            handle.flush()

    def append_request(self, environ: dict[str, Any], body: bytes, learner: str | None, service: str, op: str) -> None:
        self.append(
            {
                "kind": "request",
                "learner": learner,
                "service": service,
                "op": op,
                "env": snapshot_environ(environ),
                "body": base64.b64encode(body).decode("ascii") if body else "",
            }
        )

    def entries(self) -> Iterator[dict[str, Any]]:
        """The journal's entries in order (a torn or foreign line is skipped)."""
        try:
            handle = open(self.path, encoding="utf-8")  # noqa: SIM115
        except FileNotFoundError:
            return
        with handle:
            for line in handle:
                line = line.strip()
                if not line:
                    continue
                try:
                    entry = json.loads(line)
                except ValueError:
                    continue
                if isinstance(entry, dict):
                    yield entry

    def replay(self, call: Callable[[dict[str, Any], str], None],
               on_trail: Callable[[dict[str, Any]], None]) -> int:
        """Feed every request entry to `call(environ, service)` and every trail entry to `on_trail`; returns the
        count."""
        count = 0
        for entry in self.entries():
            kind = entry.get("kind", "request")
            if kind == "trail":
                on_trail(entry)
            elif kind == "request" and isinstance(entry.get("env"), dict):
                body = base64.b64decode(entry.get("body") or "")
                call(build_environ(entry["env"], body), str(entry.get("service") or ""))
            else:
                continue
            count += 1
            self.seq = max(self.seq, int(entry.get("seq") or 0))
        return count

    def close(self) -> None:
        with self._lock:
            if self._handle is not None:
                self._handle.close()
                self._handle = None
