"""The grading framework's own logic: loading errors, statuses, scoring, reports, ERROR never scoring."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from seclab.errors import InputError
from seclab.grading.checks import Status, load_check
from seclab.grading.context import Finding
from seclab.grading.labs import CheckRef, Lab, Task
from seclab.grading.report import to_html, to_json, to_text
from seclab.grading import runner
from seclab.inventory.model import AccountInventory, OrgInventory

GOOD_YAML = """
id: {id}
title: A test check
severity: low
points: 5
checks: It checks.
why: It matters because a long enough explanation of the risk is required here.
messages:
  pass: "Fine."
  bad: "Not fine: {{what}}."
remediation: {{summary: Fix it., boto3: "x()", cli: "aws x"}}
compliance: {{nist_csf: [PR.DS-01]}}
"""


def make_check(tmp_path: Path, cid: str, body: str, yaml_text: str | None = None) -> Path:
    folder = tmp_path / "graders" / "test" / cid
    folder.mkdir(parents=True)
    (folder / "check.yaml").write_text(yaml_text if yaml_text is not None else GOOD_YAML.format(id=cid))
    (folder / "check.py").write_text(textwrap.dedent(body))
    return folder


def lab_with(specs: dict[str, int]) -> Lab:
    return Lab(id="t-lab", title="T", level="x", summary="", duration_minutes=1, passing_percentage=50,
               services=("sts",), notebook="t.ipynb",
               tasks=(Task("t1", "Task 1", tuple(CheckRef(cid, pts) for cid, pts in specs.items()), ("h",)),),
               path=Path("."))


def test_load_check_rejects_bad_declarations(tmp_path: Path) -> None:
    folder = make_check(tmp_path, "bad_one", "def run(ctx): pass\n", "id: bad_one\ntitle: x\n")
    with pytest.raises(InputError, match="missing field"):
        load_check(folder)
    folder = make_check(tmp_path, "other_name", "def run(ctx): pass\n", GOOD_YAML.format(id="not_the_folder"))
    with pytest.raises(InputError, match="equal the folder"):
        load_check(folder)
    folder = make_check(tmp_path, "yaml_err", "def run(ctx): pass\n", "id: [unclosed\n")
    with pytest.raises(InputError, match="not valid YAML"):
        load_check(folder)
    folder = make_check(tmp_path, "no_run", "x = 1\n")
    with pytest.raises(InputError, match="no run"):
        load_check(folder)


def _grade(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, bodies: dict[str, str]) -> runner.Report:
    specs = {cid: load_check(make_check(tmp_path, cid, body)) for cid, body in bodies.items()}
    monkeypatch.setattr(runner, "checks_named", lambda ids: specs)
    org = OrgInventory(management=AccountInventory(account_id="111122223333", region="us-east-1"))
    return runner.grade_inventory(lab_with({cid: 10 for cid in bodies}), "alice", org, {"x": 1})


def test_statuses_and_scoring(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    report = _grade(tmp_path, monkeypatch, {
        "passes": "def run(ctx):\n    return ctx.ok()\n",
        "fails": "def run(ctx):\n    return ctx.fail('bad', what='thing')\n",
        "raises": "def run(ctx):\n    raise KeyError('boom')\n",
        "wrong_type": "def run(ctx):\n    return True\n",
        "bad_key": "def run(ctx):\n    return ctx.ok('nope')\n",
    })
    by_id = {r.spec.id: r for r in report.results}
    assert by_id["passes"].status is Status.PASS and by_id["passes"].points == 10
    assert by_id["fails"].status is Status.FAIL and by_id["fails"].points == 0
    assert by_id["fails"].message == "Not fine: thing."
    for cid in ("raises", "wrong_type", "bad_key"):
        assert by_id[cid].status is Status.ERROR and by_id[cid].points == 0, cid
    assert "boom" in by_id["raises"].message
    assert report.score == 10 and report.max_score == 50 and not report.passed
    data = json.loads(to_json(report))
    assert set(data) >= {"lab", "learner", "score", "max_score", "passed", "checks"}
    for c in data["checks"]:
        assert set(c) >= {"id", "title", "status", "points", "max_points", "severity", "message", "evidence",
                          "remediation", "compliance"}
    assert "could not be evaluated" in to_text(report)
    html = to_html(report)
    assert "<!doctype html>" in html and "data-status='ERROR'" in html


def test_collection_errors_make_dependent_checks_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = make_check(tmp_path, "reads_s3", "def run(ctx):\n    return ctx.ok()\n",
                        GOOD_YAML.format(id="reads_s3") + "reads: [s3]\n")
    spec = load_check(folder)
    monkeypatch.setattr(runner, "checks_named", lambda ids: {"reads_s3": spec})
    org = OrgInventory(management=AccountInventory(account_id="1", region="us-east-1",
                                                   errors={"s3": "AccessDenied: nope"}))
    report = runner.grade_inventory(lab_with({"reads_s3": 10}), "alice", org, {})
    assert report.results[0].status is Status.ERROR and report.score == 0
    assert "AccessDenied" in report.results[0].message


def test_passing_percentage(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    report = _grade(tmp_path, monkeypatch, {"pass_one": "def run(ctx):\n    return ctx.ok()\n",
                                            "fail_one": "def run(ctx):\n    return ctx.fail('bad')\n"})
    assert report.passed  # 10/20 meets the 50% pass mark
    assert Finding(Status.PASS, "pass").status is Status.PASS


def test_checks_named_loads_only_the_named_checks(tmp_path: Path) -> None:
    from seclab.errors import NotFound
    from seclab.grading.checks import checks_named

    make_check(tmp_path, "wanted_one", "def run(ctx):\n    return ctx.ok()\n")
    broken = make_check(tmp_path, "broken_other", "def run(ctx):\n    return ctx.ok()\n", "id: [unclosed\n")
    root = tmp_path / "graders"
    got = checks_named(["wanted_one"], root=root)  # the broken neighbour is never read
    assert list(got) == ["wanted_one"] and got["wanted_one"].points == 5
    with pytest.raises(InputError, match="not valid YAML"):
        checks_named([broken.name], root=root)
    with pytest.raises(NotFound, match="no check named 'missing_one'"):
        checks_named(["missing_one"], root=root)
    with pytest.raises(NotFound):
        checks_named(["../escape"], root=root)  # not an id: never globbed
    twin = root / "other" / "wanted_two"
    twin.mkdir(parents=True)
    make_check(tmp_path, "wanted_two", "def run(ctx):\n    return ctx.ok()\n")
    (twin / "check.yaml").write_text(GOOD_YAML.format(id="wanted_two"))
    (twin / "check.py").write_text("def run(ctx):\n    return ctx.ok()\n")
    with pytest.raises(InputError, match="duplicate check id wanted_two"):
        checks_named(["wanted_two"], root=root)


def test_safe_yaml_builds_plain_data_only() -> None:
    import yaml

    from seclab.grading.checks import safe_yaml

    assert safe_yaml("a: [1, two]\n") == {"a": [1, "two"]}
    for text in ("!!python/object/apply:os.system ['echo pwned']", "!!python/name:os.system", "x: !!python/tuple [1]"):
        with pytest.raises(yaml.YAMLError):
            safe_yaml(text)
