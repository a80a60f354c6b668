"""The IAM engine on an inventory collected from the real simulator: roles, users, managed and inline policies,
boundaries, a bucket policy and a key policy built as the learner through boto3, read back by the collector."""

from __future__ import annotations

import json
import uuid
from typing import Any

from seclab.engines.iam import (
    Request,
    build_graph,
    evaluate,
    least_privilege,
    load_principal,
    principal_policies,
    trust_policy_findings,
)
from seclab.inventory.collect import collect_learner

SM = "sagemaker.amazonaws.com"


def _doc(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def test_engine_on_a_collected_inventory(learner: Any, learner_client: Any) -> None:
    acct = learner.home_account
    iam = learner_client(learner, "iam")
    s3 = learner_client(learner, "s3")
    kms = learner_client(learner, "kms")
    bucket = f"iam-models-{uuid.uuid4().hex[:8]}"
    s3.create_bucket(Bucket=bucket)
    key_arn = kms.create_key(Description="models")["KeyMetadata"]["Arn"]
    sm_trust = {"Effect": "Allow", "Principal": {"Service": SM}, "Action": "sts:AssumeRole",
                "Condition": {"StringEquals": {"aws:SourceAccount": acct}}}
    iam.create_role(RoleName="TrainingLoose", AssumeRolePolicyDocument=_doc(sm_trust))
    iam.attach_role_policy(RoleName="TrainingLoose", PolicyArn="arn:aws:iam::aws:policy/AmazonS3FullAccess")
    iam.put_role_policy(RoleName="TrainingLoose", PolicyName="kms",
                        PolicyDocument=_doc({"Effect": "Allow", "Action": "kms:Decrypt", "Resource": "*"}))
    boundary_doc = _doc({"Effect": "Allow", "Action": ["s3:GetObject", "s3:ListBucket", "kms:Decrypt"],
                         "Resource": "*"})
    boundary = iam.create_policy(PolicyName="ml-boundary", PolicyDocument=boundary_doc)["Policy"]["Arn"]
    iam.create_role(RoleName="TrainingTight", AssumeRolePolicyDocument=_doc(
        sm_trust, {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{acct}:root"}, "Action": "sts:AssumeRole"}),
        PermissionsBoundary=boundary)
    iam.put_role_policy(RoleName="TrainingTight", PolicyName="data", PolicyDocument=_doc(
        {"Effect": "Allow", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{bucket}/*"},
        {"Effect": "Allow", "Action": "s3:ListBucket", "Resource": f"arn:aws:s3:::{bucket}"},
        {"Effect": "Allow", "Action": "kms:Decrypt", "Resource": key_arn,
         "Condition": {"StringEquals": {"kms:ViaService": "s3.us-east-1.amazonaws.com"}}}))
    iam.create_user(UserName="alice")
    iam.put_user_policy(UserName="alice", PolicyName="hop", PolicyDocument=_doc(
        {"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": f"arn:aws:iam::{acct}:role/TrainingTight"}))

    inv = collect_learner(learner.name, sections=["iam", "s3", "kms"])
    assert not inv.management.errors, inv.management.errors

    tight = load_principal(inv, "TrainingTight")
    assert [p.name for p in tight.boundary] == [boundary]
    needs = [{"action": "s3:GetObject", "resource": f"arn:aws:s3:::{bucket}/model.tar.gz"},
             {"action": "s3:ListBucket", "resource": f"arn:aws:s3:::{bucket}"},
             {"action": "kms:Decrypt", "resource": key_arn, "context": {"kms:ViaService": "s3.us-east-1.amazonaws.com"},
              "conditions": ["kms:ViaService"]}]
    good = least_privilege(inv, "TrainingTight", needs)
    assert good.score == 1.0, [f.message for f in good.findings]

    loose = least_privilege(inv, "TrainingLoose", needs)
    codes = {f.code for f in loose.findings}
    assert {"broad_managed_policy", "excess_actions", "wildcard_resource", "missing_condition"} <= codes
    assert loose.score < 0.5

    role = inv.management.iam.role("TrainingLoose")
    assert role is not None
    assert trust_policy_findings(role, SM, acct).ok
    tight_role = inv.management.iam.role("TrainingTight")
    assert "whole_account" in trust_policy_findings(tight_role, SM, acct).codes()

    ps = principal_policies(inv, f"arn:aws:iam::{acct}:user/alice")
    assert evaluate(Request(f"arn:aws:iam::{acct}:user/alice", acct, "s3:GetObject",
                            f"arn:aws:s3:::{bucket}/model.tar.gz", acct), ps).decision == "implicit_deny"
    graph = build_graph(inv)
    alice = f"arn:aws:iam::{acct}:user/alice"
    assert graph.has_edge(alice, f"arn:aws:iam::{acct}:role/TrainingTight", "sts:AssumeRole")
    reach = {r.principal: r for r in graph.who_can("s3:GetObject", f"arn:aws:s3:::{bucket}/model.tar.gz")}
    assert reach[alice].text.endswith(f"assumes {acct}/TrainingTight → s3:GetObject arn:aws:s3:::{bucket}/model.tar.gz")
