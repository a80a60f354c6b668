"""The orientation lab end to end on a real simulator: set-up only fails helpfully, the solution gets full marks,
each check has a one-flaw variant that fails it alone, alternative correct answers pass, and the notebook works."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from lab_notebooks import execute_notebook, release

from seclab.grading.labs import get_lab, lab_context, setup_lab, solve_lab
from seclab.grading.runner import grade

ROOT = Path(__file__).resolve().parents[2]
SECLAB = str(Path(sys.executable).parent / "seclab")
LAB = "orientation"


def failing(report: Any) -> set[str]:
    return {r.spec.id for r in report.results if r.status.value != "PASS"}


def solved(learner: str) -> tuple[Any, dict[str, Any]]:
    lab = get_lab(LAB)
    facts = setup_lab(lab, learner)
    solve_lab(lab, learner)
    return lab, facts


def test_setup_only_fails_every_task_without_error(sim: Any, learner: Any) -> None:
    lab = get_lab(LAB)
    facts = setup_lab(lab, learner.name)
    again = setup_lab(lab, learner.name)
    assert facts == again, "set-up must be idempotent"
    report = grade(lab, learner.name)
    assert not report.passed and report.score < report.max_score
    assert all(r.status.value == "FAIL" for r in report.results), [(r.spec.id, r.status) for r in report.results]
    for r in report.results:
        assert r.message and "could not be evaluated" not in r.message
    bucket = next(r for r in report.results if r.spec.id == "s3_bucket_default_encryption_cmk")
    assert facts["bucket"] in bucket.message and "does not exist yet" in bucket.message


def test_solution_gets_full_marks(sim: Any, learner: Any) -> None:
    lab, _ = solved(learner.name)
    report = grade(lab, learner.name)
    assert report.score == report.max_score and report.passed, failing(report)


def _key_arn(ctx: Any, alias: str) -> str:
    return ctx.client("kms").describe_key(KeyId=alias)["KeyMetadata"]["Arn"]


def _encrypt(ctx: Any, facts: dict[str, Any], rule: dict[str, Any]) -> None:
    ctx.client("s3").put_bucket_encryption(Bucket=facts["bucket"], ServerSideEncryptionConfiguration={
        "Rules": [{"ApplyServerSideEncryptionByDefault": rule}]})


def flaw_sse_s3(ctx: Any, facts: dict[str, Any]) -> None:
    _encrypt(ctx, facts, {"SSEAlgorithm": "AES256"})


def flaw_aws_managed_key(ctx: Any, facts: dict[str, Any]) -> None:
    _encrypt(ctx, facts, {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": "alias/aws/s3"})


def flaw_other_key(ctx: Any, facts: dict[str, Any]) -> None:
    other = ctx.client("kms").create_key(Description="some other key")["KeyMetadata"]["Arn"]
    _encrypt(ctx, facts, {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": other})


def flaw_public_access_partly_open(ctx: Any, facts: dict[str, Any]) -> None:
    ctx.client("s3").put_public_access_block(Bucket=facts["bucket"], PublicAccessBlockConfiguration={
        "BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": False, "RestrictPublicBuckets": True})


def flaw_key_disabled(ctx: Any, facts: dict[str, Any]) -> None:
    kms = ctx.client("kms")
    kms.disable_key(KeyId=kms.describe_key(KeyId=facts["key_alias"])["KeyMetadata"]["KeyId"])


MUTATIONS: dict[str, tuple[Callable[[Any, dict[str, Any]], None], set[str]]] = {
    "sse_s3": (flaw_sse_s3, {"s3_bucket_default_encryption_cmk"}),
    "aws_managed": (flaw_aws_managed_key, {"s3_bucket_default_encryption_cmk"}),
    "other_key": (flaw_other_key, {"s3_bucket_default_encryption_cmk"}),
    "public_partly_open": (flaw_public_access_partly_open, {"s3_bucket_public_access_blocked"}),
    # a disabled key breaks the key check and, through it, the bucket's encryption (the key it names is unusable)
    "key_disabled": (flaw_key_disabled, {"kms_cmk_alias_enabled", "s3_bucket_default_encryption_cmk"}),
}


@pytest.mark.parametrize("name", sorted(MUTATIONS))
def test_one_flaw_fails_its_check_alone(sim: Any, learner: Any, name: str) -> None:
    lab, facts = solved(learner.name)
    flaw, expected = MUTATIONS[name]
    flaw(lab_context(lab, learner.name), facts)
    report = grade(lab, learner.name)
    assert failing(report) == expected
    for r in report.results:
        if r.spec.id in expected:
            assert r.status.value == "FAIL" and r.message


def alt_alias_reference(ctx: Any, facts: dict[str, Any]) -> None:
    """Naming the key by its alias in the bucket's encryption is as good as its ARN."""
    _encrypt(ctx, facts, {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": facts["key_alias"]})


def alt_key_id_reference(ctx: Any, facts: dict[str, Any]) -> None:
    key_id = ctx.client("kms").describe_key(KeyId=facts["key_alias"])["KeyMetadata"]["KeyId"]
    _encrypt(ctx, facts, {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": key_id})


def alt_dsse(ctx: Any, facts: dict[str, Any]) -> None:
    _encrypt(ctx, facts, {"SSEAlgorithm": "aws:kms:dsse", "KMSMasterKeyID": _key_arn(ctx, facts["key_alias"])})


@pytest.mark.parametrize("alt", [alt_alias_reference, alt_key_id_reference, alt_dsse], ids=lambda f: f.__name__)
def test_alternative_correct_answers_get_full_marks(sim: Any, learner: Any, alt: Any) -> None:
    lab, facts = solved(learner.name)
    alt(lab_context(lab, learner.name), facts)
    report = grade(lab, learner.name)
    assert report.score == report.max_score, failing(report)


def test_vanished_target_is_not_a_pass(sim: Any, learner: Any) -> None:
    lab, facts = solved(learner.name)
    s3 = lab_context(lab, learner.name).client("s3")
    s3.delete_bucket(Bucket=facts["bucket"])
    report = grade(lab, learner.name)
    assert {"s3_bucket_default_encryption_cmk", "s3_bucket_public_access_blocked"} <= failing(report)


def test_decoy_bucket_does_not_count(sim: Any, learner: Any) -> None:
    """A compliant bucket with another name leaves the lab's bucket ungraded-as-done."""
    lab = get_lab(LAB)
    facts = setup_lab(lab, learner.name)
    ctx = lab_context(lab, learner.name)
    kms = ctx.client("kms")
    key = kms.create_key()["KeyMetadata"]
    kms.create_alias(AliasName=facts["key_alias"], TargetKeyId=key["KeyId"])
    decoy = facts["bucket"] + "-decoy"
    ctx.client("s3").create_bucket(Bucket=decoy)
    ctx.client("s3").put_bucket_encryption(Bucket=decoy, ServerSideEncryptionConfiguration={"Rules": [
        {"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": key["Arn"]}}]})
    report = grade(lab, learner.name)
    assert "s3_bucket_default_encryption_cmk" in failing(report)


def test_cli_run_solution_json_contract(sim: Any, learner: Any) -> None:
    proc = subprocess.run([SECLAB, "run", LAB, "--learner", learner.name, "--solution", "--format", "json"],
                          capture_output=True, text=True, timeout=300)
    data = json.loads(proc.stdout)
    assert proc.returncode == 0, proc.stderr
    assert data["lab"] == LAB and data["learner"] == learner.name
    assert data["score"] == data["max_score"] > 0 and data["passed"] is True
    for c in data["checks"]:
        assert c["status"] == "PASS" and c["points"] == c["max_points"]
        assert set(c["remediation"]) >= {"summary", "boto3", "cli"} and c["compliance"]


@pytest.mark.parametrize("fmt", ["text", "html"])
def test_cli_grade_formats(sim: Any, learner: Any, fmt: str, tmp_path: Path) -> None:
    setup_lab(get_lab(LAB), learner.name)
    out = tmp_path / f"report.{fmt}"
    proc = subprocess.run([SECLAB, "grade", LAB, "--learner", learner.name, "--format", fmt, "--out", str(out)],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 1, proc.stderr  # graded, not passed
    text = out.read_text()
    assert ("does not exist yet" in text) and (("<!doctype html>" in text) == (fmt == "html"))


@pytest.mark.slow
def test_source_notebook_executes_to_full_marks_and_release_runs(sim: Any, learner: Any, tmp_path: Path) -> None:
    nb = execute_notebook(ROOT / "labs" / LAB / "orientation.ipynb", learner.name, tmp_path, timeout=300)
    outputs = json.dumps([c.get("outputs", []) for c in nb.cells])
    assert "seclab-check" in outputs and "Traceback" not in outputs
    report = grade(get_lab(LAB), learner.name)
    assert report.score == report.max_score, failing(report)

    # nbgrader release: solutions stripped, runs untouched without errors, scores low (fresh learner)
    proc, released = release(ROOT / "labs" / LAB / "orientation.ipynb", LAB, tmp_path / "course")
    assert proc.returncode == 0 and released.exists(), proc.stderr[-500:]
    text = released.read_text()
    assert "BEGIN SOLUTION" not in text
    assert "kms.create_alias(AliasName=facts" not in text and "YOUR CODE HERE" in text
    from seclab.sim import registry

    fresh = registry.add_learner(learner.name + "-rel")
    execute_notebook(released, fresh.name, tmp_path, timeout=300)
    low = grade(get_lab(LAB), fresh.name)
    assert low.score < low.max_score and not low.passed
