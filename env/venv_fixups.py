"""Post-install fixes for seclab's virtual environment (run by `make setup`).

nbgrader runs its database migrations by calling the `alembic` executable through PATH. When nbgrader is started
as `.venv/bin/nbgrader` without the environment activated, the venv's bin directory is not on PATH and every
nbgrader command fails with "No such file or directory: 'alembic'". This rewrites the nbgrader launcher so it puts
its own bin directory on PATH first. Idempotent.
"""

from __future__ import annotations

import sys
from pathlib import Path

LAUNCHER = '''#!{python}
# seclab: launcher rewritten by env/venv_fixups.py so nbgrader finds alembic without an activated venv
import os
import sys

_bin = os.path.dirname(os.path.abspath(__file__))
os.environ["PATH"] = _bin + os.pathsep + os.environ.get("PATH", "")
from nbgrader.apps.nbgraderapp import main

if __name__ == "__main__":
    sys.exit(main())
'''


def main() -> int:
    bin_dir = Path(sys.executable).parent
    launcher = bin_dir / "nbgrader"
    if not launcher.exists():
        print("venv_fixups: no nbgrader launcher found; nothing to do", file=sys.stderr)
        return 0
    text = LAUNCHER.format(python=bin_dir / "python")
    if launcher.read_text() != text:
        launcher.write_text(text)
        launcher.chmod(0o755)
    return 0


if __name__ == "__main__":
    sys.exit(main())
