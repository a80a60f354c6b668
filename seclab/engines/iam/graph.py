"""Who can reach what: principals across accounts, how they become each other, and what they can then do.

Why a graph built from the evaluator: "can bu2's data scientist read bu4's models?" is a question about chains
(assume a shared role, assume another, then read). Every edge here is one call to `evaluate` with the same
PolicySet a point query would build (identity policies, boundary, SCPs of the caller's account; the target's
trust policy and RCPs), so the graph and point queries cannot disagree (tests/iam/test_iam_graph.py checks it).

Edges:
- assumes: sts:AssumeRole allowed by the caller's side (identity, boundary, SCPs) and the role's trust policy.
- passes to SageMaker: iam:PassRole on the role (context iam:PassedToService) + a SageMaker action that runs
  code as the role (CreateTrainingJob, ...) + the role's trust policy admitting sagemaker.amazonaws.com for a job
  in that account.
- signs in via Identity Center: an account assignment gives an Identity Center user or group the permission
  set's role (AWSReservedSSO_<PermissionSet>_*) in that account.

The request context of each hop comes from `infer_context` (caller ARN, TLS, organization id); keys nobody can
know (sts:ExternalId, MFA) are absent, so trust policies that require them do not produce edges.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from seclab.engines.iam.actions import arn_for
from seclab.engines.iam.context import infer_context
from seclab.engines.iam.evaluator import Decision, PolicySet, Request, evaluate
from seclab.engines.iam.inventory import (
    Inventory,
    PrincipalPolicies,
    account_names,
    accounts_of,
    document,
    identity_center,
    load_principal,
    managed_document,
    organization_levels,
    organization_of,
    resource_side,
)
from seclab.engines.iam.policy import Policy, parse_policy
from seclab.errors import NotFound

SAGEMAKER = "sagemaker.amazonaws.com"
# SageMaker actions that run code with a passed execution role (cloudsplaining's PassRole paths + models).
SAGEMAKER_LAUNCH = (
    "sagemaker:CreateTrainingJob",
    "sagemaker:CreateProcessingJob",
    "sagemaker:CreateNotebookInstance",
    "sagemaker:CreateModel",
)
# Representative data actions probed on another account's resources for can_reach_account.
_PROBES = {
    "s3": ("s3:GetObject", "s3:PutObject", "s3:ListBucket"),
    "kms": ("kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"),
    "ecr": ("ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:PutImage"),
}


@dataclass(frozen=True)
class Node:
    id: str  # an IAM ARN, or "sso:user/<name>" / "sso:group/<name>"
    kind: str  # "role" | "user" | "sso-role" | "sso-user" | "sso-group"
    account: str | None
    label: str  # "bu2/DataScientist"
    policies: PrincipalPolicies | None = None


@dataclass(frozen=True)
class Edge:
    src: str
    dst: str
    via: str  # "sts:AssumeRole" | "iam:PassRole+sagemaker:CreateTrainingJob" | "sso:PermissionSet/<name>"
    text: str  # "assumes", "passes to SageMaker (sagemaker:CreateTrainingJob) as", "signs in via Identity Center as"
    evidence: tuple[dict[str, Any], ...] = ()


@dataclass(frozen=True)
class Reach:
    """One principal and how it gets there: `hops` are edges; `action`/`resource` the final step (if any)."""

    principal: str
    hops: tuple[Edge, ...]
    target: str  # the principal reached last, or the resource acted on
    action: str | None = None
    resource: str | None = None
    evidence: tuple[dict[str, Any], ...] = ()
    text: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "principal": self.principal,
            "path": [{"from": h.src, "to": h.dst, "via": h.via} for h in self.hops],
            "target": self.target,
            "action": self.action,
            "resource": self.resource,
            "text": self.text,
            "evidence": list(self.evidence),
        }


@dataclass
class AccessGraph:
    inventory: Inventory
    nodes: dict[str, Node] = field(default_factory=dict)
    edges: dict[str, list[Edge]] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    base_context: Mapping[str, Any] = field(default_factory=dict)
    org_id: str | None = None
    region: str = "us-east-1"
    _sets: dict[str, PolicySet] = field(default_factory=dict)
    _contexts: dict[str, dict[str, Any]] = field(default_factory=dict)

    # --- point queries (also what the graph's edges are built from) -----------------------------------------

    def context_for(self, node_id: str, extra: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """The request context of a principal's calls: inferred keys, then the graph's base context, then `extra`."""
        base = self._contexts.get(node_id)
        if base is None:
            node = self.nodes[node_id]
            base = {}
            if node.kind in ("role", "user", "sso-role"):
                base.update(infer_context(node.id, node.account, org_id=self.org_id))
            base.update(self.base_context)
            self._contexts[node_id] = base
        if extra:
            return {**base, **extra}
        return base

    def principal_set(self, node_id: str) -> PolicySet:
        ps = self._sets.get(node_id)
        if ps is None:
            node = self.nodes[node_id]
            if node.policies is None:
                raise NotFound(f"{node_id} is not an IAM principal")
            ps = node.policies.policy_set()
            self._sets[node_id] = ps
        return ps

    def decide(self, node_id: str, action: str, resource: str, *, resource_account: str | None = None,
               resource_policies: Iterable[Any] | None = None, rcp: Any = None,
               context: Mapping[str, Any] | None = None) -> Decision:
        """Can principal `node_id` perform `action` on `resource`? Resource-side policies come from the inventory
        unless given. This is the point query every edge and every who_can answer is built from."""
        node = self.nodes[node_id]
        if resource_policies is None or rcp is None:
            side = resource_side(self.inventory, resource, action, account=resource_account)
            if resource_policies is None:
                resource_policies = side.policies
            if rcp is None:
                rcp = side.rcp
            resource_account = resource_account or side.account
        ps = self.principal_set(node_id).with_resource(tuple(resource_policies), rcp)
        return evaluate(Request(node.id, node.account, action, resource, resource_account or node.account,
                                self.context_for(node_id, context)), ps)

    def can_assume(self, src: str, dst: str) -> Decision:
        return self.decide(src, "sts:AssumeRole", dst, resource_account=self.nodes[dst].account)

    # --- graph queries ----------------------------------------------------------------------------------------

    def successors(self, node_id: str) -> list[Edge]:
        return self.edges.get(node_id, [])

    def has_edge(self, src: str, dst: str, via_prefix: str = "") -> bool:
        return any(e.dst == dst and e.via.startswith(via_prefix) for e in self.successors(src))

    def _reverse(self) -> dict[str, list[Edge]]:
        rev: dict[str, list[Edge]] = {}
        for edges in self.edges.values():
            for e in edges:
                rev.setdefault(e.dst, []).append(e)
        return rev

    def paths_to(self, targets: Iterable[str]) -> dict[str, tuple[Edge, ...]]:
        """Shortest chain of edges from every node that can reach one of `targets` (a target maps to ())."""
        rev = self._reverse()
        best: dict[str, tuple[Edge, ...]] = {}
        queue: deque[str] = deque()
        for t in sorted(set(targets)):
            best[t] = ()
            queue.append(t)
        while queue:
            cur = queue.popleft()
            for e in sorted(rev.get(cur, []), key=lambda e: (e.src, e.via)):
                if e.src not in best:
                    best[e.src] = (e, *best[cur])
                    queue.append(e.src)
        return best

    def paths_from(self, start: str) -> dict[str, tuple[Edge, ...]]:
        best: dict[str, tuple[Edge, ...]] = {start: ()}
        queue: deque[str] = deque([start])
        while queue:
            cur = queue.popleft()
            for e in sorted(self.successors(cur), key=lambda e: (e.dst, e.via)):
                if e.dst not in best:
                    best[e.dst] = (*best[cur], e)
                    queue.append(e.dst)
        return best

    def who_can(self, action: str, resource: str, *, resource_account: str | None = None,
                context: Mapping[str, Any] | None = None) -> list[Reach]:
        """Every principal that can perform `action` on `resource`, directly or through a chain of edges."""
        side = resource_side(self.inventory, resource, action, account=resource_account)
        if not side.known:
            self.warnings.append(side.notes[0])
        direct: dict[str, Decision] = {}
        for nid, node in self.nodes.items():
            if node.policies is None:
                continue
            d = self.decide(nid, action, resource, resource_account=side.account or resource_account,
                            resource_policies=side.policies, rcp=side.rcp, context=context)
            if d.allowed:
                direct[nid] = d
        out = []
        for nid, hops in sorted(self.paths_to(direct).items()):
            last = hops[-1].dst if hops else nid
            d = direct[last]
            out.append(Reach(nid, hops, last, action, resource, tuple(d.decided_by),
                             self.path_text(nid, hops, action, resource)))
        return out

    def can_reach_account(self, a: str, b: str, *, context: Mapping[str, Any] | None = None) -> list[Reach]:
        """Paths from principals of account `a` into account `b`: to a principal of `b` (which can then act as
        that principal), or to a resource of `b` through its resource-based policy."""
        starts = sorted(n for n, node in self.nodes.items() if node.account == a and node.kind in ("role", "user"))
        out: list[Reach] = []
        resources = _resources_with_policies(self.inventory, b)
        probe_cache: dict[tuple[str, str, str], Decision] = {}
        for s in starts:
            reach = self.paths_from(s)
            for dst, hops in sorted(reach.items()):
                if dst != s and self.nodes[dst].account == b:
                    out.append(Reach(s, hops, dst, text=self.path_text(s, hops)))
            for dst, hops in sorted(reach.items()):
                node = self.nodes[dst]
                if node.account == b or node.policies is None:
                    continue
                for arn, actions in resources:
                    for action in actions:
                        key = (dst, action, arn)
                        if key not in probe_cache:
                            probe_cache[key] = self.decide(dst, action, arn, resource_account=b, context=context)
                        d = probe_cache[key]
                        if d.allowed:
                            out.append(Reach(s, hops, arn, action, arn, tuple(d.decided_by),
                                             self.path_text(s, hops, action, arn)))
                            break
        return out

    def path_text(self, start: str, hops: Iterable[Edge], action: str | None = None,
                  resource: str | None = None) -> str:
        parts = [self.nodes[start].label]
        for h in hops:
            parts.append(f"{h.text} {self.nodes[h.dst].label}")
        if action:
            parts.append(f"{action} {resource}")
        return " → ".join(parts)

    def to_dict(self) -> dict[str, Any]:
        return {
            "nodes": [{"id": n.id, "kind": n.kind, "account": n.account, "label": n.label}
                      for n in self.nodes.values()],
            "edges": [{"from": e.src, "to": e.dst, "via": e.via} for es in self.edges.values() for e in es],
            "warnings": list(self.warnings),
        }


def _resources_with_policies(inventory: Inventory, account: str) -> list[tuple[str, tuple[str, ...]]]:
    accounts = accounts_of(inventory)
    inv = accounts.get(account)
    if inv is None:
        return []
    out: list[tuple[str, tuple[str, ...]]] = []
    for b in inv.s3.buckets:
        if b.policy:
            out.append((f"{b.arn}/*", _PROBES["s3"][:2]))
            out.append((b.arn, _PROBES["s3"][2:]))
    for k in inv.kms.keys:
        if k.policy:
            out.append((k.arn, _PROBES["kms"]))
    for r in inv.ecr.repositories:
        if r.get("Policy") and r.get("repositoryArn"):
            out.append((str(r["repositoryArn"]), _PROBES["ecr"]))
    return out


def _label(names: Mapping[str, str], account: str | None, name: str) -> str:
    return f"{names.get(account or '', account or '?')}/{name}"


def build_graph(inventory: Inventory, *, context: Mapping[str, Any] | None = None, org_id: str | None = None,
                region: str | None = None, sagemaker: bool = True) -> AccessGraph:
    """Build the who-can-reach graph of every IAM role and user (and Identity Center assignment) in `inventory`."""
    accounts = accounts_of(inventory)
    names = account_names(inventory)
    graph = AccessGraph(inventory=inventory, base_context=dict(context or {}), org_id=org_id,
                        region=region or next(iter(accounts.values())).region)
    if org_id is None:
        org = organization_of(inventory)
        if org is not None:
            graph.org_id = org.organization.get("Id")

    for acct_id, inv in sorted(accounts.items()):
        for kind, records in (("role", inv.iam.roles), ("user", inv.iam.users)):
            for rec in records:
                arn = str(rec.get("Arn"))
                pp = load_principal(inventory, arn)
                if pp.missing:
                    graph.warnings.append(f"{arn}: policies not in the inventory: {', '.join(pp.missing)}")
                name = str(rec.get("RoleName") or rec.get("UserName"))
                graph.nodes[arn] = Node(arn, kind, acct_id, _label(names, acct_id, name), pp)
    _add_identity_center(graph, inventory, names)

    roles = [n for n in graph.nodes.values() if n.kind in ("role", "sso-role")]
    callers = [n for n in graph.nodes.values() if n.policies is not None]
    trust: dict[str, tuple[Policy, ...]] = {}
    rcps: dict[str, Any] = {}
    for r in roles:
        doc = r.policies.record.get("AssumeRolePolicyDocument") if r.policies else None
        if doc:
            tname = f"trust policy of {r.label}"
            trust[r.id] = (parse_policy(document(doc, tname), name=tname),)
        else:
            trust[r.id] = ()
        if (r.account or "") not in rcps:
            rcps[r.account or ""] = organization_levels(inventory, r.account or "", "RESOURCE_CONTROL_POLICY")[0]

    for src in callers:
        for dst in roles:
            if dst.id == src.id:
                continue
            d = graph.decide(src.id, "sts:AssumeRole", dst.id, resource_account=dst.account,
                             resource_policies=trust[dst.id], rcp=rcps[dst.account or ""])
            if d.allowed:
                graph.edges.setdefault(src.id, []).append(
                    Edge(src.id, dst.id, "sts:AssumeRole", "assumes", tuple(d.decided_by)))
    if sagemaker:
        _add_passrole_edges(graph, callers, roles, trust, rcps)
    return graph


def _add_passrole_edges(graph: AccessGraph, callers: list[Node], roles: list[Node],
                        trust: Mapping[str, tuple[Policy, ...]], rcps: Mapping[str, Any]) -> None:
    service_ok: dict[str, Decision] = {}
    for r in roles:
        job = f"arn:aws:sagemaker:{graph.region}:{r.account}:training-job/seclab-probe"
        ctx = {"aws:SourceAccount": r.account or "", "aws:SourceArn": job}
        ctx.update(graph.base_context)
        service_ok[r.id] = evaluate(
            Request(SAGEMAKER, None, "sts:AssumeRole", r.id, r.account, ctx),
            PolicySet(resource=trust[r.id], rcp=rcps[r.account or ""]),
        )
    for src in callers:
        launch: tuple[str, Decision] | None = None
        for action in SAGEMAKER_LAUNCH:
            target = (arn_for(action, region=graph.region, account=src.account or "", name="seclab-probe") or ["*"])[0]
            d = graph.decide(src.id, action, target, resource_account=src.account, resource_policies=(), rcp=())
            if d.allowed:
                launch = (action, d)
                break
        if launch is None:
            continue
        for dst in roles:
            if dst.account != src.account or dst.id == src.id or not service_ok[dst.id].allowed:
                continue
            d = graph.decide(src.id, "iam:PassRole", dst.id, resource_account=dst.account, resource_policies=(),
                             rcp=(), context={"iam:PassedToService": SAGEMAKER})
            if d.allowed:
                evidence = (*d.decided_by, *launch[1].decided_by, *service_ok[dst.id].decided_by)
                graph.edges.setdefault(src.id, []).append(
                    Edge(src.id, dst.id, f"iam:PassRole+{launch[0]}", f"passes to SageMaker ({launch[0]}) as",
                         evidence))


def _add_identity_center(graph: AccessGraph, inventory: Inventory, names: Mapping[str, str]) -> None:
    ic = identity_center(inventory)
    if ic is None:
        return
    accounts = accounts_of(inventory)
    users = {u.get("UserId"): u.get("UserName") or u.get("DisplayName") for u in ic.users}
    groups = {g.get("GroupId"): g.get("DisplayName") for g in ic.groups}
    psets = {p.get("PermissionSetArn"): p for p in ic.permission_sets}
    for a in ic.assignments:
        acct = str(a.get("AccountId"))
        ps = psets.get(a.get("PermissionSetArn"))
        if ps is None:
            graph.warnings.append(f"assignment to unknown permission set {a.get('PermissionSetArn')}")
            continue
        ps_name = str(ps.get("Name"))
        role_id = _sso_role(graph, inventory, accounts, names, acct, ps)
        ptype = a.get("PrincipalType")
        pname = users.get(a.get("PrincipalId")) if ptype == "USER" else groups.get(a.get("PrincipalId"))
        pname = pname or str(a.get("PrincipalId"))
        sid = f"sso:{'user' if ptype == 'USER' else 'group'}/{pname}"
        if sid not in graph.nodes:
            graph.nodes[sid] = Node(sid, "sso-user" if ptype == "USER" else "sso-group", None,
                                    f"IdentityCenter/{'user' if ptype == 'USER' else 'group'} {pname}")
        if not graph.has_edge(sid, role_id):
            graph.edges.setdefault(sid, []).append(
                Edge(sid, role_id, f"sso:PermissionSet/{ps_name}", "signs in via Identity Center as",
                     ({"policy": "identity-center", "statement": None, "effect": None,
                       "reason": f"account assignment of permission set {ps_name} in {acct}"},)))


def _sso_role(graph: AccessGraph, inventory: Inventory, accounts: Mapping[str, Any], names: Mapping[str, str],
              acct: str, ps: Mapping[str, Any]) -> str:
    ps_name = str(ps.get("Name"))
    inv = accounts.get(acct)
    prefix = f"AWSReservedSSO_{ps_name}_"
    if inv is not None:
        for rec in inv.iam.roles:
            if str(rec.get("RoleName", "")).startswith(prefix) and rec.get("Arn") in graph.nodes:
                return str(rec["Arn"])
    arn = f"arn:aws:iam::{acct}:role/aws-reserved/sso.amazonaws.com/{prefix}seclab"
    if arn in graph.nodes:
        return arn
    identity: list[Policy] = []
    if ps.get("InlinePolicy"):
        pname = f"permission set {ps_name}: inline"
        identity.append(parse_policy(document(ps["InlinePolicy"], pname), name=pname))
    missing = []
    for parn in ps.get("ManagedPolicies") or ():
        doc = managed_document(inventory, parn, prefer=acct)
        if doc is None:
            missing.append(parn)
        else:
            identity.append(parse_policy(doc, name=parn))
    for ref in ps.get("CustomerManagedPolicyReferences") or ():
        path = ref.get("Path") or "/"
        parn = f"arn:aws:iam::{acct}:policy{path}{ref.get('Name')}"
        doc = managed_document(inventory, parn, prefer=acct)
        if doc is None:
            missing.append(parn)
        else:
            identity.append(parse_policy(doc, name=parn))
    if missing:
        graph.warnings.append(f"permission set {ps_name}: policies not in the inventory: {', '.join(missing)}")
    scp, mgmt = organization_levels(inventory, acct, "SERVICE_CONTROL_POLICY")
    role_name = f"{prefix}seclab"
    record: dict[str, Any] = {"RoleName": role_name, "Arn": arn,
              "AssumeRolePolicyDocument": {"Version": "2012-10-17", "Statement": [
                  {"Effect": "Allow", "Principal": {"Federated": f"arn:aws:iam::{acct}:saml-provider/AWSSSO_seclab"},
                   "Action": ["sts:AssumeRoleWithSAML", "sts:TagSession"]}]}}
    pp = PrincipalPolicies(arn=arn, kind="role", name=role_name, account=acct, record=record,
                           identity=tuple(identity), boundary=(),
                           attached_managed=tuple(ps.get("ManagedPolicies") or ()),
                           missing=tuple(missing), scp=scp, management_account=mgmt)
    graph.nodes[arn] = Node(arn, "sso-role", acct, _label(names, acct, f"{ps_name} (Identity Center)"), pp)
    return arn

