"""Meta-tests over every check and lab: declarations load, ids are unique and match folders, compliance ids exist,
every check is used by a lab, learner-facing messages are sentences."""

from __future__ import annotations

import re

import pytest

from seclab.grading.checks import FRAMEWORKS, all_checks, compliance_catalogue
from seclab.grading.labs import all_labs

CHECKS = all_checks()
LABS = all_labs()


def test_there_are_checks_and_labs() -> None:
    assert len(CHECKS) >= 4
    assert "orientation" in LABS


@pytest.mark.parametrize("check_id", sorted(CHECKS))
def test_check_declaration(check_id: str) -> None:
    spec = CHECKS[check_id]
    assert spec.path.name == check_id
    assert spec.messages["pass"]
    for key, text in spec.messages.items():
        assert text.rstrip().endswith((".", ")", "'", '"')), f"{check_id}.{key} should end with a period"
    assert spec.remediation["boto3"].strip() and spec.remediation["cli"].strip()
    assert len(spec.why) > 40, "why it matters should explain the risk"


@pytest.mark.parametrize("check_id", sorted(CHECKS))
def test_compliance_ids_exist(check_id: str) -> None:
    catalogue = compliance_catalogue()
    for fw, ids in CHECKS[check_id].compliance.items():
        assert fw in FRAMEWORKS
        for cid in ids:
            assert cid in catalogue.get(fw, {}), f"{check_id}: {fw} control {cid} is not in graders/compliance/{fw}.yaml"


def test_every_check_is_used_by_a_lab() -> None:
    used = {ref.id for lab in LABS.values() for task in lab.tasks for ref in task.checks}
    assert not set(CHECKS) - used, f"checks no lab uses: {sorted(set(CHECKS) - used)}"


@pytest.mark.parametrize("lab_id", sorted(LABS))
def test_lab_manifest(lab_id: str) -> None:
    lab = LABS[lab_id]
    assert lab.max_score > 0
    assert (lab.path / lab.notebook).exists(), f"{lab_id}: notebook {lab.notebook} missing"
    assert (lab.path / "setup.py").exists() and (lab.path / "solution.py").exists()
    assert (lab.path / "README.md").exists()
    assert "sts" in lab.services or lab.services
    for task in lab.tasks:
        assert task.checks, f"{lab_id}: task {task.id} has no checks"
        assert task.hints, f"{lab_id}: task {task.id} has no hints"


def test_check_messages_format_with_declared_placeholders_only() -> None:
    """A message's {placeholders} are plain names (no attribute access or indexing into objects)."""
    for spec in CHECKS.values():
        for key, text in spec.messages.items():
            for name in re.findall(r"{([^{}]*)}", text):
                assert re.fullmatch(r"[a-z_][a-z0-9_]*", name), f"{spec.id}.{key}: placeholder {{{name}}}"
