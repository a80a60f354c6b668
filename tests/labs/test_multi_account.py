"""The multi-account lab end to end on a real simulator (seven accounts per learner).

- set-up only: idempotent, seed-varied, not passed, every task failing with a message saying what to build, no ERROR;
- the reference solution: full marks (in process, and once through `seclab run --solution --format json`);
- mutations: for every check, one flaw that fails that check and no other. The organization takes ~20 s to build,
  so one solved learner is shared (module scope, one xdist group): each mutation applies its flaw, grades, and
  undoes it. Only the accounts a flaw touched are read again (the rest of the snapshot is the solved
  organization's), which keeps each mutation to a few seconds; a final full grade proves every undo;
- alternative correct designs, switched on the same organization and back: full marks;
- the source notebook executed with nbclient: full marks; the nbgrader release runs and scores low (slow).
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from lab_notebooks import execute_notebook, release

from seclab.grading.labs import get_lab, lab_context, setup_lab, solve_lab
from seclab.grading.runner import grade, grade_inventory, sections_for
from seclab.inventory.collect import collect_account, collect_learner

pytestmark = pytest.mark.xdist_group("multi-account")

ROOT = Path(__file__).resolve().parents[2]
SECLAB = str(Path(sys.executable).parent / "seclab")
LAB = "multi-account"
NOTEBOOK = ROOT / "labs" / LAB / "multi-account.ipynb"
ALL_CHECKS = {"ma_org_structure", "ma_permission_sets", "ma_mlops_trust", "ma_ecr_repo_hardened",
              "ma_ecr_pull_policy", "ma_network_segmentation", "ma_network_sg_ports", "ma_scp_region", "ma_scp_kms",
              "ma_scp_protect", "ma_bu_isolation"}


def failing(report: Any) -> set[str]:
    return {r.spec.id for r in report.results if r.status.value != "PASS"}


def messages(report: Any) -> dict[str, str]:
    return {r.spec.id: r.message for r in report.results if r.status.value != "PASS"}


class World:
    """One solved organization shared by the mutation and alternative tests."""

    def __init__(self, name: str) -> None:
        self.lab = get_lab(LAB)
        self.learner = name
        self.facts = setup_lab(self.lab, name)
        solve_lab(self.lab, name)
        self.ctx = lab_context(self.lab, name)
        self.sol = self.lab.module("solution")
        self.accounts = self.sol.Accounts(lambda a: self.ctx.session(account=a))
        self.sections = sections_for(self.lab)
        self.org = collect_learner(name, sections=self.sections)
        self.bus = self.facts["business_units"]

    def bu(self, i: int) -> dict[str, Any]:
        return self.bus[i]

    def client(self, service: str, account: str | None = None) -> Any:
        return self.accounts.client(service, account)

    def grade(self, *changed: str | None) -> Any:
        """Grade with the accounts named in `changed` (None: management) read again, the others as solved."""
        org = self.org
        for name in changed:
            if name is None:
                org = replace(org, management=collect_account(self.ctx.account_id, sections=self.sections))
            else:
                acct = self.accounts.id(name)
                members = dict(org.members)
                members[acct] = collect_account(acct, sections=[s for s in self.sections or [] if s != "organizations"])
                org = replace(org, members=members)
        return grade_inventory(self.lab, self.learner, org, self.facts)

    # helpers the flaws share
    def scp(self, name: str) -> tuple[str, str]:
        org = self.client("organizations")
        p = next(p for p in org.list_policies(Filter="SERVICE_CONTROL_POLICY")["Policies"] if p["Name"] == name)
        return p["Id"], org.describe_policy(PolicyId=p["Id"])["Policy"]["Content"]

    def sso(self) -> tuple[Any, str, dict[str, str], dict[str, str]]:
        sso = self.client("sso-admin")
        inst = sso.list_instances()["Instances"][0]
        groups = {g["DisplayName"]: g["GroupId"] for g in self.client("identitystore").list_groups(
            IdentityStoreId=inst["IdentityStoreId"])["Groups"]}
        psets = {sso.describe_permission_set(InstanceArn=inst["InstanceArn"], PermissionSetArn=a)["PermissionSet"][
            "Name"]: a for a in sso.list_permission_sets(InstanceArn=inst["InstanceArn"])["PermissionSets"]}
        return sso, inst["InstanceArn"], groups, psets


@pytest.fixture(scope="module")
def world(sim: Any) -> Iterator[World]:
    from seclab.sim import registry

    name = "t-multi-account-world"
    registry.add_learner(name)
    yield World(name)


# ------------------------------------------------------------------------------------------------ set-up


def test_setup_only_is_idempotent_not_passed_and_helpful(sim: Any, learner: Any) -> None:
    lab = get_lab(LAB)
    facts = setup_lab(lab, learner.name)
    again = setup_lab(lab, learner.name)
    assert facts == again, "set-up must be idempotent"
    report = grade(lab, learner.name)
    assert report.score == 0 and not report.passed
    assert not report.errors, [(r.spec.id, r.message) for r in report.errors]
    assert not [t["id"] for t in report.to_json()["tasks"] if t["done"]]
    msgs = messages(report)
    assert set(msgs) == ALL_CHECKS
    assert "BusinessUnits" in msgs["ma_org_structure"] and "create_organizational_unit" in msgs["ma_org_structure"]
    for cid, text in msgs.items():
        if cid != "ma_org_structure":
            assert "do not exist yet" in text or "does not exist yet" in text, (cid, text)
    # the inherited state is what it claims: the broken region guardrail on the root, the IdP groups
    org = lab_context(lab, learner.name).client("organizations")
    legacy = next(p for p in org.list_policies(Filter="SERVICE_CONTROL_POLICY")["Policies"]
                  if p["Name"] == facts["legacy_scp"])
    content = json.loads(org.describe_policy(PolicyId=legacy["Id"])["Policy"]["Content"])
    assert "StringEquals" in content["Statement"][0]["Condition"]
    root = org.list_roots()["Roots"][0]["Id"]
    assert root in {t["TargetId"] for t in org.list_targets_for_policy(PolicyId=legacy["Id"])["Targets"]}


def test_two_learners_get_different_plans(sim: Any, learner: Any) -> None:
    from seclab.sim import registry

    other = registry.add_learner(learner.name + "-b")
    lab = get_lab(LAB)
    a, b = lab.module("setup").plan(lab_context(lab, learner.name)), lab.module("setup").plan(
        lab_context(lab, other.name))
    assert a["business_units"] != b["business_units"] or a["supernet"] != b["supernet"]
    assert a["business_units"][0]["bucket"] != b["business_units"][0]["bucket"]


def test_solution_gets_full_marks(world: World) -> None:
    report = grade_inventory(world.lab, world.learner, world.org, world.facts)
    assert report.score == report.max_score and report.passed, messages(report)
    iso = next(r for r in report.results if r.spec.id == "ma_bu_isolation")
    assert "20 ordered pairs" in iso.message


# ------------------------------------------------------------------------------------------------ mutations

Step = Callable[[World, dict[str, Any]], None]


def _move_shared_to_bu_ou(w: World, saved: dict[str, Any]) -> None:
    org = w.client("organizations")
    root = org.list_roots()["Roots"][0]["Id"]
    ous = {o["Name"]: o["Id"] for o in org.list_organizational_units_for_parent(ParentId=root)["OrganizationalUnits"]}
    saved.update(src=ous[w.facts["ous"]["infrastructure"]], dst=ous[w.facts["ous"]["business_units"]])
    org.move_account(AccountId=w.accounts.id("shared-services"), SourceParentId=saved["src"],
                     DestinationParentId=saved["dst"])


def _move_back(w: World, saved: dict[str, Any]) -> None:
    w.client("organizations").move_account(AccountId=w.accounts.id("shared-services"), SourceParentId=saved["dst"],
                                           DestinationParentId=saved["src"])


def _ps_s3_star(w: World, saved: dict[str, Any]) -> None:
    sso, ia, _groups, psets = w.sso()
    arn = psets[w.bu(0)["permission_sets"]["DataScientist"]]
    saved.update(arn=arn, policy=sso.get_inline_policy_for_permission_set(InstanceArn=ia, PermissionSetArn=arn)[
        "InlinePolicy"])
    policy = json.loads(saved["policy"])
    policy["Statement"].append({"Sid": "JustMakeItWork", "Effect": "Allow", "Action": "s3:*", "Resource": "*"})
    sso.put_inline_policy_to_permission_set(InstanceArn=ia, PermissionSetArn=arn, InlinePolicy=json.dumps(policy))


def _ps_restore(w: World, saved: dict[str, Any]) -> None:
    sso, ia, _g, _p = w.sso()
    sso.put_inline_policy_to_permission_set(InstanceArn=ia, PermissionSetArn=saved["arn"],
                                            InlinePolicy=saved["policy"])


def _trust_whole_account(w: World, saved: dict[str, Any]) -> None:
    iam = w.client("iam", w.bu(1)["account_name"])
    role = w.facts["roles"]["mlops_access"]
    trust = iam.get_role(RoleName=role)["Role"]["AssumeRolePolicyDocument"]
    saved["trust"] = trust
    changed = json.loads(json.dumps(trust))
    changed["Statement"][0]["Principal"] = {"AWS": f"arn:aws:iam::{w.accounts.id('shared-services')}:root"}
    iam.update_assume_role_policy(RoleName=role, PolicyDocument=json.dumps(changed))


def _trust_restore(w: World, saved: dict[str, Any]) -> None:
    w.client("iam", w.bu(1)["account_name"]).update_assume_role_policy(
        RoleName=w.facts["roles"]["mlops_access"], PolicyDocument=json.dumps(saved["trust"]))


def _ecr(w: World) -> Any:
    return w.client("ecr", "shared-services")


def _repo_policy_star(w: World, saved: dict[str, Any]) -> None:
    repo = w.facts["shared"]["ecr_repository"]
    saved["policy"] = _ecr(w).get_repository_policy(repositoryName=repo)["policyText"]
    _ecr(w).set_repository_policy(repositoryName=repo, policyText=json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": "*", "Action": ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"]}]}))


def _repo_policy_restore(w: World, saved: dict[str, Any]) -> None:
    _ecr(w).set_repository_policy(repositoryName=w.facts["shared"]["ecr_repository"], policyText=saved["policy"])


def _tags(mutability: str) -> Step:
    def step(w: World, saved: dict[str, Any]) -> None:
        _ecr(w).put_image_tag_mutability(repositoryName=w.facts["shared"]["ecr_repository"],
                                         imageTagMutability=mutability)
    return step


def _peer_two_bus(w: World, saved: dict[str, Any]) -> None:
    a, b = w.bu(0), w.bu(1)
    ea, eb = w.client("ec2", a["account_name"]), w.client("ec2", b["account_name"])
    va, _sa, rta, _ga = w.sol._vpc(ea, f"{a['name']}-ml")
    vb, _sb, rtb, _gb = w.sol._vpc(eb, f"{b['name']}-ml")
    pcx = ea.create_vpc_peering_connection(VpcId=va, PeerVpcId=vb, PeerOwnerId=w.accounts.id(b["account_name"]))[
        "VpcPeeringConnection"]["VpcPeeringConnectionId"]
    eb.accept_vpc_peering_connection(VpcPeeringConnectionId=pcx)
    ea.create_route(RouteTableId=rta, DestinationCidrBlock=b["cidr"], VpcPeeringConnectionId=pcx)
    eb.create_route(RouteTableId=rtb, DestinationCidrBlock=a["cidr"], VpcPeeringConnectionId=pcx)
    saved.update(pcx=pcx, rta=rta, rtb=rtb)


def _unpeer(w: World, saved: dict[str, Any]) -> None:
    a, b = w.bu(0), w.bu(1)
    ea, eb = w.client("ec2", a["account_name"]), w.client("ec2", b["account_name"])
    ea.delete_route(RouteTableId=saved["rta"], DestinationCidrBlock=b["cidr"])
    eb.delete_route(RouteTableId=saved["rtb"], DestinationCidrBlock=a["cidr"])
    ea.delete_vpc_peering_connection(VpcPeeringConnectionId=saved["pcx"])


def _sg_all_from_platform(w: World, saved: dict[str, Any]) -> None:
    ec2 = w.client("ec2", w.bu(0)["account_name"])
    sg = w.sol._vpc(ec2, f"{w.bu(0)['name']}-ml")[3]
    perm = [{"IpProtocol": "-1", "IpRanges": [{"CidrIp": w.facts["supernet"]}]}]
    ec2.authorize_security_group_ingress(GroupId=sg, IpPermissions=perm)
    saved.update(sg=sg, perm=perm)


def _sg_restore(w: World, saved: dict[str, Any]) -> None:
    w.client("ec2", w.bu(0)["account_name"]).revoke_security_group_ingress(GroupId=saved["sg"],
                                                                          IpPermissions=saved["perm"])


def _edit_scp(name: str, edit: Callable[[dict[str, Any]], None]) -> Step:
    def step(w: World, saved: dict[str, Any]) -> None:
        pid, content = w.scp(name)
        saved.update(pid=pid, content=content)
        doc = json.loads(content)
        edit(doc)
        w.client("organizations").update_policy(PolicyId=pid, Content=json.dumps(doc))
    return step


def _scp_restore(w: World, saved: dict[str, Any]) -> None:
    w.client("organizations").update_policy(PolicyId=saved["pid"], Content=saved["content"])


def _wrong_operator(doc: dict[str, Any]) -> None:
    cond = doc["Statement"][0]["Condition"]
    cond["StringEquals"] = cond.pop("StringNotEquals")


def _no_s3_rule(doc: dict[str, Any]) -> None:
    doc["Statement"] = [s for s in doc["Statement"] if s.get("Sid") != "S3WritesNeedApprovedKey"]


def _cloudtrail_may_stop(doc: dict[str, Any]) -> None:
    for s in doc["Statement"]:
        if s.get("Sid") == "KeepCloudTrailOn":
            s["Action"] = [a for a in s["Action"] if a != "cloudtrail:StopLogging"]


def _platform_admin_for_bu_engineers(w: World, saved: dict[str, Any]) -> None:
    sso, ia, groups, psets = w.sso()
    saved["assignment"] = dict(InstanceArn=ia, TargetId=w.accounts.id("shared-services"), TargetType="AWS_ACCOUNT",
                               PermissionSetArn=psets[w.facts["platform_admin"]["permission_set"]],
                               PrincipalType="GROUP", PrincipalId=groups[w.bu(1)["groups"]["MLEngineer"]])
    sso.create_account_assignment(**saved["assignment"])


def _unassign(w: World, saved: dict[str, Any]) -> None:
    w.client("sso-admin").delete_account_assignment(**saved["assignment"])


SHARED = "shared-services"
MUTATIONS: dict[str, tuple[Step, Step, tuple[str | None, ...], str, str]] = {
    # name: (apply the flaw, undo it, accounts it touches (None: management), the one check that fails, and a
    # phrase its message must contain)
    "shared_services_in_the_bu_ou": (_move_shared_to_bu_ou, _move_back, (None,), "ma_org_structure",
                                     "shared-services is in BusinessUnits, not in Infrastructure"),
    "permission_set_s3_star": (_ps_s3_star, _ps_restore, (None,), "ma_permission_sets", "is allowed s3:"),
    "trust_admits_whole_account": (_trust_whole_account, _trust_restore, ("bu1",), "ma_mlops_trust",
                                   "the trust names the whole account"),
    "repository_tags_mutable": (_tags("MUTABLE"), _tags("IMMUTABLE"), (SHARED,), "ma_ecr_repo_hardened",
                                "tags are MUTABLE"),
    "repository_policy_star": (_repo_policy_star, _repo_policy_restore, (SHARED,), "ma_ecr_pull_policy",
                               "outside your organization"),
    "two_business_units_peered": (_peer_two_bus, _unpeer, ("bu0", "bu1"), "ma_network_segmentation",
                                  "is routed to"),
    "bu_group_open_to_platform": (_sg_all_from_platform, _sg_restore, ("bu0",), "ma_network_sg_ports",
                                  "all traffic"),
    "region_scp_wrong_operator": (_edit_scp("legacy-region-guardrail", _wrong_operator), _scp_restore, (None,),
                                  "ma_scp_region", "StringEquals"),
    "kms_scp_forgets_s3": (_edit_scp("require-approved-kms-keys", _no_s3_rule), _scp_restore, (None,),
                           "ma_scp_kms", "s3:PutObject"),
    "protect_scp_forgets_stoplogging": (_edit_scp("protect-platform", _cloudtrail_may_stop), _scp_restore, (None,),
                                        "ma_scp_protect", "cloudtrail:StopLogging"),
    "role_chain_across_business_units": (_platform_admin_for_bu_engineers, _unassign, (None,), "ma_bu_isolation",
                                         "assumes shared-services/MLOps → assumes"),
}


def _accounts(w: World, names: tuple[str | None, ...]) -> list[str | None]:
    return [n if n in (None, SHARED) else w.bu(int(n[2:]))["account_name"] for n in names]


@pytest.mark.parametrize("name", list(MUTATIONS))
def test_one_flaw_fails_its_check_alone(world: World, name: str) -> None:
    apply, undo, touched, expected, phrase = MUTATIONS[name]
    saved: dict[str, Any] = {}
    apply(world, saved)
    try:
        report = world.grade(*_accounts(world, touched))
    finally:
        undo(world, saved)
    assert failing(report) == {expected}, messages(report)
    result = next(r for r in report.results if r.spec.id == expected)
    assert result.status.value == "FAIL" and phrase in result.message, result.message


def test_the_chain_is_named_hop_by_hop(world: World) -> None:
    saved: dict[str, Any] = {}
    _platform_admin_for_bu_engineers(world, saved)
    try:
        report = world.grade(None)
    finally:
        _unassign(world, saved)
    msg = messages(report)["ma_bu_isolation"]
    engineers = world.bu(1)["groups"]["MLEngineer"]
    assert msg.index(engineers) < msg.index("PlatformAdmin") < msg.index("/MLOps") < msg.index("MLOpsAccess")
    assert "reads s3://seclab-" in msg


# ------------------------------------------------------------------------------------------------ alternatives

ALTERNATIVES: dict[str, tuple[Step, Step, tuple[str | None, ...]]] = {
    # name: (switch to the alternative, switch back, accounts it touches)
    "trust_by_principal_org_id": (
        lambda w, s: w.sol.build_identity(w.accounts, w.facts, trust_condition="org_id"),
        lambda w, s: w.sol.build_identity(w.accounts, w.facts), (None, "bu0", "bu1", "bu2", "bu3", "bu4")),
    "repository_policy_by_principal_arn_condition": (
        lambda w, s: w.sol.build_registry(w.accounts, w.facts, principal_style="condition"),
        lambda w, s: w.sol.build_registry(w.accounts, w.facts), (SHARED,)),
    "hub_admits_the_platform_range": (
        lambda w, s: w.sol.build_network(w.accounts, w.facts, shared_sources="supernet"),
        lambda w, s: _revoke_supernet(w), (SHARED,)),
    "kms_guardrail_per_account": (
        lambda w, s: _kms_per_account(w), lambda w, s: _kms_per_account(w, back=True), (None,)),
    "region_guardrail_on_both_ous": (
        lambda w, s: w.sol.build_guardrails(w.accounts, w.facts, region_layout="ous"),
        lambda w, s: None, (None,)),  # last: the retired legacy SCP stays retired (still a correct design)
}


def _revoke_supernet(w: World) -> None:
    ec2 = w.client("ec2", SHARED)
    sg = w.sol._vpc(ec2, "shared-services")[3]
    ec2.revoke_security_group_ingress(GroupId=sg, IpPermissions=[{
        "IpProtocol": "tcp", "FromPort": w.facts["service_port"], "ToPort": w.facts["service_port"],
        "IpRanges": [{"CidrIp": w.facts["supernet"]}]}])


def _kms_per_account(w: World, back: bool = False) -> None:
    """Detach the OU-wide key SCP and attach one SCP per BU account naming only its key (or the reverse)."""
    org = w.client("organizations")
    root = org.list_roots()["Roots"][0]["Id"]
    bu_ou = next(o["Id"] for o in org.list_organizational_units_for_parent(ParentId=root)["OrganizationalUnits"]
                 if o["Name"] == w.facts["ous"]["business_units"])
    ou_policy = w.scp("require-approved-kms-keys")[0]
    if not back:
        org.detach_policy(PolicyId=ou_policy, TargetId=bu_ou)
        w.sol.build_guardrails(w.accounts, w.facts, kms_layout="account")
        return
    for p in org.list_policies(Filter="SERVICE_CONTROL_POLICY")["Policies"]:
        if p["Name"].startswith("require-approved-kms-key-"):
            for t in org.list_targets_for_policy(PolicyId=p["Id"])["Targets"]:
                org.detach_policy(PolicyId=p["Id"], TargetId=t["TargetId"])
            org.delete_policy(PolicyId=p["Id"])
    org.attach_policy(PolicyId=ou_policy, TargetId=bu_ou)


@pytest.mark.parametrize("name", list(ALTERNATIVES))
def test_alternative_design_gets_full_marks(world: World, name: str) -> None:
    switch, back, touched = ALTERNATIVES[name]
    saved: dict[str, Any] = {}
    switch(world, saved)
    try:
        report = world.grade(*_accounts(world, touched))
    finally:
        back(world, saved)
    assert report.score == report.max_score, messages(report)


# ------------------------------------------------------------------------------------------- transit gateway

def _as_transit_gateway(w: World, bu_to_bu: bool = False) -> Any:
    """The solved organization's inventory rewritten as a hub-and-spoke transit gateway design.

    moto cannot build this across accounts (a route to another account's TGW loses its target; RAM-shared
    attachments fail: moto-feasibility §3), so the lab judges a TGW design by configuration. Here the peering
    connections become one TGW owned by Shared Services: every BU VPC routes the whole supernet to it, and the TGW's
    route tables do the isolating (spokes see only the hub; the hub sees every spoke). With `bu_to_bu` the first two
    BUs also propagate into the spokes table: the classic one-flaw TGW mistake.
    """
    from seclab.inventory.model import OrgInventory

    shared = w.accounts.id(SHARED)
    plan = {shared: w.facts["shared"]["cidr"], **{w.accounts.id(b["account_name"]): b["cidr"] for b in w.bus}}
    tgw = "tgw-0123456789abcdef0"
    attachment = {acct: f"tgw-attach-{i:017x}" for i, acct in enumerate(sorted(plan))}
    accounts = {a.account_id: a for a in (w.org.management, *w.org.members.values())}
    vpc_of: dict[str, str] = {}
    for acct, cidr in plan.items():
        vpc_of[acct] = next(v["VpcId"] for v in accounts[acct].ec2.vpcs if v["CidrBlock"] == cidr)
    atts = {acct: {"TransitGatewayAttachmentId": attachment[acct], "TransitGatewayId": tgw,
                   "TransitGatewayOwnerId": shared, "ResourceOwnerId": acct, "ResourceType": "vpc",
                   "ResourceId": vpc_of[acct], "State": "available"} for acct in plan}
    spokes = [a for a in plan if a != shared]
    spoke_props = [shared, *(spokes[:2] if bu_to_bu else [])]

    def table(rid: str, assoc: list[str], props: list[str]) -> dict[str, Any]:
        return {"TransitGatewayRouteTableId": rid, "TransitGatewayId": tgw, "State": "available",
                "Associations": [{"TransitGatewayAttachmentId": attachment[a], "State": "associated"} for a in assoc],
                "Propagations": [{"TransitGatewayAttachmentId": attachment[a], "State": "enabled"} for a in props],
                "Routes": [{"DestinationCidrBlock": plan[a], "Type": "propagated", "State": "active",
                            "TransitGatewayAttachments": [{"TransitGatewayAttachmentId": attachment[a]}]}
                           for a in props]}

    def rewrite(inv: Any) -> Any:
        acct = inv.account_id
        if acct not in plan:
            return inv
        tables = []
        for rt in inv.ec2.route_tables:
            if rt.get("VpcId") != vpc_of[acct]:
                tables.append(rt)
                continue
            routes = [r for r in rt.get("Routes", []) if not r.get("VpcPeeringConnectionId")]
            dests = [w.facts["supernet"]] if acct != shared else [plan[a] for a in spokes]
            routes += [{"DestinationCidrBlock": d, "TransitGatewayId": tgw, "State": "active",
                        "Origin": "CreateRoute"} for d in dests]
            tables.append(dict(rt, Routes=routes))
        ec2 = replace(inv.ec2, route_tables=tuple(tables), vpc_peering_connections=(),
                      transit_gateways=({"TransitGatewayId": tgw, "OwnerId": shared, "State": "available"},),
                      transit_gateway_attachments=tuple(atts.values()) if acct == shared else (atts[acct],),
                      transit_gateway_route_tables=(
                          table("tgw-rtb-0000000000000spokes", spokes, spoke_props),
                          table("tgw-rtb-000000000000000hub", [shared], spokes)) if acct == shared else ())
        return replace(inv, ec2=ec2)

    return OrgInventory(management=rewrite(w.org.management),
                        members={a: rewrite(inv) for a, inv in w.org.members.items()})


def test_transit_gateway_design_gets_full_marks_and_a_bu_route_fails_it(world: World) -> None:
    """The issue's TGW alternative and its one-flaw variant, judged by configuration (moto cannot build it)."""
    good = grade_inventory(world.lab, world.learner, _as_transit_gateway(world), world.facts)
    assert good.score == good.max_score, messages(good)
    segmentation = next(r for r in good.results if r.spec.id == "ma_network_segmentation")
    assert "transit gateway" in segmentation.message
    bad = grade_inventory(world.lab, world.learner, _as_transit_gateway(world, bu_to_bu=True), world.facts)
    assert failing(bad) == {"ma_network_segmentation"}, messages(bad)
    text = messages(bad)["ma_network_segmentation"]
    assert "tgw-" in text and world.bu(0)["account_name"] in text and world.bu(1)["account_name"] in text, text


# ------------------------------------------------------------------------------------------------ end to end


def test_world_is_back_to_full_marks_through_the_cli(world: World) -> None:
    """Runs last among the world's tests (file order): `seclab run --solution` re-applies the (idempotent) reference
    solution to the organization every mutation was undone on, and grades it out of process."""
    report = grade(world.lab, world.learner)
    assert report.score == report.max_score, messages(report)
    proc = subprocess.run([SECLAB, "run", LAB, "--learner", world.learner, "--solution", "--format", "json"],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-800:]
    data = json.loads(proc.stdout)
    assert data["score"] == data["max_score"] == 120 and data["passed"], [
        (c["id"], c["message"]) for c in data["checks"] if c["status"] != "PASS"]


@pytest.mark.slow
def test_source_notebook_full_marks_and_release_runs_low(sim: Any, learner: Any, tmp_path: Path) -> None:
    nb = execute_notebook(NOTEBOOK, learner.name, tmp_path, timeout=900)
    outputs = json.dumps([c.get("outputs", []) for c in nb.cells])
    assert "seclab-check" in outputs and "Traceback" not in outputs
    assert "Isolation matrix" in outputs and "Isolation breaks" in outputs  # the what-if cell showed the chain
    report = grade(get_lab(LAB), learner.name)
    assert report.score == report.max_score, messages(report)

    proc, released = release(NOTEBOOK, LAB, tmp_path / "course")
    assert proc.returncode == 0 and released.exists(), proc.stderr[-800:]
    text = released.read_text()
    assert "BEGIN SOLUTION" not in text and "YOUR CODE HERE" in text and "AccountName=name" not in text

    from seclab.sim import registry

    fresh = registry.add_learner(learner.name + "-rel")
    rel = execute_notebook(released, fresh.name, tmp_path, timeout=900)
    assert "Traceback" not in json.dumps([c.get("outputs", []) for c in rel.cells if c.cell_type == "code"])
    low = grade(get_lab(LAB), fresh.name)
    assert low.score == 0 and not low.passed and not low.errors
