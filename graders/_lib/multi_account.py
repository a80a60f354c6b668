"""The multi-account lab's view of an organization: accounts by role, principals, guardrail levels, business units'
resources, and isolation over the IAM engine's who-can-reach graph.

Why one shared module (not part of any single check): six checks and the lab's diagram ask questions about the same
estate (which account is bu-retail, which SCPs bind it, which principals live there, who can become whom). Building
that once per inventory keeps grading the whole organization well under the time budget and guarantees the checks
and the diagram never disagree. It is a pure function of the inventory and the scenario facts, like every check;
every authorization question goes through the IAM engine (seclab.engines.iam: build_graph, evaluate,
organization_levels), so the graph's edges and the checks' point queries cannot disagree.

What this module adds to the engine's graph: the scenario's names (business units, Shared Services, the MLOps
role), each business unit's models, data and compute as representative requests, the sources of a business unit
(every principal in its account and its Identity Center groups) and the two isolation questions.
"""

from __future__ import annotations

import weakref
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from seclab.engines.iam import (
    AccessGraph,
    Decision,
    Policy,
    PolicySet,
    Request,
    build_graph,
    evaluate,
    infer_context,
    organization_levels,
    parse_policy,
)
from seclab.engines.iam.graph import Edge
from seclab.engines.iam.inventory import managed_document
from seclab.inventory.model import AccountInventory, OrgInventory

__all__ = ["ALLOW_ALL", "OPEN_RESOURCE", "REGION", "Platform", "Principal", "Target", "bu_actors", "deny_text",
           "denied_by_region_guardrail", "infer_context", "platform", "scp_decision"]

REGION = "us-east-1"
ALLOW_ALL: Mapping[str, Any] = {"Version": "2012-10-17",
                                "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
OPEN_RESOURCE: Mapping[str, Any] = {"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"}]}
# which consequence a breach message names first, when several are equally short
_RANK = {"s3:GetObject": 0, "s3:PutObject": 1, "kms:Decrypt": 2, "sagemaker:InvokeEndpoint": 3,
         "sagemaker:CreateTrainingJob": 4, "s3:ListBucket": 5}
_KINDS = {"role": "role", "user": "user", "sso-role": "sso_role", "sso-group": "group", "sso-user": "group"}


# ----------------------------------------------------------------------------------------------- records


@dataclass(frozen=True)
class BusinessUnit:
    name: str
    account_name: str
    account_id: str | None
    facts: Mapping[str, Any]

    @property
    def bucket(self) -> str:
        return str(self.facts["bucket"])


@dataclass(frozen=True)
class Principal:
    """A node of the graph as the checks see it: an IAM role or user, the role a permission set gives in an account
    (sso_role), or an Identity Center group or user (group: a source only, it acts by signing in)."""

    key: str  # the engine's node id: an ARN, or "sso:group/<name>"
    kind: str  # role | user | sso_role | group
    account: str | None
    label: str  # "bu-retail/MLOpsAccess"
    name: str  # role/user name, permission-set name or group display name
    trust: Policy | None = None

    @property
    def arn(self) -> str:
        return self.key


@dataclass(frozen=True)
class Target:
    """A business unit's model, data or compute, as one representative request."""

    bu: str
    label: str  # "reads s3://bucket"
    action: str
    resource: str
    account: str
    resource_policy: Policy | None
    context: Mapping[str, Any] = field(default_factory=dict)


# ----------------------------------------------------------------------------------------------- the platform


class Platform:
    """The organization as the lab's scenario names it, plus the analyses (built lazily, once)."""

    def __init__(self, org: OrgInventory, facts: Mapping[str, Any]) -> None:
        self.org = org
        self.facts = facts
        self.mgmt = org.management
        self.mgmt_id = org.management.account_id
        o = org.management.organizations
        self.organization = o
        self.org_id = str(o.organization.get("Id")) if o else None
        self.account_names: dict[str, str] = {}
        self.account_ids: dict[str, str] = {}
        if o is not None:
            for a in o.accounts:
                self.account_names[str(a["Id"])] = str(a.get("Name"))
                self.account_ids.setdefault(str(a.get("Name")), str(a["Id"]))
        self.bus = [BusinessUnit(str(b["name"]), str(b["account_name"]), self.account_ids.get(str(b["account_name"])),
                                 b) for b in facts["business_units"]]
        self.shared_name = str(facts["shared"]["account_name"])
        self.shared_id = self.account_ids.get(self.shared_name)
        self._policies: dict[int, Policy] = {}
        self._levels: dict[tuple[str, str], tuple[tuple[Policy, ...], ...]] = {}
        self._named: dict[str, Policy] = {}
        self._graph: AccessGraph | None = None
        self._principals: dict[str, Principal] | None = None
        self._reach: dict[str, list[tuple[Target, Decision]]] | None = None

    # -------------------------------------------------------------- accounts

    def inv(self, account_id: str | None) -> AccountInventory | None:
        return self.org.accounts().get(account_id) if account_id else None

    def label(self, account_id: str | None) -> str:
        if account_id is None:
            return "?"
        if account_id == self.mgmt_id:
            return "management"
        return self.account_names.get(account_id, account_id)

    def bu_of_account(self, account_id: str | None) -> BusinessUnit | None:
        return next((b for b in self.bus if b.account_id and b.account_id == account_id), None)

    def missing_accounts(self) -> list[str]:
        names = [b.account_name for b in self.bus] + [self.shared_name]
        return [n for n in names if n not in self.account_ids]

    def key_arn(self, bu: BusinessUnit) -> str | None:
        """The BU's approved key (facts' alias, in the BU's account), or None while it does not exist."""
        inv = self.inv(bu.account_id)
        if inv is None:
            return None
        alias = str(bu.facts["key_alias"])
        for k in inv.kms.keys:
            if alias in k.aliases:
                return k.arn
        target = next((a.get("TargetKeyId") for a in inv.kms.aliases if a.get("AliasName") == alias), None)
        for k in inv.kms.keys:
            if target and target in (k.key_id, k.arn):
                return k.arn
        return None

    # -------------------------------------------------------------- network

    def place(self, account_id: str | None, plan: Mapping[str, Any], sg_name: str) -> dict[str, Any] | None:
        """Where a workload of this account runs: the VPC with the plan's CIDR, its subnet (the plan's subnet CIDR
        if there is one), and the plan's security group in that VPC (None when it does not exist)."""
        inv = self.inv(account_id)
        if inv is None:
            return None
        cidr = str(plan["cidr"])

        def cidrs(v: Mapping[str, Any]) -> set[str]:
            return {str(v.get("CidrBlock"))} | {str(a.get("CidrBlock")) for a in v.get("CidrBlockAssociationSet") or []}

        vpc = next((v for v in inv.ec2.vpcs if cidr in cidrs(v)), None)
        if vpc is None:
            return None
        subnets = sorted((sn for sn in inv.ec2.subnets if sn.get("VpcId") == vpc["VpcId"]),
                         key=lambda sn: (sn.get("CidrBlock") != plan.get("subnet_cidr"), str(sn.get("SubnetId"))))
        sg = next((g for g in inv.ec2.security_groups
                   if g.get("VpcId") == vpc["VpcId"] and g.get("GroupName") == sg_name), None)
        return {"account": account_id, "vpc": vpc["VpcId"], "cidr": cidr,
                "subnet": subnets[0]["SubnetId"] if subnets else None,
                "subnet_cidr": subnets[0].get("CidrBlock") if subnets else None,
                "sg": sg["GroupId"] if sg else None}

    # -------------------------------------------------------------- policies

    def policy(self, doc: Any, name: str) -> Policy:
        """Parse once per document object (inventories are immutable snapshots)."""
        cached = self._policies.get(id(doc))
        if cached is None:
            cached = parse_policy(doc, name=name)
            self._policies[id(doc)] = cached
        return cached

    def levels(self, account_id: str, ptype: str = "SERVICE_CONTROL_POLICY") -> tuple[tuple[Policy, ...], ...]:
        """root -> OUs -> account: the SCPs (or RCPs) attached at each level (the IAM engine's reading)."""
        key = (account_id, ptype)
        if key not in self._levels:
            levels, _mgmt = organization_levels(self.org, account_id, ptype)
            self._levels[key] = levels
            for level in levels:
                for pol in level:
                    self._named[pol.name] = pol
        return self._levels[key]

    def statement_of(self, entry: Mapping[str, Any]) -> Mapping[str, Any] | None:
        """The raw SCP statement a decided_by entry names."""
        pol = self._named.get(str(entry.get("name") or entry.get("policy")))
        if pol is None:
            return None
        for s in pol.statements:
            if s.ref == entry.get("statement"):
                return s.raw
        return None

    def context(self, principal_arn: str, account: str, region: str = REGION, **extra: Any) -> dict[str, Any]:
        ctx: dict[str, Any] = dict(infer_context(principal_arn, account, region=region, org_id=self.org_id))
        ctx.update({k: v for k, v in extra.items() if v is not None})
        return ctx

    # -------------------------------------------------------------- Identity Center

    def permission_sets(self) -> dict[str, Mapping[str, Any]]:
        ic = self.mgmt.identity_center
        return {str(p.get("PermissionSetArn")): p for p in ic.permission_sets} if ic else {}

    def assignments(self) -> list[Mapping[str, Any]]:
        ic = self.mgmt.identity_center
        return list(ic.assignments) if ic else []

    def permission_set_policies(self, ps: Mapping[str, Any], account: str) -> tuple[list[Policy], list[str]]:
        """A permission set's identity policies as the role it gives in `account`, and what could not be read."""
        docs: list[Policy] = []
        notes: list[str] = []
        name = str(ps.get("Name"))
        if ps.get("InlinePolicy"):
            docs.append(self.policy(ps["InlinePolicy"], f"permission set {name}: inline"))
        for arn in ps.get("ManagedPolicies", []) or []:
            doc = managed_document(self.org, str(arn), prefer=account)
            if doc is None:
                notes.append(f"the managed policy {arn} is not in the inventory, so its permissions cannot be judged")
            else:
                docs.append(self.policy(doc, str(arn)))
        for ref in ps.get("CustomerManagedPolicyReferences", []) or []:
            arn = f"arn:aws:iam::{account}:policy{ref.get('Path') or '/'}{ref.get('Name')}"
            doc = managed_document(self.org, arn, prefer=account)
            if doc is None:
                notes.append(f"the customer managed policy {ref.get('Name')} is not in {self.label(account)}'s "
                             "inventory, so its permissions cannot be judged")
            else:
                docs.append(self.policy(doc, arn))
        return docs, notes

    @staticmethod
    def sso_role_arn(account: str, ps: Mapping[str, Any]) -> str:
        """The AWSReservedSSO_ role a permission set gives in `account`, named as the IAM engine's graph names it
        (the simulator creates none; AWS appends a random suffix, so trust policies match it with ArnLike ..._*)."""
        return (f"arn:aws:iam::{account}:role/aws-reserved/sso.amazonaws.com/"
                f"AWSReservedSSO_{ps.get('Name')}_seclab")

    def group_bu(self, display_name: str) -> str | None:
        for b in self.bus:
            if display_name in b.facts["groups"].values() or display_name.startswith(f"{b.name}-"):
                return b.name
        return None

    # -------------------------------------------------------------- the graph

    def graph(self) -> AccessGraph:
        """The IAM engine's who-can-reach graph of the whole organization. The ExternalId is given to every caller:
        inside an organization it is a shared string, not a secret, so it must not be what keeps a BU out."""
        if self._graph is None:
            self._graph = build_graph(self.org, org_id=self.org_id, region=REGION,
                                      context={"sts:ExternalId": self.facts.get("external_id"),
                                               "aws:RequestedRegion": REGION})
        return self._graph

    def principals(self) -> dict[str, Principal]:
        if self._principals is None:
            out: dict[str, Principal] = {}
            for node in self.graph().nodes.values():
                kind = _KINDS.get(node.kind, node.kind)
                pp = node.policies
                trust = None
                if kind == "role" and pp is not None and pp.record.get("AssumeRolePolicyDocument"):
                    trust = self.policy(pp.record["AssumeRolePolicyDocument"], f"trust policy of {node.label}")
                if kind == "group":
                    name = node.id.split("/", 1)[1] if "/" in node.id else node.id
                elif kind == "sso_role" and pp is not None:
                    name = pp.name.removeprefix("AWSReservedSSO_").removesuffix("_seclab")
                else:
                    name = pp.name if pp is not None else node.id
                out[node.id] = Principal(node.id, kind, node.account, node.label, name, trust)
            self._principals = out
        return self._principals

    def decide(self, caller: Principal, action: str, resource: str, resource_account: str,
               resource_policy: Policy | None, context: Mapping[str, Any] | None = None) -> Decision:
        """A point query through the engine's graph (the same PolicySet its edges are built from)."""
        return self.graph().decide(caller.key, action, resource, resource_account=resource_account,
                                   resource_policies=(resource_policy,) if resource_policy is not None else (),
                                   rcp=self.levels(resource_account, "RESOURCE_CONTROL_POLICY"), context=context)

    def targets(self) -> list[Target]:
        """Each business unit's models, data and compute, as representative requests."""
        out: list[Target] = []
        for bu in self.bus:
            inv = self.inv(bu.account_id)
            if inv is None or bu.account_id is None:
                continue
            acct = bu.account_id
            key = self.key_arn(bu)
            put_ctx = {"s3:x-amz-server-side-encryption": "aws:kms",
                       "s3:x-amz-server-side-encryption-aws-kms-key-id": key} if key else {}
            for b in inv.s3.buckets:
                pol = self.policy(b.policy, f"bucket policy of {b.name}") if b.policy else None
                common = {"s3:ResourceAccount": acct, "aws:ResourceAccount": acct}
                obj = f"arn:aws:s3:::{b.name}/model.tar.gz"
                out.append(Target(bu.name, f"reads s3://{b.name}", "s3:GetObject", obj, acct, pol, common))
                out.append(Target(bu.name, f"writes s3://{b.name}", "s3:PutObject", obj, acct, pol,
                                  {**common, **put_ctx}))
                out.append(Target(bu.name, f"lists s3://{b.name}", "s3:ListBucket", f"arn:aws:s3:::{b.name}", acct,
                                  pol, common))
            for k in inv.kms.keys:
                if k.metadata.get("KeyManager") == "AWS" or not k.policy:
                    continue
                name = k.aliases[0] if k.aliases else k.key_id
                out.append(Target(bu.name, f"decrypts with {bu.account_name}'s key {name}", "kms:Decrypt", k.arn,
                                  acct, self.policy(k.policy, f"key policy of {name}"),
                                  {"aws:ResourceAccount": acct}))
            for ep in inv.sagemaker.endpoints:
                out.append(Target(bu.name, f"invokes SageMaker endpoint {ep.get('EndpointName')}",
                                  "sagemaker:InvokeEndpoint", str(ep.get("EndpointArn")), acct, None,
                                  {"aws:ResourceAccount": acct}))
            out.append(Target(bu.name, f"runs SageMaker training jobs in {bu.account_name}",
                              "sagemaker:CreateTrainingJob",
                              f"arn:aws:sagemaker:{REGION}:{acct}:training-job/isolation-probe", acct, None,
                              {"aws:ResourceAccount": acct, **({"sagemaker:VolumeKmsKey": key} if key else {})}))
        return out

    def reach(self) -> dict[str, list[tuple[Target, Decision]]]:
        """What each principal can do to each business unit's resources. Another account's resources are reachable
        only through a resource policy (or a KMS key policy) that admits the caller, so only those are asked across
        accounts."""
        if self._reach is None:
            out: dict[str, list[tuple[Target, Decision]]] = {}
            targets = self.targets()
            for p in self.principals().values():
                if p.kind == "group":
                    continue
                found = []
                for t in targets:
                    if t.account != p.account and t.resource_policy is None:
                        continue
                    d = self.decide(p, t.action, t.resource, t.account, t.resource_policy, t.context)
                    if d.allowed:
                        found.append((t, d))
                out[p.key] = found
            self._reach = out
        return self._reach

    def describe(self, start: str, hops: Sequence[Edge], end: str = "") -> str:
        """'retail-ml-engineers (Identity Center group) → signs in via Identity Center as ... → reads s3://...'."""
        ps = self.principals()

        def name(node: str) -> str:
            p = ps.get(node)
            if p is None:
                return node
            return f"{p.name} (Identity Center group)" if p.kind == "group" else p.label

        parts = [name(start)] + [f"{h.text} {name(h.dst)}" for h in hops]
        if end:
            parts.append(end)
        return " → ".join(parts)

    # -------------------------------------------------------------- isolation

    def sources(self, bu: BusinessUnit) -> list[str]:
        """Every principal of a business unit: what lives in its account, and its Identity Center groups/users."""
        ps = self.principals().values()
        out = [p.key for p in ps if bu.account_id and p.account == bu.account_id]
        out += [p.key for p in ps if p.kind == "group" and self.group_bu(p.name) == bu.name]
        return out

    def breaches(self) -> list[dict[str, Any]]:
        """For every ordered pair of business units, the shortest way a principal of one reaches the other's
        models, data or compute (empty when the platform is isolated)."""
        g = self.graph()
        reach = self.reach()
        found: list[dict[str, Any]] = []
        for src in self.bus:
            if src.account_id is None:
                continue
            best: dict[str, tuple[int, int, str, Decision]] = {}
            for start in self.sources(src):
                for node, hops in g.paths_from(start).items():
                    for t, d in reach.get(node, []):
                        if t.bu == src.name:
                            continue
                        cand = (len(hops), _RANK.get(t.action, 9), self.describe(start, hops, t.label), d)
                        if t.bu not in best or cand[:3] < best[t.bu][:3]:
                            best[t.bu] = cand
            for bu_name, (n, _rank, path, d) in sorted(best.items()):
                found.append({"from": src.name, "to": bu_name, "path": path, "hops": n, "decided_by": d.decided_by})
        return found

    def mlops_role(self) -> Principal | None:
        name = self.facts["shared"]["mlops_role"]
        return next((p for p in self.principals().values() if p.kind == "role" and p.account == self.shared_id
                     and p.name == name), None)

    def mlops_detours(self) -> tuple[str | None, list[dict[str, Any]]]:
        """(the MLOps role's ARN or None, the ways it reaches a BU other than through the intended role)."""
        mlops = self.mlops_role()
        if mlops is None:
            return None, []
        intended = str(self.facts["roles"]["mlops_access"])
        ps = self.principals()
        reach = self.reach()
        detours = []
        for node, hops in sorted(self.graph().paths_from(mlops.key).items(), key=lambda kv: (len(kv[1]), kv[0])):
            p = ps[node]
            bu = self.bu_of_account(p.account)
            # the first hop into a business-unit account must land on the intended role
            if hops and bu is not None and ps[hops[-1].src].account != p.account and p.name != intended:
                detours.append({"bu": bu.name, "path": self.describe(mlops.key, hops), "role": p.label})
            # a business unit's resources reached from outside its account (through a resource policy)
            for t, _d in reach.get(node, []):
                owner = next(b for b in self.bus if b.name == t.bu)
                if p.account != owner.account_id:
                    detours.append({"bu": t.bu, "path": self.describe(mlops.key, hops, t.label), "role": p.label})
        return mlops.key, detours


_CACHE: dict[int, tuple[weakref.ref[OrgInventory], int, Platform]] = {}


def platform(org: OrgInventory, facts: Mapping[str, Any]) -> Platform:
    """The Platform for this inventory and these facts, built once (checks of one grading run share it)."""
    key = id(org)
    hit = _CACHE.get(key)
    if hit is not None and hit[0]() is org and hit[1] == id(facts):
        return hit[2]
    for k in [k for k, v in _CACHE.items() if v[0]() is None]:
        del _CACHE[k]
    p = Platform(org, facts)
    _CACHE[key] = (weakref.ref(org), id(facts), p)
    return p


# ----------------------------------------------------------------------------------------------- guardrails


def bu_actors(p: Platform, accounts: Iterable[str]) -> list[Principal]:
    """The principals SCPs must bind in these accounts: every IAM role/user and Identity Center role there, plus a
    hypothetical new role (a guardrail must also hold for principals created tomorrow)."""
    out = []
    for acct in accounts:
        out += [x for x in p.principals().values() if x.account == acct and x.kind in ("role", "user", "sso_role")]
        out.append(Principal(f"arn:aws:iam::{acct}:role/any-new-role", "role", acct,
                             f"{p.label(acct)}/any-new-role (hypothetical)", "any-new-role"))
    return out


def scp_decision(p: Platform, who: Principal, action: str, resource: str, region: str,
                 extra: Mapping[str, Any] | None = None) -> Decision:
    """What the SCP levels alone decide for this request (identity policies assumed to allow everything)."""
    ctx = p.context(who.arn, str(who.account), region=region)
    if extra:
        ctx.update({k: v for k, v in extra.items() if v is not None})
    ps = PolicySet(identity=[ALLOW_ALL], scp=p.levels(str(who.account)), management_account=p.mgmt_id)
    return evaluate(Request(who.arn, who.account, action, resource, who.account, ctx), ps)


def denied_by_region_guardrail(p: Platform, d: Decision) -> bool:
    """True when every statement that denied is a region statement (its condition tests aws:RequestedRegion):
    the other guardrail checks leave such denials to the region check."""
    if d.decision != "explicit_deny" or not d.decided_by:
        return False
    for entry in d.decided_by:
        raw = p.statement_of(entry) or {}
        keys = {str(k).lower() for ops in (raw.get("Condition") or {}).values() if isinstance(ops, Mapping)
                for k in ops}
        if "aws:requestedregion" not in keys:
            return False
    return True


def deny_text(d: Decision) -> str:
    first = d.decided_by[0] if d.decided_by else {}
    where = first.get("name") or first.get("policy") or ""
    stmt = first.get("statement")
    return f"{where}{f' statement {stmt}' if stmt is not None else ''}: {first.get('reason', d.decision)}"


def accounts_problem(ctx: Any, p: Any) -> Any:
    """The FAIL finding every check returns while some of the organization's accounts are not created yet (None
    once they all exist): nothing about isolation can be judged before the accounts exist."""
    missing = p.missing_accounts()
    if missing:
        return ctx.fail("accounts_missing", missing=", ".join(missing))
    return None
