"""Malformed input to the grading commands: one line, a hint, a documented exit code, no traceback."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

SECLAB = str(Path(sys.executable).parent / "seclab")


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([SECLAB, *args], capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("args,code,needle", [
    (("grade", "no-such-lab"), 5, "no lab named"),
    (("grade", "../etc"), 5, "no lab named"),
    (("run", "No Such Lab"), 5, "no lab named"),
    (("lab", "setup", "nope"), 5, "no lab named"),
    (("lab", "solve", "orientation", "--learner", "never-added-learner"), 5, "learner"),
    (("checks", "explain", "no_such_check"), 5, "no check named"),
    (("grade",), 2, "error"),
    (("grade", "orientation", "--format", "pdf"), 2, "invalid choice"),
    (("frobnicate",), 2, "invalid choice"),
])
def test_bad_input_is_one_line(sim: Any, args: tuple[str, ...], code: int, needle: str) -> None:
    proc = run(*args)
    assert proc.returncode == code, (proc.returncode, proc.stderr)
    assert needle in proc.stderr.lower() or needle in proc.stderr
    assert "Traceback" not in proc.stderr
    assert len([line for line in proc.stderr.splitlines() if line.strip()]) <= 2


def test_grade_before_setup_says_what_to_run(sim: Any, learner: Any) -> None:
    proc = run("grade", "orientation", "--learner", learner.name)
    assert proc.returncode == 5
    assert f"seclab lab setup orientation --learner {learner.name}" in proc.stderr


def test_debug_shows_traceback(sim: Any) -> None:
    proc = run("grade", "no-such-lab", "--debug")
    assert "Traceback" in proc.stderr and proc.returncode == 5


def test_out_to_a_directory_is_refused(sim: Any, learner: Any, tmp_path: Path) -> None:
    run("lab", "setup", "orientation", "--learner", learner.name)
    proc = run("grade", "orientation", "--learner", learner.name, "--out", str(tmp_path))
    assert proc.returncode == 2 and "directory" in proc.stderr


def test_help_lists_every_command() -> None:
    out = run("--help").stdout
    for cmd in ("sim", "learner", "env", "labs", "lab", "run", "grade", "checks", "iam", "net", "crypto", "jupyter"):
        assert f"    {cmd}" in out, cmd
