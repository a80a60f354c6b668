"""Where seclab finds its content (labs/, graders/) and keeps its state.

Why: the content folders live at the top of the checkout (users read and extend them); the package is installed
editable from that checkout, so they are found relative to it. `SECLAB_HOME` overrides the content root and
`SECLAB_STATE_DIR` the state directory (tests give each session its own).
"""

from __future__ import annotations

import os
from pathlib import Path

_PACKAGE_DIR = Path(__file__).resolve().parent


def content_root() -> Path:
    env = os.environ.get("SECLAB_HOME")
    if env:
        return Path(env).resolve()
    return _PACKAGE_DIR.parent


def labs_dir() -> Path:
    return content_root() / "labs"


def graders_dir() -> Path:
    return content_root() / "graders"


def state_dir() -> Path:
    """The simulator's and the graders' private state (journal, learners, lab facts). Created 0700."""
    env = os.environ.get("SECLAB_STATE_DIR")
    path = Path(env) if env else content_root() / ".seclab"
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    return path
