"""What the lab tests share for notebooks: run one as a learner with nbclient, and release one with nbgrader."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]


def execute_notebook(path: Path, learner: str, workdir: Path, timeout: int = 600) -> Any:
    """Execute `path` top to bottom in a real kernel with the learner's simulator environment; returns the executed
    notebook (nbclient raises CellExecutionError when a cell fails)."""
    import nbformat
    from nbclient import NotebookClient

    from seclab.sim.sessions import learner_env

    nb = nbformat.read(path, as_version=4)
    old = dict(os.environ)
    os.environ.update({**learner_env(learner), "SECLAB_LEARNER": learner,
                       "PATH": str(Path(sys.executable).parent) + os.pathsep + old.get("PATH", "")})
    try:
        NotebookClient(nb, timeout=timeout, kernel_name="python3",
                       resources={"metadata": {"path": str(workdir)}}).execute()
    finally:
        os.environ.clear()
        os.environ.update(old)
    return nb


def release(notebook: Path, lab: str, course: Path) -> tuple[subprocess.CompletedProcess[str], Path]:
    """`nbgrader generate_assignment` on a course holding `notebook` as assignment `lab`: (the run, the release)."""
    (course / "source" / lab).mkdir(parents=True)
    shutil.copy(notebook, course / "source" / lab)
    nbgrader = Path(sys.executable).parent / "nbgrader"
    proc = subprocess.run([str(nbgrader), "generate_assignment", lab, "--force", f"--CourseDirectory.root={course}"],
                          capture_output=True, text=True, cwd=ROOT, timeout=300, check=False)
    return proc, course / "release" / lab / notebook.name
