"""Least privilege scoring, trust-policy findings and principal_policies over inventory records."""

from __future__ import annotations

from dataclasses import replace

import pytest
from iam_builders import (
    account,
    allow,
    bucket,
    deny,
    doc,
    group,
    key,
    managed,
    org_inventory,
    organization,
    role,
    trust,
    user,
)

from seclab.engines.iam import (
    PolicySet,
    Request,
    evaluate,
    least_privilege,
    load_principal,
    principal_policies,
    trust_policy_findings,
)
from seclab.errors import NotFound

A = "111122223333"
M = "999988887777"
KEY = f"arn:aws:kms:us-east-1:{A}:key/k1"
SM_TRUST = trust({"Service": "sagemaker.amazonaws.com"}, Condition={"StringEquals": {"aws:SourceAccount": A}})
S3_FULL = "arn:aws:iam::aws:policy/AmazonS3FullAccess"
VIA = {"StringEquals": {"kms:ViaService": "s3.us-east-1.amazonaws.com"}}
TIGHT = doc(allow("s3:GetObject", "arn:aws:s3:::models/*"), allow("s3:ListBucket", "arn:aws:s3:::models"),
            allow("kms:Decrypt", KEY, Condition=VIA))
NEEDS = [
    {"action": "s3:GetObject", "resource": "arn:aws:s3:::models/resnet/model.tar.gz"},
    {"action": "s3:ListBucket", "resource": "arn:aws:s3:::models"},
    {"action": "kms:Decrypt", "resource": KEY, "context": {"kms:ViaService": "s3.us-east-1.amazonaws.com"},
     "conditions": ["kms:ViaService"]},
]


def inventory():
    return account(
        A,
        roles=[
            role(A, "train-tight", SM_TRUST, inline={"data": TIGHT}),
            role(A, "train-medium", SM_TRUST,
                 inline={"data": TIGHT, "more": doc(allow("s3:PutObject", "arn:aws:s3:::models/*"))}),
            role(A, "train-loose", trust("*"), managed=[S3_FULL],
                 inline={"kms": doc(allow("kms:Decrypt")),
                         "ml": doc(allow(["iam:PassRole", "sagemaker:CreateTrainingJob"]))}),
            role(A, "train-broken", SM_TRUST, inline={"data": doc(allow("s3:GetObject", "arn:aws:s3:::other/*"),
                                                                  allow("s3:GetObjct", "*"))}),
            role(A, "bounded", SM_TRUST, managed=[S3_FULL], boundary=f"arn:aws:iam::{A}:policy/boundary"),
        ],
        users=[user(A, "ana", inline={"own": doc(allow("sqs:SendMessage"))}, groups=["readers"],
                    boundary=f"arn:aws:iam::{A}:policy/boundary")],
        groups=[group(A, "readers", inline={"list": doc(allow("s3:ListBucket", "arn:aws:s3:::models"))},
                      managed=[f"arn:aws:iam::{A}:policy/team-read"])],
        policies=[managed(S3_FULL, doc(allow(["s3:*", "s3-object-lambda:*"]))),
                  managed(f"arn:aws:iam::{A}:policy/team-read", doc(allow("s3:GetObject", "arn:aws:s3:::models/*"))),
                  managed(f"arn:aws:iam::{A}:policy/boundary", doc(allow(["s3:GetObject", "s3:ListBucket", "sqs:*"])))],
        buckets=[bucket(A, "models")],
        keys=[key(A, "k1", doc({"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{A}:root"}, "Action": "kms:*",
                                "Resource": "*"}))],
    )


def test_tight_role_scores_full_marks() -> None:
    r = least_privilege(inventory(), "train-tight", NEEDS)
    assert [x["decision"] for x in r.requirements] == ["allow"] * 3
    assert r.score == 1.0
    assert [f.code for f in r.findings if f.severity != "info"] == []
    assert not r.excess and not r.unconstrained


def test_one_excess_write_action_costs_partial_credit() -> None:
    r = least_privilege(inventory(), f"arn:aws:iam::{A}:role/train-medium", NEEDS)
    assert r.excess == {"Write": ("s3:PutObject",)}
    assert r.is_excess("S3:putobject")
    assert 0.85 < r.score < 1.0
    f = r.by_code("excess_actions")[0]
    assert f.evidence["policy"] == "role/train-medium: inline more"
    assert f.evidence["json"] == allow("s3:PutObject", "arn:aws:s3:::models/*")


def test_loose_role_is_named_finding_by_finding() -> None:
    r = least_privilege(inventory(), "train-loose", NEEDS)
    codes = {f.code for f in r.findings}
    assert {"broad_managed_policy", "excess_actions", "wildcard_resource", "missing_condition",
            "risk_privilege_escalation", "risk_data_exfiltration", "risk_resource_exposure"} <= codes
    assert r.score == 0.0
    levels = set(r.excess)
    assert {"Write", "Permissions management", "Read", "List", "Tagging"} <= levels
    wild = {f.evidence["action"]: f for f in r.by_code("wildcard_resource")}
    assert wild["s3:GetObject"].evidence["policy"] == S3_FULL
    cond = r.by_code("missing_condition")[0]
    assert cond.evidence["key"] == "kms:ViaService" and cond.evidence["json"] == allow("kms:Decrypt")
    broad = r.by_code("broad_managed_policy")[0]
    assert "AmazonS3FullAccess" in broad.message
    priv = r.by_code("risk_privilege_escalation")[0]
    assert any(i["method"] == "PassExistingRoleToNewSageMakerTrainingJob" for i in priv.evidence["items"])
    assert r.to_dict(max_actions=3)["excess"]["Write"]["truncated"] is True


def test_too_tight_is_wrong_too() -> None:
    r = least_privilege(inventory(), "train-broken", NEEDS)
    assert [x["decision"] for x in r.missing] == ["implicit_deny"] * 3
    assert r.score == 0.0
    missing = r.by_code("missing_permission")
    assert len(missing) == 3 and "cannot s3:GetObject" in missing[0].message
    unknown = r.by_code("unknown_action")[0]
    assert unknown.evidence["suggestion"] == "s3:GetObject" and unknown.penalty == 0.0


def test_partial_requirements_scale_the_score() -> None:
    r = least_privilege(inventory(), "train-tight", [*NEEDS, {"action": "s3:PutObject",
                                                             "resource": "arn:aws:s3:::models/out/x"}])
    assert r.score == pytest.approx(0.75)


def test_boundary_limits_what_counts_as_excess() -> None:
    r = least_privilege(inventory(), "bounded", NEEDS[:2])
    assert "Write" not in r.excess and "Permissions management" not in r.excess
    assert r.by_code("broad_managed_policy")  # still flagged: the attachment itself is the finding
    assert {"s3:GetObject", "s3:ListBucket"} <= set(r.unconstrained)


def test_principal_policies_user_groups_boundary() -> None:
    inv = inventory()
    pp = load_principal(inv, "ana")
    names = [p.name for p in pp.identity]
    assert names == ["user/ana: inline own", "group/readers: inline list", f"arn:aws:iam::{A}:policy/team-read"]
    assert [p.name for p in pp.boundary] == [f"arn:aws:iam::{A}:policy/boundary"]
    ps = principal_policies(inv, f"arn:aws:iam::{A}:user/ana")
    ok = evaluate(Request(pp.arn, A, "s3:GetObject", "arn:aws:s3:::models/x", A), ps)
    assert ok.allowed and ok.decided_by[0]["name"] == f"arn:aws:iam::{A}:policy/team-read"
    assert evaluate(Request(pp.arn, A, "sqs:SendMessage", "arn:aws:sqs:us-east-1:111122223333:q", A), ps).allowed
    assert evaluate(Request(pp.arn, A, "s3:PutObject", "arn:aws:s3:::models/x", A), ps).decision == "implicit_deny"
    with pytest.raises(NotFound):
        load_principal(inv, "nobody")


def test_session_arn_maps_to_its_role_and_missing_documents_are_reported() -> None:
    inv = inventory()
    pp = load_principal(inv, f"arn:aws:sts::{A}:assumed-role/train-tight/job-1")
    assert pp.name == "train-tight"
    lacking = replace(inv, iam=replace(inv.iam, policies={}))
    pp2 = load_principal(lacking, "bounded")
    assert S3_FULL not in pp2.missing  # a builtin fallback copy exists for this AWS managed policy
    assert f"arn:aws:iam::{A}:policy/boundary" in pp2.missing
    # an unreadable boundary never widens access
    d = evaluate(Request(pp2.arn, A, "s3:GetObject", "arn:aws:s3:::models/x", A), pp2.policy_set())
    assert d.decision == "implicit_deny" and d.decided_by[0]["policy"] == "boundary"


def test_scp_levels_from_the_organization() -> None:
    member = account(A, roles=[role(A, "app", SM_TRUST, inline={"all": doc(allow("*"))})])
    org = organization(M, {A: ("bu1", "ou-bu"), M: ("management", "r-root")}, {"ou-bu": "r-root"},
                       scps=[("DenyKmsDelete", doc(deny("kms:ScheduleKeyDeletion")), ["ou-bu"])])
    admin_role = role(M, "admin", trust({"AWS": f"arn:aws:iam::{M}:root"}), inline={"all": doc(allow("*"))})
    mgmt = account(M, roles=[admin_role],
                   organization=org)
    inv = org_inventory(mgmt, [member])
    pp = load_principal(inv, f"arn:aws:iam::{A}:role/app")
    assert [len(level) for level in pp.scp] == [1, 2, 1] and pp.management_account == M
    d = evaluate(Request(pp.arn, A, "kms:ScheduleKeyDeletion", "*", A), pp.policy_set())
    assert d.decision == "explicit_deny" and d.decided_by[0]["name"] == "DenyKmsDelete (p-scp0)"
    admin = load_principal(inv, f"arn:aws:iam::{M}:role/admin")
    assert evaluate(Request(admin.arn, M, "kms:ScheduleKeyDeletion", "*", M), admin.policy_set()).allowed
    disabled = replace(org, roots=({"Id": "r-root", "PolicyTypes": []},))
    inv2 = org_inventory(replace(mgmt, organizations=disabled), [member])
    assert load_principal(inv2, f"arn:aws:iam::{A}:role/app").scp == ()


# --- trust policies ----------------------------------------------------------------------------------------------

def trust_role(document: dict) -> dict:
    return role(A, "exec", document)


def test_trust_only_the_service_for_its_account() -> None:
    rep = trust_policy_findings(trust_role(SM_TRUST), "sagemaker.amazonaws.com", A)
    assert rep.ok and rep.score == 1.0
    assert rep.decisions == {"expected": "allow", "no_source_keys": "implicit_deny", "other_account": "implicit_deny"}


def test_trust_without_source_conditions_is_a_confused_deputy() -> None:
    rep = trust_policy_findings(trust_role(trust({"Service": "sagemaker.amazonaws.com"})), "sagemaker.amazonaws.com", A)
    assert rep.codes() == ["missing_source_condition"] and rep.score == pytest.approx(0.6)


def test_trust_star_whole_account_other_services() -> None:
    rep = trust_policy_findings(trust_role(trust("*")), "sagemaker.amazonaws.com", A)
    assert "any_principal" in rep.codes() and rep.score == 0.0
    acct = trust_role(doc({"Effect": "Allow", "Action": "sts:AssumeRole",
                           "Principal": {"AWS": A, "Service": ["sagemaker.amazonaws.com", "lambda.amazonaws.com"]},
                           "Condition": {"StringEquals": {"aws:SourceAccount": A}}}))
    rep2 = trust_policy_findings(acct, "sagemaker.amazonaws.com", A)
    assert rep2.codes() == ["whole_account", "other_service"]
    assert rep2.findings[0].evidence["statement"] == 0
    other = trust_policy_findings(trust_role(trust({"AWS": "arn:aws:iam::444455556666:root"})),
                                  "sagemaker.amazonaws.com", A)
    assert "other_account" in other.codes() and "service_cannot_assume" in other.codes()


def test_trust_for_the_wrong_service_breaks_the_workload() -> None:
    rep = trust_policy_findings(trust_role(trust({"Service": "lambda.amazonaws.com"})), "sagemaker.amazonaws.com", A)
    assert rep.codes() == ["other_service", "service_cannot_assume"]


def test_trust_source_arn_pinning() -> None:
    job = f"arn:aws:sagemaker:us-east-1:{A}:training-job/resnet"
    loose = trust_policy_findings(trust_role(SM_TRUST), "sagemaker.amazonaws.com", A, source_arn=job)
    assert loose.codes() == ["source_arn_not_checked"]
    pinned = trust({"Service": "sagemaker.amazonaws.com"},
                   Condition={"StringEquals": {"aws:SourceAccount": A}, "ArnEquals": {"aws:SourceArn": job}})
    assert trust_policy_findings(trust_role(pinned), "sagemaker.amazonaws.com", A, source_arn=job).ok


def test_policyset_from_inventory_matches_handwritten() -> None:
    inv = inventory()
    ps = principal_policies(inv, "train-tight")
    hand = PolicySet(identity=[TIGHT])
    for action, resource in (("s3:GetObject", "arn:aws:s3:::models/a"), ("s3:PutObject", "arn:aws:s3:::models/a"),
                             ("kms:Decrypt", KEY)):
        req = Request(f"arn:aws:iam::{A}:role/train-tight", A, action, resource, A,
                      {"kms:ViaService": "s3.us-east-1.amazonaws.com"})
        assert evaluate(req, ps).decision == evaluate(req, hand).decision
