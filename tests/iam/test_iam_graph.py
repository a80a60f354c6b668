"""Who can reach what: role chains across accounts, PassRole to SageMaker, Identity Center, SCPs, and the rule
that the graph and point queries never disagree."""

from __future__ import annotations

from dataclasses import replace

from iam_builders import account, allow, bucket, deny, doc, org_inventory, organization, role, trust

from seclab.engines.iam import Request, build_graph, evaluate, infer_context, principal_policies, resource_side
from seclab.inventory.model import IdentityCenter

M, SHARED, BU2, BU3, BU4 = "100000000000", "200000000000", "300000000000", "350000000000", "400000000000"


def arn(acct: str, name: str) -> str:
    return f"arn:aws:iam::{acct}:role/{name}"


DS, ANALYST, INTRUDER = arn(BU2, "DataScientist"), arn(BU2, "Analyst"), arn(BU3, "Intruder")
MLOPS, DEPLOY, EXEC, LOCAL = arn(SHARED, "MLOps"), arn(BU4, "Deploy"), arn(BU4, "SageMakerExec"), arn(BU4, "Local")


def estate():
    org = organization(
        M,
        {M: ("management", "r-root"), SHARED: ("shared", "ou-platform"), BU2: ("bu2", "ou-bu"),
         BU3: ("bu3", "ou-quarantine"), BU4: ("bu4", "ou-bu")},
        {"ou-platform": "r-root", "ou-bu": "r-root", "ou-quarantine": "r-root"},
        scps=[("NoAssume", doc(deny("sts:AssumeRole")), ["ou-quarantine"])],
    )
    ic = IdentityCenter(
        instance_arn="arn:aws:sso:::instance/ssoins-1", identity_store_id="d-1",
        permission_sets=({"Name": "DataScience", "PermissionSetArn": "arn:aws:sso:::permissionSet/ssoins-1/ps-1",
                          "InlinePolicy": doc(allow("sts:AssumeRole", MLOPS)), "ManagedPolicies": [],
                          "CustomerManagedPolicyReferences": []},),
        assignments=({"AccountId": BU2, "PermissionSetArn": "arn:aws:sso:::permissionSet/ssoins-1/ps-1",
                      "PrincipalType": "GROUP", "PrincipalId": "g-1"},),
        groups=({"GroupId": "g-1", "DisplayName": "ds-team"},),
    )
    mgmt = account(M, organization=org, identity_center=ic)
    shared = account(SHARED, roles=[role(SHARED, "MLOps", trust({"AWS": [DS, INTRUDER, BU2]}),
                                         inline={"hop": doc(allow("sts:AssumeRole", DEPLOY))})])
    bu2 = account(BU2, roles=[
        role(BU2, "DataScientist", trust({"AWS": BU2}), inline={"hop": doc(allow("sts:AssumeRole", MLOPS))}),
        role(BU2, "Analyst", trust({"AWS": BU2}), inline={"read": doc(allow("s3:GetObject"))}),
    ])
    bu3 = account(BU3, roles=[role(BU3, "Intruder", trust({"AWS": BU3}), inline={"all": doc(allow("sts:AssumeRole"))})])
    sm_trust = trust({"Service": "sagemaker.amazonaws.com"}, Condition={"StringEquals": {"aws:SourceAccount": BU4}})
    bu4 = account(
        BU4,
        roles=[
            role(BU4, "Deploy", trust({"AWS": SHARED}), inline={"work": doc(
                allow("s3:GetObject", "arn:aws:s3:::bu4-models/*"), allow("iam:PassRole", EXEC),
                allow("sagemaker:CreateTrainingJob"))}),
            role(BU4, "SageMakerExec", sm_trust,
                 inline={"data": doc(allow("s3:GetObject", "arn:aws:s3:::bu4-secrets/*"))}),
            role(BU4, "Local", trust({"AWS": BU4})),
        ],
        buckets=[bucket(BU4, "bu4-models"), bucket(BU4, "bu4-secrets"),
                 bucket(BU4, "bu4-shared", doc({"Effect": "Allow", "Principal": {"AWS": BU2}, "Action": "s3:GetObject",
                                                "Resource": "arn:aws:s3:::bu4-shared/*"}))],
    )
    return org_inventory(mgmt, [shared, bu2, bu3, bu4])


SSO_ROLE = f"arn:aws:iam::{BU2}:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_DataScience_seclab"


def test_role_chain_path_reads_like_a_sentence() -> None:
    g = build_graph(estate())
    found = {r.principal: r for r in g.who_can("s3:GetObject", "arn:aws:s3:::bu4-models/resnet.tar.gz")}
    assert found[DS].text == ("bu2/DataScientist → assumes shared/MLOps → assumes bu4/Deploy → "
                              "s3:GetObject arn:aws:s3:::bu4-models/resnet.tar.gz")
    assert [h.via for h in found[DS].hops] == ["sts:AssumeRole", "sts:AssumeRole"]
    assert found[DEPLOY].hops == () and found[DEPLOY].target == DEPLOY
    assert found["sso:group/ds-team"].text.startswith(
        "IdentityCenter/group ds-team → signs in via Identity Center as bu2/DataScience (Identity Center) → assumes "
        "shared/MLOps")
    assert ANALYST not in found  # Analyst's s3:GetObject is cross-account with no bucket policy granting bu2
    assert INTRUDER not in found  # the quarantine SCP denies sts:AssumeRole
    assert found[DS].evidence and found[DS].to_dict()["path"][0] == {"from": DS, "to": MLOPS, "via": "sts:AssumeRole"}


def test_scp_blocks_the_edge_and_says_so() -> None:
    g = build_graph(estate())
    assert not g.has_edge(INTRUDER, MLOPS)
    d = g.can_assume(INTRUDER, MLOPS)
    assert d.decision == "explicit_deny"
    assert d.decided_by[0]["policy"].startswith("scp[") and d.decided_by[0]["name"] == "NoAssume (p-scp0)"


def test_passrole_to_sagemaker_is_an_edge() -> None:
    g = build_graph(estate())
    edge = next(e for e in g.successors(DEPLOY) if e.dst == EXEC)
    assert edge.via == "iam:PassRole+sagemaker:CreateTrainingJob"
    found = {r.principal: r for r in g.who_can("s3:GetObject", "arn:aws:s3:::bu4-secrets/k")}
    assert found[DS].text.endswith("assumes bu4/Deploy → passes to SageMaker (sagemaker:CreateTrainingJob) as "
                                   "bu4/SageMakerExec → s3:GetObject arn:aws:s3:::bu4-secrets/k")
    # without the SourceAccount match there is no edge: a trust for another account's jobs
    inv = estate()
    bu4 = inv.members[BU4]
    other = trust({"Service": "sagemaker.amazonaws.com"}, Condition={"StringEquals": {"aws:SourceAccount": BU2}})
    roles = tuple(dict(r, AssumeRolePolicyDocument=other) if r["RoleName"] == "SageMakerExec" else r
                  for r in bu4.iam.roles)
    inv2 = replace(inv, members={**inv.members, BU4: replace(bu4, iam=replace(bu4.iam, roles=roles))})
    assert not build_graph(inv2).has_edge(DEPLOY, EXEC)


def test_can_reach_account_business_unit_isolation() -> None:
    g = build_graph(estate())
    paths = g.can_reach_account(BU2, BU4)
    texts = {p.text for p in paths}
    assert "bu2/DataScientist → assumes shared/MLOps → assumes bu4/Deploy" in texts
    assert "bu2/Analyst → s3:GetObject arn:aws:s3:::bu4-shared/*" in texts
    assert all(p.principal.startswith(f"arn:aws:iam::{BU2}:") for p in paths)
    assert g.can_reach_account(BU4, BU2) == []
    assert g.can_reach_account(BU3, SHARED) == []


def test_graph_and_point_queries_never_disagree() -> None:
    inv = estate()
    g = build_graph(inv)
    iam_nodes = [n for n in g.nodes.values() if n.kind in ("role", "user")]
    roles = [n for n in iam_nodes if n.kind == "role"]
    checked = 0
    for src in iam_nodes:
        ps = principal_policies(inv, src.id)
        ctx = infer_context(src.id, src.account, org_id="o-exampleorg")
        for dst in roles:
            if dst.id == src.id:
                continue
            side = resource_side(inv, dst.id, "sts:AssumeRole")
            d = evaluate(Request(src.id, src.account, "sts:AssumeRole", dst.id, dst.account, ctx),
                         replace(ps, resource=side.policies, rcp=side.rcp))
            assert g.has_edge(src.id, dst.id, "sts:AssumeRole") == d.allowed, (src.id, dst.id)
            assert g.can_assume(src.id, dst.id).decision == d.decision
            checked += 1
    assert checked == len(iam_nodes) * (len(roles) - 1) and checked > 40
    # who_can's direct answers are exactly the principals a point query allows
    resource = "arn:aws:s3:::bu4-models/x"
    side = resource_side(inv, resource, "s3:GetObject")
    direct = {r.principal for r in g.who_can("s3:GetObject", resource) if not r.hops}
    expected = set()
    for src in iam_nodes:
        ps = replace(principal_policies(inv, src.id), resource=side.policies, rcp=side.rcp)
        ctx = infer_context(src.id, src.account, org_id="o-exampleorg")
        if evaluate(Request(src.id, src.account, "s3:GetObject", resource, BU4, ctx), ps).allowed:
            expected.add(src.id)
    assert direct == expected == {DEPLOY}


def test_graph_export_and_warnings() -> None:
    g = build_graph(estate())
    data = g.to_dict()
    kinds = {n["kind"] for n in data["nodes"]}
    assert {"role", "sso-role", "sso-group"} <= kinds
    assert {"from": "sso:group/ds-team", "to": SSO_ROLE, "via": "sso:PermissionSet/DataScience"} in data["edges"]
    # a bucket the inventory does not hold: its owner and policy are unknown, so it is read as each caller's own
    # bucket without a policy, and the answer says so in warnings
    assert [r.principal for r in g.who_can("s3:GetObject", "arn:aws:s3:::not-collected/x")] == [ANALYST]
    assert any("not-collected" in w for w in g.warnings)
