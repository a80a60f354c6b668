"""Shared fixtures: one real simulator per pytest worker, a fresh learner per test, and the real-AWS guard.

- The socket guard is installed for the whole session (in every xdist worker): any test that tries a connection
  outside 127.0.0.0/8 or ::1 fails with RealAwsRefused.
- `sim` (session): a private state dir (tmp_path_factory, so per xdist worker), SECLAB_STATE_DIR exported for the
  session (CLI subprocesses find the same simulator), a free port, `control.start()`; stopped at the end.
- `learner` (function): a fresh learner `t-<hex>` registered in that simulator's registry.
- `learner_client` (function): `learner_client(learner, "s3")` -> a boto3 client acting as that learner.
Works with `pytest -n auto --dist loadgroup`.
"""

from __future__ import annotations

import atexit
import os
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from seclab.sim import guard

guard.install_socket_guard()


@dataclass(frozen=True)
class SimHandle:
    endpoint: str
    port: int
    state_dir: Path
    pid: int


@pytest.fixture(autouse=True, scope="session")
def _real_aws_guard() -> Iterator[None]:
    """Keep the socket guard in place for the whole session (re-installed if a test removed it)."""
    guard.install_socket_guard()
    yield


@pytest.fixture(scope="session")
def sim(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SimHandle]:
    from seclab.sim import control

    state_dir = tmp_path_factory.mktemp("seclab-state")
    saved = {k: os.environ.get(k) for k in ("SECLAB_STATE_DIR", "SECLAB_TRAIL_INTERVAL")}
    os.environ["SECLAB_STATE_DIR"] = str(state_dir)
    os.environ["SECLAB_TRAIL_INTERVAL"] = "1"
    info = control.start(port=control.free_port())

    def _stop_ours() -> None:  # at exit the environment may point elsewhere: stop only the test simulator
        os.environ["SECLAB_STATE_DIR"] = str(state_dir)
        control.stop()

    atexit.register(_stop_ours)
    try:
        yield SimHandle(endpoint=info.endpoint, port=info.port, state_dir=state_dir, pid=info.pid)
    finally:
        os.environ["SECLAB_STATE_DIR"] = str(state_dir)
        control.stop()
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


@pytest.fixture
def learner(sim: SimHandle) -> Any:
    from seclab.sim import registry

    return registry.add_learner(f"t-{uuid.uuid4().hex[:12]}")


@pytest.fixture
def learner_client(sim: SimHandle) -> Callable[..., Any]:
    """`learner_client(learner_or_name, service, region="us-east-1", **client_kwargs)` -> boto3 client."""
    from seclab.sim import sessions

    def make(learner: Any, service: str, region: str = "us-east-1", **kwargs: Any) -> Any:
        name = learner if isinstance(learner, str) else learner.name
        return sessions.learner_session(name, region=region).client(service, **kwargs)

    return make
