"""Bucket TLS rules, upload-encryption rules and key policies, judged through the IAM evaluator on hand-built
inventories: each way such a policy can be subtly wrong must come out as not enforced."""

from __future__ import annotations

import pytest

from crypto_builders import ACCT, OTHER, alias, bucket, inventory, key, key_arn, tls_deny
from seclab.engines.crypto import analyze_key_policy, tls_enforcement, upload_encryption
from seclab.engines.crypto.report import account_resources
from seclab.inventory.model import Iam

B = "data-bkt"
BA, OA = f"arn:aws:s3:::{B}", f"arn:aws:s3:::{B}/*"
CMK = "1234abcd-12ab-34cd-56ef-1234567890ab"
OTHER_KEY = "9999abcd-12ab-34cd-56ef-1234567890ab"


def _tls(policy):
    inv = inventory(buckets=(bucket(B, policy=policy),))
    return tls_enforcement(inv, inv.s3.buckets[0])


def _two(*statements):
    return {"Version": "2012-10-17", "Statement": list(statements)}


@pytest.mark.parametrize("policy", [
    tls_deny(B),
    tls_deny(B, action="*"),
    tls_deny(B, action=["s3:*"], principal={"AWS": "*"}),
    tls_deny(B, operator="BoolIfExists"),
    tls_deny(B, operator="StringEquals"),  # "false" == "false": AWS matches it too
    tls_deny(B, resource=f"arn:aws:s3:::{B}*"),
    _two(tls_deny(B, resource=BA)["Statement"][0], dict(tls_deny(B, resource=OA)["Statement"][0], Sid="TLS2")),
], ids=["canonical", "action-star", "aws-star", "bool-if-exists", "string-equals-false", "resource-wildcard",
        "split-statements"])
def test_tls_enforced(policy):
    result = _tls(policy)
    assert result["tls_enforced"] is True, result["not_denied"][:3]
    assert result["evaluated"] >= 24 and not result["findings"]


@pytest.mark.parametrize("policy,hint", [
    (None, None),
    (tls_deny(B, action="s3:GetObject", resource=OA), "s3:PutObject"),
    (tls_deny(B, resource=BA), "s3:GetObject"),  # bucket ARN only: object requests are not denied
    (tls_deny(B, resource=OA), "s3:ListBucket"),  # objects only: bucket requests are not denied
    (tls_deny(B, resource=f"arn:aws:s3:::{B}/data/*"), None),  # one prefix
    (tls_deny(B, effect="Allow", value="true"), None),  # an Allow with the condition denies nothing
    (tls_deny(B, value="true"), None),  # inverted
    (tls_deny(B, operator="StringEquals", value="False"), None),  # StringEquals is case-sensitive
    (tls_deny(B, action=["s3:Get*", "s3:Put*"]), "s3:DeleteObject"),
    (tls_deny(B, principal={"AWS": f"arn:aws:iam::{ACCT}:root"}), "another account"),
    (_two(dict(tls_deny(B)["Statement"][0], Action=None, NotAction="s3:GetObject")), "s3:GetObject"),
], ids=["no-policy", "getobject-only", "bucket-arn-only", "object-arn-only", "one-prefix", "allow-with-condition",
        "inverted-value", "string-equals-capital-False", "get-put-only", "account-principal-only", "notaction"])
def test_tls_not_enforced(policy, hint):
    if policy and policy["Statement"][0].get("Action") is None:
        del policy["Statement"][0]["Action"]
    result = _tls(policy)
    assert result["tls_enforced"] is False
    assert result["findings"] and result["findings"][0]["code"] == "bucket_tls_not_enforced"
    if hint:
        assert any(hint in (n["action"] + " " + n["principal"]) for n in result["not_denied"]), result["not_denied"]


def test_tls_exemption_for_a_named_role_is_not_enforcement():
    etl = {"RoleName": "etl", "Arn": f"arn:aws:iam::{ACCT}:role/etl", "RolePolicyList": [], "Tags": []}
    idle = {"RoleName": "idle", "Arn": f"arn:aws:iam::{ACCT}:role/idle", "RolePolicyList": [], "Tags": []}
    # the canonical rule holds for roles whatever their IAM permissions (none here)
    inv = inventory(buckets=(bucket(B, policy=tls_deny(B)),), iam=Iam(roles=(etl, idle)))
    assert tls_enforcement(inv, inv.s3.buckets[0])["tls_enforced"] is True
    policy = tls_deny(B)
    policy["Statement"][0]["Condition"]["ArnNotEquals"] = {"aws:PrincipalArn": etl["Arn"]}
    inv = inventory(buckets=(bucket(B, policy=policy),), iam=Iam(roles=(etl, idle)))
    result = tls_enforcement(inv, inv.s3.buckets[0])
    assert result["tls_enforced"] is False
    assert {n["principal"] for n in result["not_denied"]} == {etl["Arn"]}


def test_tls_malformed_policy_is_an_evaluation_error_not_a_verdict():
    for bad in ("{not json", {"Version": "2012-10-17", "Statement": [{"Effect": "Maybe", "Action": "s3:*"}]}):
        result = _tls(bad)
        assert result["tls_enforced"] is None
        assert result["findings"][0]["code"] == "evaluation_error"
        assert result["findings"][0]["severity"] == "error"


# ---------------------------------------------------------------------------------------------- uploads

REQUIRE_KEY = {"Sid": "RequireKey", "Effect": "Deny", "Principal": "*", "Action": "s3:PutObject", "Resource": OA,
               "Condition": {"StringNotEquals": {"s3:x-amz-server-side-encryption-aws-kms-key-id": key_arn(CMK)}}}
REQUIRE_KMS = {"Sid": "RequireKms", "Effect": "Deny", "Principal": "*", "Action": "s3:PutObject", "Resource": OA,
               "Condition": {"StringNotEquals": {"s3:x-amz-server-side-encryption": "aws:kms"}}}
DENY_MISSING = {"Sid": "DenyMissing", "Effect": "Deny", "Principal": "*", "Action": "s3:PutObject", "Resource": OA,
                "Condition": {"Null": {"s3:x-amz-server-side-encryption": "true"}}}


def _upload(*statements, required=None, default_key=CMK):
    policy = _two(*statements) if statements else None
    inv = inventory(keys=(key(CMK), key(OTHER_KEY)), aliases=(alias("alias/aws/s3", "8c3faf07-0000"),),
                    buckets=(bucket(B, algorithm="aws:kms", key_ref=default_key, policy=policy),))
    return upload_encryption(inv, inv.s3.buckets[0], required)


def test_upload_policy_requiring_the_key_arn_is_enforced():
    result = _upload(REQUIRE_KEY)
    assert result["required_key_arn"] == key_arn(CMK)
    assert result["enforced"] is True, result["probes"]
    assert result["probes"]["kms_other_key"]["denied"] and not result["probes"]["kms_required_key"]["denied"]
    assert _upload(REQUIRE_KEY, REQUIRE_KMS)["enforced"] is True


@pytest.mark.parametrize("statements,leak", [
    ((), "sse_s3"),
    ((REQUIRE_KMS,), "kms_other_key"),  # any KMS key passes
    ((DENY_MISSING,), "sse_s3"),  # only a missing header is refused
    ((dict(REQUIRE_KMS, Effect="Allow", Condition={"StringEquals": {"s3:x-amz-server-side-encryption":
                                                                    "aws:kms"}}),), "sse_s3"),
], ids=["no-policy", "any-kms-key", "null-header-only", "allow-with-condition"])
def test_upload_policy_leaks(statements, leak):
    result = _upload(*statements)
    assert result["enforced"] is False
    assert result["probes"][leak]["violates_requirement"] and not result["probes"][leak]["denied"]
    assert result["findings"][0]["code"] == "bucket_upload_encryption_not_enforced"


def test_upload_policy_naming_the_key_by_id_refuses_the_right_key_too():
    by_id = dict(REQUIRE_KEY, Condition={"StringNotEquals": {"s3:x-amz-server-side-encryption-aws-kms-key-id": CMK}})
    result = _upload(by_id)
    assert result["enforced"] is False
    assert "bucket_upload_required_key_refused" in [f["code"] for f in result["findings"]]


def test_upload_policy_without_a_cmk_default_needs_no_header_rule_only_when_default_is_required():
    # default SSE-S3 but the lab requires the CMK: a missing header lands SSE-S3, so it must be refused too
    plain = _upload(REQUIRE_KEY, required=key_arn(CMK), default_key=None)
    assert plain["probes"]["no_header"]["violates_requirement"] is True
    assert plain["enforced"] is True  # StringNotEquals also matches an absent header
    # requirement given as an alias resolves to the ARN
    assert _upload(REQUIRE_KEY, required="alias/nope")["enforced"] is False


# ----------------------------------------------------------------------------------------------- keys


def _role(name, *statements, tags=()):
    return {"RoleName": name, "Arn": f"arn:aws:iam::{ACCT}:role/{name}", "Tags": list(tags),
            "RolePolicyList": [{"PolicyName": "p", "PolicyDocument": _two(*statements)}] if statements else [],
            "AttachedManagedPolicies": []}


KMS_ALL = {"Effect": "Allow", "Action": "kms:*", "Resource": "*"}
KMS_USE = {"Effect": "Allow", "Action": ["kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey*"], "Resource": "*"}


def _analyze(policy="default", roles=(), grants=()):
    k = key(CMK, policy=policy, grants=grants)
    inv = inventory(keys=(k,), iam=Iam(roles=tuple(roles)))
    return analyze_key_policy(inv, k)


def test_default_policy_delegates_to_iam_and_sees_admins_that_also_use():
    a = _analyze(roles=[_role("admin", KMS_ALL), _role("app", KMS_USE), _role("other")])
    assert a["root_delegates_to_iam"] is True and a["root_can_administer"] is True
    assert a["open_to_account_without_iam"] is False and a["external_can_use"] is False
    assert [x["principal"] for x in a["administrators"]] == [f"arn:aws:iam::{ACCT}:role/admin"]
    users = {u["principal"]: u for u in a["users"]}
    assert set(users) == {f"arn:aws:iam::{ACCT}:role/admin", f"arn:aws:iam::{ACCT}:role/app"}
    assert set(users[f"arn:aws:iam::{ACCT}:role/app"]["direct"]) == {
        "kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey", "kms:GenerateDataKeyWithoutPlaintext"}
    assert a["separation_of_duties"] is False and a["admins_who_can_use"] == [f"arn:aws:iam::{ACCT}:role/admin"]
    assert "key_no_separation_of_duties" in [f["code"] for f in a["findings"]]


def _statement(sid, principal, actions, condition=None):
    st = {"Sid": sid, "Effect": "Allow", "Principal": principal, "Action": actions, "Resource": "*"}
    if condition:
        st["Condition"] = condition
    return st


ADMIN_ACTIONS = ["kms:Create*", "kms:Describe*", "kms:Enable*", "kms:List*", "kms:Put*", "kms:Update*",
                 "kms:Revoke*", "kms:Disable*", "kms:Get*", "kms:Delete*", "kms:TagResource", "kms:UntagResource",
                 "kms:ScheduleKeyDeletion", "kms:CancelKeyDeletion"]
USE_ACTIONS = ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey"]


def test_explicit_admins_and_users_without_root_keep_duties_apart_but_lock_root_out():
    policy = _two(_statement("Admins", {"AWS": f"arn:aws:iam::{ACCT}:role/keyadmin"}, ADMIN_ACTIONS),
                  _statement("Users", {"AWS": f"arn:aws:iam::{ACCT}:role/app"}, USE_ACTIONS))
    a = _analyze(policy, roles=[_role("keyadmin"), _role("app"), _role("admin", KMS_ALL)])
    assert [x["principal"] for x in a["administrators"]] == [f"arn:aws:iam::{ACCT}:role/keyadmin"]
    users = {u["principal"].rsplit("/", 1)[1]: u for u in a["users"]}
    assert set(users) == {"keyadmin", "app"}
    assert users["keyadmin"]["direct"] == ["kms:CreateGrant"]  # kms:Create* covers CreateGrant
    assert "kms:Decrypt" in users["app"]["direct"]
    assert a["separation_of_duties"] is True and a["root_delegates_to_iam"] is False
    assert a["admins_who_can_grant"] == [f"arn:aws:iam::{ACCT}:role/keyadmin"]
    assert a["root_can_administer"] is False
    assert "key_root_locked_out" in [f["code"] for f in a["findings"]]


def test_use_limited_to_a_service_by_via_service():
    via = {"StringEquals": {"kms:ViaService": "s3.us-east-1.amazonaws.com", "kms:CallerAccount": ACCT}}
    policy = _two(_statement("Root", {"AWS": f"arn:aws:iam::{ACCT}:root"}, ADMIN_ACTIONS),
                  _statement("ViaS3", {"AWS": "*"}, USE_ACTIONS, via))
    a = _analyze(policy, roles=[_role("app")])
    assert a["use_limited_to_services"] is True
    assert a["via_services"] == ["s3.us-east-1.amazonaws.com"]
    app = next(u for u in a["users"] if u["principal"].endswith("role/app"))
    assert app["direct"] == [] and "kms:Decrypt" in app["via_services"]["s3.us-east-1.amazonaws.com"]
    assert a["external_can_use"] is False  # kms:CallerAccount keeps other accounts out


def test_principal_star_without_conditions_opens_the_key():
    policy = _two(_statement("Root", {"AWS": f"arn:aws:iam::{ACCT}:root"}, "kms:*"),
                  _statement("Everyone", "*", USE_ACTIONS))
    a = _analyze(policy)
    assert a["open_to_account_without_iam"] is True and a["external_can_use"] is True
    codes = {f["code"] for f in a["findings"]}
    assert {"key_open_in_account", "key_external_use"} <= codes


def test_named_partner_account_is_probed():
    policy = _two(_statement("Root", {"AWS": f"arn:aws:iam::{ACCT}:root"}, "kms:*"),
                  _statement("Partner", {"AWS": f"arn:aws:iam::{OTHER}:root"}, ["kms:Decrypt"]))
    a = _analyze(policy)
    assert a["external_can_use"] is True and a["external_accounts_with_use"] == [OTHER]
    assert a["external_can_administer"] is False


def test_deny_statement_beats_iam_allow():
    policy = _two(_statement("Root", {"AWS": f"arn:aws:iam::{ACCT}:root"}, "kms:*"),
                  {"Sid": "NoDecrypt", "Effect": "Deny", "Principal": "*", "Action": "kms:Decrypt", "Resource": "*",
                   "Condition": {"StringNotEquals": {"aws:PrincipalArn": f"arn:aws:iam::{ACCT}:role/reader"}}})
    a = _analyze(policy, roles=[_role("reader", KMS_USE), _role("writer", KMS_USE)])
    users = {u["principal"].rsplit("/", 1)[1]: u for u in a["users"]}
    assert "kms:Decrypt" in users["reader"]["direct"] and "kms:Decrypt" not in users["writer"]["direct"]


def test_grants_add_users_and_flag_external_grantees():
    grants = ({"GrantId": "g1", "GranteePrincipal": f"arn:aws:iam::{OTHER}:role/x", "Operations": ["Decrypt"]},
              {"GrantId": "g2", "GranteePrincipal": f"arn:aws:iam::{ACCT}:role/app", "Operations": ["Encrypt"]})
    a = _analyze(grants=grants, roles=[_role("app")])
    users = {u["principal"]: u for u in a["users"]}
    assert users[f"arn:aws:iam::{OTHER}:role/x"]["by_grant"] == ["kms:Decrypt"]
    assert users[f"arn:aws:iam::{ACCT}:role/app"]["by_grant"] == ["kms:Encrypt"]
    assert [f["code"] for f in a["findings"]] == ["key_grant_external"]


def test_unreadable_key_policy_is_an_evaluation_error():
    a = _analyze(policy=None)
    assert a["root_delegates_to_iam"] is None
    assert a["findings"][0]["code"] == "evaluation_error"


def test_report_with_policies_end_to_end_on_a_hand_built_account():
    policy = tls_deny(B)
    inv = inventory(keys=(key(CMK, aliases=("alias/models",)),),
                    buckets=(bucket(B, algorithm="aws:kms", key_ref=key_arn(CMK), policy=_two(
                        *policy["Statement"], REQUIRE_KEY)),))
    res = {r["arn"]: r for r in account_resources(inv)}
    b = res[BA]
    assert b["in_transit"]["tls_enforced"] is True and b["upload_encryption_policy"]["enforced"] is True
    assert res[key_arn(CMK)]["policy"]["root_delegates_to_iam"] is True
    assert res[key_arn(CMK)]["used_by"] == [{"arn": BA, "type": "AWS::S3::Bucket", "store": None}]
