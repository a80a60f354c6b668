"""The documented-behaviour suite: every case in tests/iam/cases/*.jsonl, through the Python API and the CLI.

Each case cites the AWS documentation page it comes from (`source`); the expected decisions are what those pages
say. The shared sample (../shared/examples/iam-cases.sample.jsonl) runs through the same paths.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from seclab.engines.iam.cases import evaluate_case

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
CASE_FILES = sorted((HERE / "cases").glob("*.jsonl"))
SAMPLE = ROOT.parent / "shared" / "examples" / "iam-cases.sample.jsonl"
SECLAB = ROOT / ".venv" / "bin" / "seclab"
DECISIONS = {"allow", "explicit_deny", "implicit_deny"}


def _load(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


ALL_CASES = [c for f in CASE_FILES for c in _load(f)]


def test_suite_is_large_and_well_formed() -> None:
    assert len(ALL_CASES) >= 120
    ids = [c["id"] for c in ALL_CASES]
    assert len(ids) == len(set(ids)), "case ids must be unique"
    for c in ALL_CASES:
        assert c["expected"] in DECISIONS, c["id"]
        assert c["source"].startswith("https://docs.aws.amazon.com/"), c["id"]
        assert c["note"], c["id"]
    # every outcome and the main topics are represented
    assert {c["expected"] for c in ALL_CASES} == DECISIONS
    tags = {t for c in ALL_CASES for t in c.get("tags", [])}
    for topic in ("boundary", "session", "scp", "rcp", "cross-account", "kms", "trust", "notprincipal", "notaction",
                  "notresource", "ifexists", "set", "variables", "version", "string", "numeric", "date", "bool",
                  "binary", "ip", "arn", "null", "disagreement"):
        assert topic in tags, topic


@pytest.mark.parametrize("case", ALL_CASES, ids=[c["id"] for c in ALL_CASES])
def test_documented_case_python_api(case: dict[str, Any]) -> None:
    decision = evaluate_case(case)
    assert decision.decision == case["expected"], (case["note"], decision.decided_by)
    assert decision.decided_by, "a decision always says what decided it"
    if decision.decision == "explicit_deny":
        assert all(d["effect"] == "Deny" for d in decision.decided_by)


def _run_cli(path: Path) -> tuple[int, list[dict[str, Any]]]:
    p = subprocess.run([str(SECLAB), "iam", "eval", str(path), "--format", "jsonl"], capture_output=True, text=True,
                       timeout=120)
    return p.returncode, [json.loads(line) for line in p.stdout.splitlines()]


@pytest.mark.parametrize("path", CASE_FILES, ids=[p.stem for p in CASE_FILES])
def test_documented_cases_via_cli(path: Path) -> None:
    code, out = _run_cli(path)
    cases = _load(path)
    assert code == 0
    assert [o["id"] for o in out] == [c["id"] for c in cases], "one output line per case, in order"
    for o, c in zip(out, cases, strict=True):
        assert o["decision"] == c["expected"], c["id"]
        assert set(o) == {"id", "decision", "decided_by"}


@pytest.mark.skipif(not SAMPLE.exists(), reason="shared sample not present")
def test_shared_sample_via_cli_and_api() -> None:
    cases = _load(SAMPLE)
    code, out = _run_cli(SAMPLE)
    assert code == 0
    assert [o["decision"] for o in out] == [c["expected"] for c in cases]
    assert [evaluate_case(c).decision for c in cases] == [c["expected"] for c in cases]


def test_feedback_names_the_scp() -> None:
    """The point of decided_by: feedback can say "your SCP denies" rather than "nothing allows"."""
    case = next(c for c in ALL_CASES if c["id"] == "awsdoc-scp-account-level-gap")
    d = evaluate_case(case)
    assert d.decided_by[0]["policy"] == "scp[2]" and "SCP" in d.decided_by[0]["reason"]
    deny = evaluate_case(next(c for c in ALL_CASES if c["id"] == "awsdoc-scp-deny-at-ou"))
    assert deny.decided_by[0]["policy"] == "scp[1][1]" and deny.decided_by[0]["effect"] == "Deny"


def test_cli_module_entry_point_matches() -> None:
    """`python -m seclab.cli` behaves like the console script."""
    path = CASE_FILES[0]
    p = subprocess.run([sys.executable, "-m", "seclab.cli", "iam", "eval", str(path)], capture_output=True, text=True,
                       timeout=120, cwd=ROOT)
    assert p.returncode == 0
    assert len(p.stdout.splitlines()) == len(_load(path))
