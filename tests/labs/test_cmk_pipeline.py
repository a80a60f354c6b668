"""The cmk-pipeline lab end to end on a real simulator.

- set-up only: idempotent, not passed, every learner task not done, no ERROR, helpful messages;
- the reference solution: full marks (in process, and once through `seclab run --solution --format json`);
- mutations: for every check, one flaw in the solved account that fails that check and no other. To keep the file
  fast, the mutations share one solved learner: each applies its flaw, grades, then undoes it (the undo is checked
  by a final full-marks grade); training jobs and endpoint configs cannot be changed, so their undo is a new,
  correct job or config, exactly what a learner would do;
- alternative correct solutions (fresh learners): full marks;
- the source notebook executed with nbclient: full marks; the nbgrader release runs and scores low (slow).
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from lab_notebooks import execute_notebook, release

from seclab.grading.labs import get_lab, lab_context, setup_lab, solve_lab
from seclab.grading.runner import grade

ROOT = Path(__file__).resolve().parents[2]
SECLAB = str(Path(sys.executable).parent / "seclab")
LAB = "cmk-pipeline"
NOTEBOOK = ROOT / "labs" / LAB / "cmk-pipeline.ipynb"


def failing(report: Any) -> set[str]:
    return {r.spec.id for r in report.results if r.status.value != "PASS"}


def statuses(report: Any) -> dict[str, str]:
    return {r.spec.id: r.status.value for r in report.results}


class World:
    """One solved learner shared by the mutation tests."""

    def __init__(self, name: str) -> None:
        self.lab = get_lab(LAB)
        self.learner = name
        self.facts = setup_lab(self.lab, name)
        solve_lab(self.lab, name)
        self.ctx = lab_context(self.lab, name)
        self.sol = self.lab.module("solution")
        self.setup_module = self.lab.module("setup")
        self.opts = self.sol.Options()
        self.counter = 1

    @property
    def key_arn(self) -> str:
        return str(self.ctx.client("kms").describe_key(KeyId=self.facts["key_alias"])["KeyMetadata"]["Arn"])

    @property
    def key_id(self) -> str:
        """(moto's DisableKey/EnableKey/rotation calls want the key id, not the ARN)"""
        return str(self.ctx.client("kms").describe_key(KeyId=self.facts["key_alias"])["KeyMetadata"]["KeyId"])

    def next_name(self) -> str:
        self.counter += 1
        return f"{self.facts['training_job_prefix']}-{self.counter:03d}"

    def grade(self) -> Any:
        return grade(self.lab, self.learner)


@pytest.fixture(scope="module")
def world(sim: Any) -> Iterator[World]:
    from seclab.sim import registry

    name = "t-cmk-world"
    registry.add_learner(name)
    yield World(name)


# ------------------------------------------------------------------------------------------------ set-up, solution


def test_setup_only_is_idempotent_not_passed_and_helpful(sim: Any, learner: Any) -> None:
    lab = get_lab(LAB)
    facts = setup_lab(lab, learner.name)
    again = setup_lab(lab, learner.name)
    assert facts == again, "set-up must be idempotent"
    assert facts["data_bucket"].endswith(facts["data_bucket"][-10:]) and facts["objects"][facts["data_bucket"]]
    report = grade(lab, learner.name)
    assert not report.passed and report.score < report.max_score * 0.2
    assert not report.errors, [(r.spec.id, r.message) for r in report.errors]
    done = [t["id"] for t in report.to_json()["tasks"] if t["done"]]
    assert not done, f"tasks done at set-up: {done}"
    by_id = {r.spec.id: r for r in report.results}
    for r in report.results:
        assert r.message and "could not be evaluated" not in r.message
    assert facts["key_alias"] in by_id["kms_cmk_alias_enabled"].message
    assert "too broad" not in by_id["cmk_training_role_least_privilege"].message
    assert "AmazonS3FullAccess" in by_id["cmk_training_role_least_privilege"].message
    assert facts["s3_endpoint_id"] in by_id["cmk_s3_endpoint_policy"].message
    # the brownfield is what it claims: every object SSE-S3, the endpoint policy wide open
    s3 = lab_context(lab, learner.name).client("s3")
    for bucket, items in facts["objects"].items():
        for item in items:
            assert s3.head_object(Bucket=bucket, Key=item["key"]).get("ServerSideEncryption") == "AES256"


def test_two_learners_get_different_scenarios() -> None:
    """Names, CIDRs and data come from the learner's seed (pure functions of setup.py: no simulator needed)."""
    setup_module = get_lab(LAB).module("setup")
    assert setup_module is not None
    a, b = (setup_module.names(seed, "111111111111", "x") for seed in (1234, 98765))
    assert a["data_bucket"] != b["data_bucket"] and a["vpc_cidr"] != b["vpc_cidr"]
    assert setup_module.objects(a, 1234) != setup_module.objects(b, 98765)
    assert setup_module.objects(a, 1234) == setup_module.objects(a, 1234)


def test_solution_gets_full_marks(world: World) -> None:
    report = world.grade()
    assert report.score == report.max_score and report.passed, [(r.spec.id, r.message) for r in report.results
                                                                if r.status.value != "PASS"]


# ------------------------------------------------------------------------------------------------ mutations


Flaw = Callable[[World], None]


def _key_policy(w: World, edit: Callable[[dict[str, Any]], None]) -> None:
    policy = json.loads(w.sol.key_policy(w.facts, w.opts))
    for st in policy["Statement"]:
        edit(st)
    w.ctx.client("kms").put_key_policy(KeyId=w.key_arn, PolicyName="default", Policy=json.dumps(policy))


def _restore_key_policy(w: World) -> None:
    w.ctx.client("kms").put_key_policy(KeyId=w.key_arn, PolicyName="default", Policy=w.sol.key_policy(w.facts, w.opts))


def _bucket_policy(w: World, bucket: str, edit: Callable[[dict[str, Any]], None]) -> None:
    policy = json.loads(w.sol.bucket_policy(w.facts, bucket, w.key_arn, w.opts, True))
    for st in policy["Statement"]:
        edit(st)
    w.ctx.client("s3").put_bucket_policy(Bucket=bucket, Policy=json.dumps(policy))


def _restore_buckets(w: World) -> None:
    w.sol.configure_buckets(w.ctx, w.facts, w.key_arn, w.opts, perimeter=True)


def _good_job(w: World) -> None:
    w.sol.training_job(w.ctx, w.facts, w.key_arn, w.opts, name=w.next_name())


def _admins_get_everything(st: dict[str, Any]) -> None:
    if st.get("Sid") == "KeyAdministrators":
        st["Action"] = "kms:*"


def _users_without_via_service(st: dict[str, Any]) -> None:
    if st.get("Sid") == "KeyUsersThroughS3AndSageMaker":
        st.pop("Condition")


def _tls_only_get_object(st: dict[str, Any]) -> None:
    if st.get("Sid") == "DenyInsecureTransport":
        st["Action"] = "s3:GetObject"


def _upload_rule_any_kms_key(st: dict[str, Any]) -> None:
    if st.get("Sid") == "DenyUploadsNotUnderPipelineKey":
        st["Condition"] = {"StringNotEquals": {"s3:x-amz-server-side-encryption": "aws:kms"}}


def _perimeter_forgets_the_operator(st: dict[str, Any]) -> None:
    if st.get("Sid") == "DenyOutsidePerimeter":
        st["Condition"]["ArnNotEquals"]["aws:PrincipalArn"] = [st["Condition"]["ArnNotEquals"]["aws:PrincipalArn"][0]]


def _perimeter_exempts_training(st: dict[str, Any]) -> None:
    if st.get("Sid") == "DenyOutsidePerimeter":
        st["Condition"]["ArnNotEquals"]["aws:PrincipalArn"].append("arn:aws:iam::*:role/*-training")


def _object(w: World, bucket_fact: str, index: int = 0) -> tuple[str, str, bytes]:
    bucket = w.facts[bucket_fact]
    key = w.facts["objects"][bucket][index]["key"]
    n = w.setup_module.names(w.ctx.seed, w.ctx.account_id, w.learner)
    return bucket, key, w.setup_module.objects(n, w.ctx.seed)[bucket][key]


def _reput(w: World, bucket: str, key: str, body: bytes) -> None:
    w.ctx.client("s3").put_object(Bucket=bucket, Key=key, Body=body, ServerSideEncryption="aws:kms",
                                  SSEKMSKeyId=w.key_arn, BucketKeyEnabled=True)


def flaw_object_left_sse_s3(w: World) -> None:
    bucket, key, _ = _object(w, "data_bucket")
    w.ctx.client("s3").copy_object(Bucket=bucket, Key=key, CopySource={"Bucket": bucket, "Key": key},
                                   ServerSideEncryption="AES256")


def undo_object(w: World, bucket_fact: str = "data_bucket", index: int = 0) -> None:
    _reput(w, *_object(w, bucket_fact, index))


def flaw_object_altered(w: World) -> None:
    bucket, key, body = _object(w, "artifact_bucket")
    _reput(w, bucket, key, body + b"\n# re-serialised by a migration script\n")


def flaw_object_lost(w: World) -> None:
    bucket, key, _ = _object(w, "data_bucket", -1)
    w.ctx.client("s3").delete_object(Bucket=bucket, Key=key)


MUTATIONS: dict[str, tuple[Flaw, Flaw, set[str]]] = {
    # name: (apply the flaw, undo it, the checks that must fail)
    "key_disabled": (lambda w: w.ctx.client("kms").disable_key(KeyId=w.key_id),
                     lambda w: w.ctx.client("kms").enable_key(KeyId=w.key_id), {"kms_cmk_alias_enabled"}),
    "rotation_off": (lambda w: w.ctx.client("kms").disable_key_rotation(KeyId=w.key_id),
                     lambda w: w.ctx.client("kms").enable_key_rotation(KeyId=w.key_id), {"cmk_key_rotation_enabled"}),
    "key_admins_can_decrypt": (lambda w: _key_policy(w, _admins_get_everything), _restore_key_policy,
                               {"cmk_key_admins_separated"}),
    "key_users_without_via_service": (lambda w: _key_policy(w, _users_without_via_service), _restore_key_policy,
                                      {"cmk_key_use_limited"}),
    "artifact_bucket_aws_managed_key": (
        lambda w: w.ctx.client("s3").put_bucket_encryption(
            Bucket=w.facts["artifact_bucket"], ServerSideEncryptionConfiguration={"Rules": [{
                "ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": "alias/aws/s3"},
                "BucketKeyEnabled": True}]}),
        _restore_buckets, {"cmk_buckets_default_encryption"}),
    "bucket_keys_off": (
        lambda w: w.ctx.client("s3").put_bucket_encryption(
            Bucket=w.facts["data_bucket"], ServerSideEncryptionConfiguration={"Rules": [{
                "ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": w.key_arn},
                "BucketKeyEnabled": False}]}),
        _restore_buckets, {"cmk_buckets_default_encryption"}),
    "tls_deny_only_get_object": (lambda w: _bucket_policy(w, w.facts["data_bucket"], _tls_only_get_object),
                                 _restore_buckets, {"cmk_buckets_tls_required"}),
    "upload_rule_any_kms_key": (lambda w: _bucket_policy(w, w.facts["artifact_bucket"], _upload_rule_any_kms_key),
                                _restore_buckets, {"cmk_buckets_upload_key_required"}),
    "object_left_sse_s3": (flaw_object_left_sse_s3, undo_object, {"cmk_objects_reencrypted"}),
    "object_altered": (flaw_object_altered, lambda w: undo_object(w, "artifact_bucket"), {"cmk_objects_intact"}),
    "object_lost": (flaw_object_lost, lambda w: undo_object(w, "data_bucket", -1), {"cmk_objects_intact"}),
    "training_volume_key_missing": (
        lambda w: w.sol.training_job(w.ctx, w.facts, w.key_arn, w.opts, name=w.next_name(), ResourceConfig={
            "InstanceType": "ml.m5.xlarge", "InstanceCount": 2, "VolumeSizeInGB": 30}),
        _good_job, {"cmk_training_job_encrypted"}),
    "training_without_network_isolation": (
        lambda w: w.sol.training_job(w.ctx, w.facts, w.key_arn, w.opts, name=w.next_name(),
                                     EnableNetworkIsolation=False),
        _good_job, {"cmk_training_job_isolated"}),
    "training_role_kms_star": (
        lambda w: w.ctx.client("iam").put_role_policy(
            RoleName=w.facts["training_role"], PolicyName="kms-everything", PolicyDocument=json.dumps(
                {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "kms:*", "Resource": "*"}]})),
        lambda w: w.ctx.client("iam").delete_role_policy(RoleName=w.facts["training_role"],
                                                         PolicyName="kms-everything"),
        {"cmk_training_role_least_privilege"}),
    "endpoint_config_without_key": (
        lambda w: w.sol.deploy(w.ctx, w.facts, w.key_arn, f"{w.facts['training_job_prefix']}-001", w.opts,
                               version="v2-nokms", kms=False),
        lambda w: w.sol.deploy(w.ctx, w.facts, w.key_arn, f"{w.facts['training_job_prefix']}-001", w.opts,
                               version="v3"),
        {"cmk_endpoint_config_encrypted"}),
    "listener_accepts_tls_1_0": (lambda w: w.sol.front_door(w.ctx, w.facts, ssl_policy="ELBSecurityPolicy-2016-08"),
                                 lambda w: w.sol.front_door(w.ctx, w.facts), {"cmk_https_front_door"}),
    "trail_without_log_validation": (
        lambda w: w.ctx.client("cloudtrail").update_trail(Name=w.facts["trail_name"], EnableLogFileValidation=False),
        lambda w: w.ctx.client("cloudtrail").update_trail(Name=w.facts["trail_name"], EnableLogFileValidation=True),
        {"cmk_trail_encrypted_validated"}),
    "endpoint_policy_wide_open": (
        lambda w: w.ctx.client("ec2").modify_vpc_endpoint(VpcEndpointId=w.facts["s3_endpoint_id"], PolicyDocument=json.dumps(
            {"Version": "2008-10-17", "Statement": [{"Effect": "Allow", "Principal": "*", "Action": "*",
                                                     "Resource": "*"}]})),
        lambda w: w.sol.perimeter(w.ctx, w.facts, w.key_arn, w.opts), {"cmk_s3_endpoint_policy"}),
    "perimeter_locks_out_the_operator": (
        lambda w: _bucket_policy(w, w.facts["data_bucket"], _perimeter_forgets_the_operator),
        _restore_buckets, {"cmk_buckets_vpce_only"}),
    "perimeter_exempts_training_role": (
        lambda w: _bucket_policy(w, w.facts["artifact_bucket"], _perimeter_exempts_training),
        _restore_buckets, {"cmk_buckets_vpce_only"}),
}


@pytest.mark.parametrize("name", list(MUTATIONS))
def test_one_flaw_fails_its_check_alone(world: World, name: str) -> None:
    apply, undo, expected = MUTATIONS[name]
    apply(world)
    try:
        report = world.grade()
    finally:
        undo(world)
    assert failing(report) == expected, {r.spec.id: r.message for r in report.results if r.status.value != "PASS"}
    for r in report.results:
        if r.spec.id in expected:
            assert r.status.value == "FAIL" and r.message and "could not be evaluated" not in r.message


def test_object_messages_name_each_object(world: World) -> None:
    bucket, key, _ = _object(world, "data_bucket", 1)
    other_bucket, other_key, _ = _object(world, "artifact_bucket", 2)
    s3 = world.ctx.client("s3")
    for b, k in ((bucket, key), (other_bucket, other_key)):
        s3.copy_object(Bucket=b, Key=k, CopySource={"Bucket": b, "Key": k}, ServerSideEncryption="AES256")
    try:
        report = world.grade()
    finally:
        undo_object(world, "data_bucket", 1)
        undo_object(world, "artifact_bucket", 2)
    msg = next(r.message for r in report.results if r.spec.id == "cmk_objects_reencrypted")
    assert f"s3://{bucket}/{key} (SSE-S3)" in msg and f"s3://{other_bucket}/{other_key}" in msg and msg.startswith("2 of")


def test_world_is_back_to_full_marks(world: World) -> None:
    """Runs after the mutations (file order): every undo really restored the solved state."""
    report = world.grade()
    assert report.score == report.max_score, failing(report)


# ------------------------------------------------------------------------------------------------ alternatives


def _alt_hand_written(ctx: Any, facts: dict[str, Any], sol: Any) -> None:
    """The same controls written differently: wildcard ViaService, admins by service-prefix wildcards (no
    Create*), TLS also by minimum TLS version, key named by id, an endpoint policy that also names the
    principals, an HTTP listener that only redirects, and a TLS 1.3-only policy."""
    kms, s3, ec2, elb = ctx.client("kms"), ctx.client("s3"), ctx.client("ec2"), ctx.client("elbv2")
    meta = kms.describe_key(KeyId=facts["key_alias"])["KeyMetadata"]
    arn, key_id = meta["Arn"], meta["KeyId"]
    policy = {"Version": "2012-10-17", "Statement": [
        {"Sid": "Admins", "Effect": "Allow", "Principal": {"AWS": [facts["key_admin_role_arn"], facts["learner_arn"]]},
         "Action": ["kms:Describe*", "kms:List*", "kms:Get*", "kms:Put*", "kms:Enable*", "kms:Disable*",
                    "kms:Update*", "kms:Revoke*", "kms:Delete*", "kms:CreateAlias", "kms:TagResource",
                    "kms:UntagResource", "kms:ScheduleKeyDeletion", "kms:CancelKeyDeletion"], "Resource": "*"},
        {"Sid": "Users", "Effect": "Allow", "Principal": {"AWS": facts["pipeline_role_arns"]},
         "Action": ["kms:Decrypt", "kms:GenerateDataKey", "kms:Encrypt"], "Resource": "*",
         "Condition": {"StringLike": {"kms:ViaService": ["s3.*.amazonaws.com", "sagemaker.*.amazonaws.com"]}}},
        {"Sid": "Grants", "Effect": "Allow", "Principal": {"AWS": facts["training_role_arn"]},
         "Action": "kms:CreateGrant", "Resource": "*", "Condition": {"Bool": {"kms:GrantIsForAWSResource": True}}},
    ]}
    kms.put_key_policy(KeyId=arn, PolicyName="default", Policy=json.dumps(policy))
    for bucket in (facts["data_bucket"], facts["artifact_bucket"]):
        b = f"arn:aws:s3:::{bucket}"
        s3.put_bucket_encryption(Bucket=bucket, ServerSideEncryptionConfiguration={"Rules": [{
            "ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": key_id},
            "BucketKeyEnabled": True}]})
        s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps({"Version": "2012-10-17", "Statement": [
            {"Sid": "NoPlainHttp", "Effect": "Deny", "Principal": {"AWS": "*"}, "Action": "s3:*",
             "Resource": [b, f"{b}/*"], "Condition": {"Bool": {"aws:SecureTransport": False}}},
            {"Sid": "NoOldTls", "Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": [b, f"{b}/*"],
             "Condition": {"NumericLessThan": {"s3:TlsVersion": "1.2"}}},
            {"Sid": "OnlyPipelineKey", "Effect": "Deny", "Principal": "*", "Action": "s3:PutObject",
             "Resource": f"{b}/*", "Condition": {"StringNotEquals": {
                 "s3:x-amz-server-side-encryption-aws-kms-key-id": arn}}},
            {"Sid": "DataOnlyThroughTheEndpoint", "Effect": "Deny", "Principal": "*",
             "Action": ["s3:GetObject*", "s3:PutObject*", "s3:DeleteObject*", "s3:ListBucket*"],
             "Resource": [b, f"{b}/*"],
             "Condition": {"StringNotEquals": {"aws:SourceVpce": [facts["s3_endpoint_id"]]},
                           "ArnNotLike": {"aws:PrincipalArn": facts["perimeter_exempt_arns"]}}},
        ]}))
    resources = [f"arn:aws:s3:::{x}{s}" for x in (facts["data_bucket"], facts["artifact_bucket"]) for s in ("", "/*")]
    ec2.modify_vpc_endpoint(VpcEndpointId=facts["s3_endpoint_id"], PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": facts["pipeline_role_arns"]},
                                                "Action": "s3:*", "Resource": resources}]}))
    lb = [x for x in elb.describe_load_balancers()["LoadBalancers"]
          if x["LoadBalancerName"] == facts["load_balancer"]][0]["LoadBalancerArn"]
    elb.create_listener(LoadBalancerArn=lb, Protocol="HTTP", Port=80, DefaultActions=[{
        "Type": "redirect", "RedirectConfig": {"Protocol": "HTTPS", "Port": "443", "StatusCode": "HTTP_301"}}])
    sol.front_door(ctx, facts, ssl_policy="ELBSecurityPolicy-TLS13-1-3-2021-06")


ALTERNATIVES: dict[str, tuple[dict[str, Any], Callable[[Any, dict[str, Any], Any], None] | None]] = {
    # root delegation + Deny guard rails; Null + StringNotEqualsIfExists upload pair; key named by alias ARN
    "root_delegation_null_rule_alias": ({"key_policy": "root_delegation", "upload_rule": "null_and_key",
                                         "key_ref": "alias"}, None),
    # migration by download and re-upload; perimeter on aws:SourceVpc; the pipeline key also encrypts the trail
    "reupload_source_vpc_one_key": ({"migration": "reupload", "perimeter": "source_vpc", "trail_key": "pipeline"},
                                    None),
    "hand_written_policies": ({}, _alt_hand_written),
}


@pytest.mark.parametrize("name", list(ALTERNATIVES))
def test_alternative_solutions_get_full_marks(sim: Any, learner: Any, name: str) -> None:
    options, after = ALTERNATIVES[name]
    lab = get_lab(LAB)
    facts = setup_lab(lab, learner.name)
    sol = lab.module("solution")
    ctx = lab_context(lab, learner.name)
    if name == "reupload_source_vpc_one_key":
        # also: without looking the key's events up, only the audit check fails, and it says which events exist
        sol.solve(ctx, facts, **options, look_up_events=False)
        report = grade(lab, learner.name)
        assert failing(report) == {"cmk_key_use_audited"}
        msg = next(r.message for r in report.results if r.spec.id == "cmk_key_use_audited")
        assert "kms:PutKeyPolicy" in msg and "not looked them up" in msg
        sol.look_up_key_events(ctx, str(ctx.client("kms").describe_key(KeyId=facts["key_alias"])["KeyMetadata"]["Arn"]))
    else:
        sol.solve(ctx, facts, **options)
    if after is not None:
        after(ctx, facts, sol)
    report = grade(lab, learner.name)
    assert report.score == report.max_score, {r.spec.id: r.message for r in report.results
                                              if r.status.value != "PASS"}


def test_vanished_bucket_is_error_not_pass(sim: Any, learner: Any) -> None:
    lab = get_lab(LAB)
    facts = setup_lab(lab, learner.name)
    s3 = lab_context(lab, learner.name).client("s3")
    bucket = facts["artifact_bucket"]
    for item in facts["objects"][bucket]:
        s3.delete_object(Bucket=bucket, Key=item["key"])
    s3.delete_bucket(Bucket=bucket)
    report = grade(lab, learner.name)
    errors = {r.spec.id for r in report.errors}
    assert {"cmk_objects_intact", "cmk_objects_reencrypted", "cmk_buckets_default_encryption"} <= errors
    assert all(bucket in r.message and "reset" in r.message for r in report.errors)


# ------------------------------------------------------------------------------------------------ CLI, notebook


def test_cli_run_solution_json(sim: Any, learner: Any) -> None:
    proc = subprocess.run([SECLAB, "run", LAB, "--learner", learner.name, "--solution", "--format", "json"],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-800:]
    data = json.loads(proc.stdout)
    assert data["lab"] == LAB and data["score"] == data["max_score"] == 100 and data["passed"] is True
    assert len(data["checks"]) == 18 and all(t["done"] for t in data["tasks"])
    for c in data["checks"]:
        assert c["status"] == "PASS" and set(c["remediation"]) >= {"summary", "boto3", "cli"} and c["compliance"]


@pytest.mark.slow
def test_source_notebook_full_marks_and_release_runs_low(sim: Any, learner: Any, tmp_path: Path) -> None:
    nb = execute_notebook(NOTEBOOK, learner.name, tmp_path)
    outputs = json.dumps([c.get("outputs", []) for c in nb.cells])
    assert "seclab-check" in outputs and "Traceback" not in outputs
    report = grade(get_lab(LAB), learner.name)
    assert report.score == report.max_score, {r.spec.id: r.message for r in report.results
                                              if r.status.value != "PASS"}

    proc, released = release(NOTEBOOK, LAB, tmp_path / "course")
    assert proc.returncode == 0 and released.exists(), proc.stderr[-800:]
    text = released.read_text()
    assert "BEGIN SOLUTION" not in text and "YOUR CODE HERE" in text and "put_key_policy" not in text

    from seclab.sim import registry

    fresh = registry.add_learner(learner.name + "-rel")
    rel = execute_notebook(released, fresh.name, tmp_path)  # raises CellExecutionError if any cell fails
    assert not [o for c in rel.cells if c.cell_type == "code" for o in c.get("outputs", [])
                if o.get("output_type") == "error"]
    low = grade(get_lab(LAB), fresh.name)
    assert low.score < low.max_score * 0.2 and not low.passed and not low.errors
