"""Shared evaluation for the private-endpoint lab's checks (graders/*/pe_*): pure functions over the inventory.

Why a lab-side helper: the pe_* checks ask the same questions many times (which policies apply to a role, what the
IAM engine decides for a probe request, which model an endpoint runs, which security groups guard it). Keeping
that in one place keeps each check a short statement of its rule, and every check judges the same facts the same
way. Nothing here calls boto3: it reads the inventory and calls the IAM and network engines.

Least privilege is judged by effect, not by text: each check names concrete requests (an action on a resource,
with the request context the caller would have) and asks the IAM engine for the decision, so `s3:Get*` on
`bucket/*`, a NotAction statement or a wildcard in a managed policy are all caught as what they allow.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from seclab.engines.iam import Decision, PolicySet, Request, evaluate
from seclab.engines.net import model_of
from seclab.engines.net.addrs import AddrSet, internet
from seclab.inventory.model import AccountInventory, Record

AWS_MANAGED_PREFIX = "arn:aws:iam::aws:policy/"

# What SageMaker documents an endpoint's execution role may need beyond the artifact and its logs: the network
# interfaces of a VPC-attached model, pulling its image from ECR and publishing its metrics. Never required here
# (the simulator runs no containers), never counted as excess.
VPC_ENI_ACTIONS = ("ec2:CreateNetworkInterface", "ec2:CreateNetworkInterfacePermission", "ec2:DeleteNetworkInterface",
                   "ec2:DeleteNetworkInterfacePermission", "ec2:DescribeNetworkInterfaces", "ec2:DescribeVpcs",
                   "ec2:DescribeDhcpOptions", "ec2:DescribeSubnets", "ec2:DescribeSecurityGroups")


# ------------------------------------------------------------------------------------------------ IAM


@dataclass(frozen=True)
class RolePolicies:
    """A role's identity policies (inline and attached) and boundary, with a readable name per identity policy."""

    role: Record
    policy_set: PolicySet
    names: tuple[str, ...]
    missing_managed: tuple[str, ...] = ()

    @property
    def arn(self) -> str:
        return str(self.role.get("Arn"))


def _policy_label(name: str) -> str:
    """The engine names policies "role/R: inline P" or by ARN; say it the way the learner thinks of it."""
    if ": inline " in name:
        return f"inline policy {name.split(': inline ', 1)[1]}"
    if name.startswith(AWS_MANAGED_PREFIX):
        return f"AWS managed policy {name.rsplit('/', 1)[-1]}"
    if ":policy/" in name:
        return f"managed policy {name.rsplit('/', 1)[-1]}"
    return name


def role_policies(inv: AccountInventory, role: Record) -> RolePolicies:
    """The role's side of a request as the IAM engine loads it (inline, attached managed, boundary, SCPs)."""
    from seclab.engines.iam import load_principal

    pp = load_principal(inv, str(role["Arn"]))
    return RolePolicies(role, pp.policy_set(), tuple(_policy_label(p.name) for p in pp.identity), pp.missing)


@dataclass(frozen=True)
class Probe:
    """One request to ask the IAM engine about, with a learner-readable label."""

    action: str
    resource: str
    context: Mapping[str, Any] = field(default_factory=dict)
    label: str = ""

    def text(self) -> str:
        return self.label or f"{self.action} on {self.resource}"


@dataclass(frozen=True)
class Outcome:
    probe: Probe
    decision: Decision
    by: str  # which policy and statement decided, in words

    @property
    def allowed(self) -> bool:
        return self.decision.allowed

    def evidence(self) -> dict[str, Any]:
        return {"request": self.probe.text(), "decision": self.decision.decision, "decided_by": self.by}


def _by(decision: Decision, names: Sequence[str], kinds: Mapping[str, str] | None = None) -> str:
    parts = []
    for entry in decision.decided_by:
        policy = str(entry.get("policy") or "")
        label = policy
        if policy.startswith("identity[") and policy.endswith("]"):
            idx = int(policy[len("identity["):-1])
            label = names[idx] if idx < len(names) else policy
        elif kinds and policy.split("[")[0] in kinds:
            label = kinds[policy.split("[")[0]]
        stmt = entry.get("statement")
        if stmt is not None and entry.get("effect"):
            label += f", statement {stmt!r}" if isinstance(stmt, str) else f", statement #{int(stmt) + 1}"
        parts.append(label if entry.get("effect") else str(entry.get("reason", label)))
    return "; ".join(dict.fromkeys(p for p in parts if p)) or decision.decision


def ask(rp: RolePolicies, probes: Iterable[Probe], account: str) -> list[Outcome]:
    """The engine's decision for the role (as a session of it) on each probe."""
    out = []
    for p in probes:
        d = evaluate(Request(rp.arn, account, p.action, p.resource, account, dict(p.context)), rp.policy_set)
        out.append(Outcome(p, d, _by(d, rp.names)))
    return out


def ask_with(principal: str, principal_account: str | None, resource_account: str, policies: PolicySet,
             probes: Iterable[Probe], kinds: Mapping[str, str]) -> list[Outcome]:
    """The engine's decision for any principal against an explicit policy set (trust or endpoint policies);
    `kinds` names the policy kinds in words ({"resource": "trust policy"})."""
    out = []
    for p in probes:
        d = evaluate(Request(principal, principal_account, p.action, p.resource, resource_account, dict(p.context)),
                     policies)
        out.append(Outcome(p, d, _by(d, (), kinds)))
    return out


ALLOW_ALL = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}


def listing(outcomes: Iterable[Outcome], limit: int = 4) -> str:
    """"A (allowed by X); B (allowed by Y)" for a message, at most `limit` items then "and N more"."""
    items = [f"{o.probe.text()} (allowed by {o.by})" for o in outcomes]
    more = len(items) - limit
    return "; ".join(items[:limit]) + (f"; and {more} more" if more > 0 else "")


def exec_context(facts: Mapping[str, Any], inv: AccountInventory) -> dict[str, Any]:
    """The context SageMaker's requests carry when the model downloads its artifact from inside the VPC."""
    ctx: dict[str, Any] = {"aws:SourceVpc": facts["vpc_id"], "aws:PrincipalAccount": inv.account_id}
    gw = [e for e in vpc_endpoints(inv, facts, facts["s3_service_name"], "Gateway")]
    if gw:
        ctx["aws:SourceVpce"] = gw[0].get("VpcEndpointId")
    return ctx


# ------------------------------------------------------------------------------------------------ SageMaker


@dataclass(frozen=True)
class Chain:
    """The lab's endpoint, its configuration and the models its variants run."""

    endpoint: Record | None
    config: Record | None
    models: tuple[Record, ...]
    missing: tuple[str, ...]  # what the chain references but the inventory does not hold


def chain(inv: AccountInventory, facts: Mapping[str, Any]) -> Chain:
    name = str(facts["endpoint_name"])
    ep = next((e for e in inv.sagemaker.endpoints if e.get("EndpointName") == name), None)
    if ep is None:
        return Chain(None, None, (), ())
    cfg_name = ep.get("EndpointConfigName")
    cfg = next((c for c in inv.sagemaker.endpoint_configs if c.get("EndpointConfigName") == cfg_name), None)
    if cfg is None:
        return Chain(ep, None, (), (f"endpoint config {cfg_name}",))
    models, missing = [], []
    for v in cfg.get("ProductionVariants", []) or []:
        m = next((x for x in inv.sagemaker.models if x.get("ModelName") == v.get("ModelName")), None)
        if m is None:
            missing.append(f"model {v.get('ModelName')}")
        else:
            models.append(m)
    return Chain(ep, cfg, tuple(models), tuple(missing))


def model_subnets(ch: Chain) -> list[str]:
    out: list[str] = []
    for m in ch.models:
        for s in (m.get("VpcConfig") or {}).get("Subnets", []) or []:
            if s not in out:
                out.append(str(s))
    return out


def model_groups(inv: AccountInventory, ch: Chain) -> list[str]:
    """The security groups the model's interfaces carry (the VPC's default group when VpcConfig names none)."""
    out: list[str] = []
    net = model_of(inv)
    for m in ch.models:
        vc = m.get("VpcConfig") or {}
        groups = list(vc.get("SecurityGroupIds", []) or [])
        if not groups and vc.get("Subnets"):
            sn = net.subnets.get(str(vc["Subnets"][0]))
            default = net.vpc_default_sg.get(sn.vpc_id) if sn else None
            groups = [default] if default else []
        for g in groups:
            if g not in out:
                out.append(str(g))
    return out


def endpoint_missing_params(facts: Mapping[str, Any]) -> dict[str, Any]:
    return {"endpoint": facts["endpoint_name"], "config": facts["endpoint_config_name"], "model": facts["model_name"]}


# ------------------------------------------------------------------------------------------------ network


def vpc_endpoints(inv: AccountInventory, facts: Mapping[str, Any], service: str, kind: str) -> list[Record]:
    return [e for e in inv.ec2.vpc_endpoints
            if e.get("VpcId") == facts["vpc_id"] and e.get("ServiceName") == service
            and e.get("VpcEndpointType") == kind and str(e.get("State", "available")).lower()
            not in ("deleted", "deleting", "failed", "rejected")]


def internet_rules(inv: AccountInventory, group_ids: Iterable[str]) -> list[dict[str, Any]]:
    """Inbound rules of `group_ids` whose sources include any internet address (IPv4 or IPv6), exactly as written."""
    net = model_of(inv)
    found = []
    for gid in group_ids:
        sg = net.security_groups.get(gid)
        if sg is None:
            continue
        for r in sg.ingress:
            for family, addrs, texts in ((4, r.addrs4, r.cidrs4 + r.prefix_lists), (6, r.addrs6, r.cidrs6)):
                if addrs and addrs.intersect(internet(family)):
                    ports = "all traffic" if r.protocol == "-1" else (
                        f"{r.protocol}/{r.from_port}" if r.from_port == r.to_port else
                        f"{r.protocol}/{r.from_port}-{r.to_port}")
                    found.append({"security_group": gid, "ports": ports,
                                  "sources": [t for t in texts if _overlaps_internet(t, family, addrs)] or list(texts)})
    return found


def _overlaps_internet(text: str, family: int, fallback: AddrSet) -> bool:
    one = AddrSet.of_cidrs(family, [text]) if "/" in text else fallback
    return bool(one.intersect(internet(family)))


def port_text(entry: Mapping[str, Any]) -> str:
    if entry["from"] == 0 and entry["to"] == 65535:
        return f"{entry['protocol']} all ports"
    if entry["from"] == entry["to"]:
        return f"{entry['protocol']}/{entry['from']}"
    return f"{entry['protocol']}/{entry['from']}-{entry['to']}"


def other_subnet_access(exposure: Mapping[str, Any], allowed_subnet: str,
                        allowed_groups: Iterable[str]) -> list[dict[str, Any]]:
    """Subnets other than `allowed_subnet` from which the destination is reachable, except where reaching it
    requires carrying one of `allowed_groups` (an SG-to-SG rule naming the application's group)."""
    ok_groups = set(allowed_groups)
    out = []
    for s in exposure.get("subnets", []) or []:
        if s.get("subnet") == allowed_subnet:
            continue
        ports = [e for e in s.get("ports", []) if e.get("any_workload")
                 or not set(e.get("requires_security_groups") or []) <= ok_groups]
        if ports:
            out.append({"subnet": s["subnet"], "cidr": s.get("cidr"), "name": s.get("name"),
                        "ports": [port_text(e) for e in ports]})
    return out


def subnet_text(items: Sequence[Mapping[str, Any]], limit: int = 3) -> str:
    parts = [f"{i['subnet']}{' (' + str(i['name']) + ')' if i.get('name') else ''} {i.get('cidr')} on "
             f"{', '.join(i['ports'])}" for i in items[:limit]]
    more = len(items) - limit
    return "; ".join(parts) + (f"; and {more} more" if more > 0 else "")


def rule_text(rules: Sequence[Mapping[str, Any]], limit: int = 3) -> str:
    parts = [f"{r['security_group']} admits {r['ports']} from {', '.join(r['sources'])}" for r in rules[:limit]]
    more = len(rules) - limit
    return "; ".join(parts) + (f"; and {more} more" if more > 0 else "")


# ------------------------------------------------------------------------------------------------ audit


def session_issuer(event: Mapping[str, Any]) -> str | None:
    """The role ARN behind an AssumedRole caller of a CloudTrail event, else None."""
    ident = event.get("userIdentity") or {}
    if ident.get("type") != "AssumedRole":
        return None
    issuer = ((ident.get("sessionContext") or {}).get("sessionIssuer") or {}).get("arn")
    if issuer:
        return str(issuer)
    arn = str(ident.get("arn") or "")
    if ":assumed-role/" in arn:
        acct = arn.split(":")[4]
        return f"arn:aws:iam::{acct}:role/{arn.split(':assumed-role/')[1].split('/')[0]}"
    return None


def is_learner(event: Mapping[str, Any]) -> bool:
    """A call the learner made with their own credentials (not seclab's, not a role session)."""
    ident = event.get("userIdentity") or {}
    return str(ident.get("type")) in ("IAMUser", "Root")


# ------------------------------------------------------------------------------------------------ memo


_EXPOSURE: dict[tuple[int, str, int | None], tuple[Any, dict[str, Any]]] = {}


def exposure_of(inv: AccountInventory, destination: Mapping[str, Any], port: int | None = None) -> dict[str, Any]:
    """The network engine's exposure answer, computed once per inventory snapshot (several checks ask it)."""
    import json
    import weakref

    from seclab.engines.net import exposure

    key = (id(inv), json.dumps(dict(destination), sort_keys=True), port)
    hit = _EXPOSURE.get(key)
    if hit is not None and hit[0]() is inv:
        return hit[1]
    answer = exposure(inv, destination, port)
    _EXPOSURE[key] = (weakref.ref(inv, lambda _r, k=key: _EXPOSURE.pop(k, None)), answer)
    return answer



# ------------------------------------------------------------------ preambles shared by the checks


def endpoint_chain(ctx: Any) -> tuple[Chain, Any]:
    """The endpoint -> config -> models chain, and the FAIL finding to return when part of it is not built yet
    (None when the chain is complete)."""
    f, inv = ctx.facts, ctx.inventory
    ch = chain(inv, f)
    if ch.endpoint is None:
        return ch, ctx.fail("endpoint_missing", **endpoint_missing_params(f))
    if ch.missing:
        return ch, ctx.fail("chain_broken", endpoint=f["endpoint_name"], missing=", ".join(ch.missing))
    return ch, None


def execution_role(ctx: Any, fact: str = "execution_role_name") -> tuple[Any, Any, Any]:
    """The role named by `fact`, its policies, and the finding to return instead (role missing: FAIL; an attached
    policy we cannot read: ERROR, so unreadable permissions never turn into a free PASS)."""
    inv = ctx.inventory
    name = str(ctx.facts[fact])
    role = inv.iam.role(name)
    if role is None:
        return None, None, ctx.fail("role_missing", role=name, account=inv.account_id)
    rp = role_policies(inv, role)
    if rp.missing_managed:
        return role, rp, ctx.error("policy_unreadable", role=name, policies=", ".join(rp.missing_managed))
    return role, rp, None
