"""Reachability: can a connection from SRC reach DST on protocol/port, and if not, what blocks it?

How (after Tiros / VPC Reachability Analyzer): a candidate path is a fixed sequence of components, each of which
admits a set of source or destination addresses (security groups, network ACLs, route tables, gateways, peering,
transit gateways, endpoints). The connection is reachable when some address pair survives every component, in both
directions for the stateless parts (NACLs and routes carry the reply too). When it does not, every component that
refuses is listed, not only the first: a learner fixing one problem at a time would otherwise go round in circles.
A component that refuses leaves the address set as it was, so later components are judged on their own merits.

Candidates are the combinations of the ends' placements (a SageMaker endpoint in two subnets is two placements) and
address families (IPv4, and IPv6 where both ends have IPv6); the answer is the first reachable candidate, or the one
with the fewest blockers (IPv4 first on ties).

Semantics worth knowing:
- A workload named by subnet + security groups has some address of the subnet; it has a public IPv4 exactly when
  the subnet's MapPublicIpOnLaunch is true, and IPv6 when the subnet has an IPv6 block and assigns IPv6 on launch.
  Without security groups it carries the VPC's default group, as an instance launched without one does.
- NACLs do not apply between two workloads of the same subnet. Replies go to the client's ephemeral port: a NACL
  passes them when it allows every port of a client range (32768-60999 Linux, 49152-65535 Windows; AWS
  recommends allowing 1024-65535).
- Protocol "-1" asks whether all traffic is admitted: only rules (and NACL entries) that cover all traffic count.
- A source on the internet is any public address (RFC 6890 special-purpose blocks excluded); {"ip": ...} is one.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from seclab.errors import EvaluationError, InputError, NotFound

from .addrs import AddrSet, describe, internet, parse_address
from .model import (
    EPHEMERAL,
    AclEntry,
    Eni,
    NetModel,
    NetworkAcl,
    PrefixList,
    RouteTable,
    SecurityGroup,
    SgRule,
    SmEndpoint,
    Subnet,
    Vpc,
    VpcEndpoint,
    model_of,
    norm_protocol,
)

KINDS = ("security_group", "network_acl", "route_table", "internet_gateway", "no_public_address", "vpc_peering",
         "transit_gateway", "vpc_endpoint")


_T = TypeVar("_T")


def _narrowed(current: _T, narrowed: _T | None) -> _T:
    """A check that lets only part of the traffic through returns that part; None means "all of it passes"."""
    return current if narrowed is None else narrowed


class UnknownComponent(NotFound):
    """A query names an id the inventory does not hold."""

    def __init__(self, kind: str, component_id: str, where: str = "") -> None:
        super().__init__(f"unknown {kind} '{component_id}'{(' ' + where) if where else ''}",
                         "Check the id (describe it with boto3) and the account you asked about (--account).")
        self.kind = kind
        self.component_id = component_id


# ----------------------------------------------------------------------------------------------- ends


@dataclass(frozen=True)
class Place:
    """One placement of a workload end: a subnet, the security groups it carries, its possible addresses."""

    kind: str  # subnet | eni | vpc_endpoint | sagemaker_endpoint
    label: str  # what the query named
    subnet: Subnet
    vpc: Vpc
    group_ids: tuple[str, ...]
    eni: Eni | None
    addrs4: AddrSet
    addrs6: AddrSet
    public_ip: str | None  # the public IPv4 (or "auto-assigned" for MapPublicIpOnLaunch)
    public_why: str
    detail: str
    open_egress: bool = False  # exposure's hypothetical source: its own egress rules are assumed to allow

    def addrs(self, family: int) -> AddrSet:
        return self.addrs4 if family == 4 else self.addrs6


@dataclass(frozen=True)
class Outside:
    """A source on the internet: every public address, or one."""

    label: str
    addrs4: AddrSet
    addrs6: AddrSet

    def addrs(self, family: int) -> AddrSet:
        return self.addrs4 if family == 4 else self.addrs6


@dataclass(frozen=True)
class GatewayTarget:
    """A gateway VPC endpoint as a destination: the service's addresses, reached through the route tables."""

    endpoint: VpcEndpoint
    prefix_list: PrefixList | None
    addrs4: AddrSet

    def addrs(self, family: int) -> AddrSet:
        return self.addrs4 if family == 4 else AddrSet.empty(6)


End = Place | Outside | GatewayTarget


@dataclass(frozen=True)
class Query:
    src: Mapping[str, Any]
    dst: Mapping[str, Any]
    port: int | None
    protocol: str  # tcp | udp | -1

    def traffic(self) -> str:
        return "all traffic" if self.protocol == "-1" else f"{self.protocol}/{self.port}"


def parse_query(query: Any) -> Query:
    """Validate a query document (a dict or a JSON string); malformed input is an InputError naming the field."""
    if isinstance(query, str):
        try:
            query = json.loads(query)
        except ValueError as exc:
            raise InputError(f"the query is not valid JSON: {exc}", 'Example: {"from": {"internet": true}, '
                             '"to": {"subnet": "subnet-...", "security_groups": ["sg-..."]}, "port": 443, '
                             '"protocol": "tcp"}') from None
    if not isinstance(query, Mapping):
        raise InputError("the query must be a JSON object with from, to, port and protocol")
    unknown = set(query) - {"from", "to", "port", "protocol"}
    if unknown:
        raise InputError(f"unknown query field(s): {', '.join(sorted(unknown))}", "Use from, to, port, protocol.")
    for key in ("from", "to"):
        if not isinstance(query.get(key), Mapping) or not query.get(key):
            raise InputError(f"the query needs '{key}' as an object",
                             'e.g. {"internet": true}, {"ip": "198.51.100.7"}, {"subnet": "subnet-...", '
                             '"security_groups": [...]}, {"eni": "eni-..."}')
    protocol = norm_protocol(query.get("protocol", "tcp"))
    if protocol not in ("tcp", "udp", "-1"):
        raise InputError(f"unsupported protocol {query.get('protocol')!r}", 'Use "tcp", "udp" or "-1".')
    port = query.get("port")
    bad_port = isinstance(port, bool) or not isinstance(port, int) or not 0 <= port <= 65535
    if (protocol != "-1" or port is not None) and bad_port:
        raise InputError(f"port must be an integer 0-65535, got {port!r}")
    return Query(query["from"], query["to"], port, protocol)


def _sg_list(model: NetModel, value: Any, vpc: Vpc, where: str) -> tuple[tuple[str, ...], bool]:
    if value is None or value == []:
        default = model.vpc_default_sg.get(vpc.id)
        return ((default,) if default else ()), True
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise InputError(f"security_groups of {where} must be a list of security-group ids")
    for gid in value:
        sg = model.security_groups.get(gid)
        if sg is None:
            raise UnknownComponent("security group", gid)
        if sg.vpc_id != vpc.id:
            raise InputError(f"security group {gid} belongs to {sg.vpc_id}, not to {vpc.id} of {where}",
                             "A workload can only carry security groups of its own VPC.")
    return tuple(dict.fromkeys(value)), False


def _subnet_place(model: NetModel, kind: str, label: str, subnet: Subnet, groups: tuple[str, ...], detail: str,
                  eni: Eni | None = None) -> Place:
    vpc = model.vpcs.get(subnet.vpc_id)
    if vpc is None:
        raise UnknownComponent("VPC", subnet.vpc_id, f"(of {subnet.id})")
    if eni is not None:
        ip = parse_address(eni.private_ip)
        # The simulator sometimes gives service-made interfaces an address outside their subnet: then only "some
        # address of the subnet" is known.
        in_subnet = ip is not None and subnet.cidr4 is not None and ip.version == 4 and ip in subnet.cidr4
        a4 = AddrSet.of_address(ip) if in_subnet and ip is not None else subnet.addr_set(4)
        a6 = AddrSet.of_cidrs(6, [f"{a}/128" for a in eni.ipv6])
        public = model.eni_public.get(eni.id)
        why = f"{eni.id} has the public address {public}" if public else f"{eni.id} has no public IPv4 address"
    else:
        a4 = subnet.addr_set(4)
        a6 = subnet.addr_set(6) if subnet.assign_ipv6 else AddrSet.empty(6)
        public = "auto-assigned" if subnet.map_public_ip else None
        why = (f"{subnet.id} maps a public IPv4 on launch (MapPublicIpOnLaunch)" if public else
               f"{subnet.id} does not map public IPv4 addresses on launch (MapPublicIpOnLaunch is false)")
    return Place(kind, label, subnet, vpc, groups, eni, a4, a6, public, why, detail)


def _eni_place(model: NetModel, eni_id: Any, kind: str = "eni", label: str | None = None) -> Place:
    eni = model.enis.get(str(eni_id))
    if eni is None:
        raise UnknownComponent("network interface", str(eni_id))
    subnet = model.subnets.get(eni.subnet_id)
    if subnet is None:
        raise UnknownComponent("subnet", eni.subnet_id, f"(of {eni.id})")
    return _subnet_place(model, kind, label or eni.id, subnet, eni.group_ids,
                         f"{eni.id} in {subnet.id} ({eni.private_ip or 'no private IP'})", eni)


def _workload(model: NetModel, spec: Mapping[str, Any], where: str) -> Place:
    sid = spec.get("subnet")
    if not isinstance(sid, str):
        raise InputError(f"{where}: subnet must be a subnet id")
    subnet = model.subnets.get(sid)
    if subnet is None:
        raise UnknownComponent("subnet", sid)
    vpc = model.vpcs.get(subnet.vpc_id)
    if vpc is None:
        raise UnknownComponent("VPC", subnet.vpc_id, f"(of {sid})")
    groups, defaulted = _sg_list(model, spec.get("security_groups"), vpc, sid)
    detail = f"a workload in {sid} ({subnet.cidr_text}) with {', '.join(groups) or 'no security group'}"
    if defaulted:
        detail += " (no security groups named: the VPC's default group, as at launch)"
    return _subnet_place(model, "subnet", sid, subnet, groups, detail)


def resolve_source(model: NetModel, spec: Mapping[str, Any]) -> list[End]:
    keys = set(spec)
    if spec.get("internet") is True and keys == {"internet"}:
        return [Outside("internet", internet(4), internet(6))]
    if keys == {"ip"}:
        addr = parse_address(spec["ip"] if isinstance(spec["ip"], str) else None)
        if addr is None:
            raise InputError(f"from.ip must be an IP address, got {spec['ip']!r}")
        if not internet(addr.version).contains_address(int(addr)):
            raise InputError(f"{addr} is not an internet address (it is private or reserved)",
                             "Name a source inside your VPCs by subnet + security_groups or by eni.")
        one = AddrSet.of_address(addr)
        return [Outside(str(addr), one if addr.version == 4 else AddrSet.empty(4),
                        one if addr.version == 6 else AddrSet.empty(6))]
    if keys <= {"subnet", "security_groups"} and "subnet" in keys:
        return [_workload(model, spec, "from")]
    if keys == {"eni"}:
        return [_eni_place(model, spec["eni"])]
    raise InputError(f"unsupported source {json.dumps(spec, default=str)}",
                     'Use {"internet": true}, {"ip": "..."}, {"subnet": ..., "security_groups": [...]} or '
                     '{"eni": ...}.')


@dataclass(frozen=True)
class Destination:
    ends: tuple[Place | GatewayTarget, ...]
    hops: tuple[dict[str, Any], ...] = ()  # what the destination is, before the path
    blockers: tuple[dict[str, Any], ...] = ()  # blockers of the destination itself (e.g. endpoint not available)
    in_vpc: bool = True
    notes: tuple[str, ...] = ()
    label: str = ""


def _service_prefix_list(model: NetModel, ep: VpcEndpoint) -> PrefixList | None:
    for pl in model.prefix_lists.values():
        if pl.name == ep.service:
            return pl
    rt_pls = {r.destination for rt_id in ep.route_table_ids if rt_id in model.route_tables
              for r in model.route_tables[rt_id].routes if r.target_id == ep.id and r.destination.startswith("pl-")}
    for pl_id in rt_pls:
        if pl_id in model.prefix_lists:
            return model.prefix_lists[pl_id]
    return None


def resolve_destination(model: NetModel, spec: Mapping[str, Any]) -> Destination:
    keys = set(spec)
    if keys <= {"subnet", "security_groups"} and "subnet" in keys:
        p = _workload(model, spec, "to")
        return Destination((p,), label=p.label)
    if keys == {"eni"}:
        p = _eni_place(model, spec["eni"])
        return Destination((p,), label=p.label)
    if keys == {"vpc_endpoint"}:
        ep = model.vpc_endpoints.get(str(spec["vpc_endpoint"]))
        if ep is None:
            raise UnknownComponent("VPC endpoint", str(spec["vpc_endpoint"]))
        return _endpoint_destination(model, ep)
    if keys == {"sagemaker_endpoint"}:
        name = str(spec["sagemaker_endpoint"])
        sm = model.sagemaker_endpoints.get(name)
        if sm is None and model.sagemaker_errors:
            raise EvaluationError(f"SageMaker endpoint {name!r} could not be looked up: the SageMaker inventory is "
                                  f"incomplete ({'; '.join(model.sagemaker_errors)})", "Retry; is the simulator up?")
        if sm is None:
            raise UnknownComponent("SageMaker endpoint", name)
        return _sagemaker_destination(model, sm)
    raise InputError(f"unsupported destination {json.dumps(spec, default=str)}",
                     'Use {"subnet": ..., "security_groups": [...]}, {"eni": ...}, {"vpc_endpoint": ...} or '
                     '{"sagemaker_endpoint": NAME}.')


def _policy_allows_nothing(policy: Any) -> bool:
    if not isinstance(policy, Mapping):
        return False
    stmts = policy.get("Statement")
    stmts = [stmts] if isinstance(stmts, Mapping) else stmts or []
    allows = [s for s in stmts if isinstance(s, Mapping) and s.get("Effect") == "Allow"]
    deny_all = any(isinstance(s, Mapping) and s.get("Effect") == "Deny" and s.get("Principal") in ("*", {"AWS": "*"})
                   and s.get("Action") in ("*", ["*"]) and s.get("Resource") in ("*", ["*"]) and not s.get("Condition")
                   for s in stmts)
    return not allows or deny_all


def _policy_text(policy: Any) -> str:
    if policy is None:
        return "no endpoint policy (full access)"
    if _policy_allows_nothing(policy):
        return "its endpoint policy allows nothing"
    stmts = policy.get("Statement") if isinstance(policy, Mapping) else None
    stmts = [stmts] if isinstance(stmts, Mapping) else stmts or []
    if any(isinstance(s, Mapping) and s.get("Effect") == "Allow" and s.get("Action") in ("*", ["*"])
           and s.get("Resource") in ("*", ["*"]) and s.get("Principal") in ("*", {"AWS": "*"})
           and not s.get("Condition") for s in stmts):
        return "its endpoint policy allows full access"
    return "its endpoint policy restricts which principals, actions and resources may use it (IAM-level)"


def _endpoint_destination(model: NetModel, ep: VpcEndpoint) -> Destination:
    blockers: list[dict[str, Any]] = []
    if ep.state.lower() not in ("available", "pendingacceptance", "pending"):
        blockers.append(_blocker(ep.id, "vpc_endpoint", f"VPC endpoint {ep.id} is {ep.state}, not available."))
    if _policy_allows_nothing(ep.policy):
        blockers.append(_blocker(ep.id, "vpc_endpoint",
                                 f"The endpoint policy of {ep.id} allows nothing, so every request through it is "
                                 f"denied."))
    if ep.type == "Gateway":
        pl = _service_prefix_list(model, ep)
        addrs = AddrSet.of_cidrs(4, pl.cidrs) if pl and pl.cidrs else internet(4)
        hop = _hop(ep.id, "vpc_endpoint",
                   f"gateway endpoint for {ep.service} in {ep.vpc_id}, on route tables "
                   f"{', '.join(ep.route_table_ids) or '(none)'}; {_policy_text(ep.policy)}")
        return Destination((GatewayTarget(ep, pl, addrs),), (hop,), tuple(blockers), label=ep.id)
    ends: list[Place] = []
    for sid in ep.subnet_ids:
        subnet = model.subnets.get(sid)
        if subnet is None:
            continue
        eni = next((model.enis[e] for e in ep.eni_ids if e in model.enis and model.enis[e].subnet_id == sid), None)
        groups = ep.group_ids or ((model.vpc_default_sg[ep.vpc_id],) if ep.vpc_id in model.vpc_default_sg else ())
        p = _subnet_place(model, "vpc_endpoint", ep.id, subnet, groups,
                          f"interface of {ep.id} in {sid} with {', '.join(groups) or 'no security group'}", None)
        if eni is not None:
            ip = parse_address(eni.private_ip)
            if ip is not None and subnet.cidr4 is not None and ip.version == 4 and ip in subnet.cidr4:
                p = Place(p.kind, p.label, p.subnet, p.vpc, p.group_ids, eni, AddrSet.of_address(ip), p.addrs6,
                          None, f"{ep.id} has only private addresses", p.detail)
            else:
                p = Place(p.kind, p.label, p.subnet, p.vpc, p.group_ids, eni, p.addrs4, p.addrs6, None,
                          f"{ep.id} has only private addresses", p.detail)
        else:
            p = Place(p.kind, p.label, p.subnet, p.vpc, p.group_ids, None, p.addrs4, p.addrs6, None,
                      f"{ep.id} has only private addresses", p.detail)
        ends.append(p)
    dns = ("private DNS on: the service's default name resolves to this endpoint inside the VPC"
           if ep.private_dns else "private DNS off: clients must use the endpoint's own DNS names")
    hop = _hop(ep.id, "vpc_endpoint", f"interface endpoint for {ep.service} in {ep.vpc_id}; {dns}; "
                                      f"{_policy_text(ep.policy)}")
    if not ends:
        blockers.append(_blocker(ep.id, "vpc_endpoint", f"Interface endpoint {ep.id} has no subnet, so no network "
                                                        f"interface to connect to."))
    return Destination(tuple(ends), (hop,), tuple(blockers), label=ep.id)


def _sagemaker_destination(model: NetModel, sm: SmEndpoint) -> Destination:
    ends: list[Place] = []
    notes: list[str] = []
    outside = [v.model_name for v in sm.variants if not v.subnets]
    for v in sm.variants:
        if not v.model_found:
            notes.append(f"model {v.model_name} of variant {v.variant} is not in the inventory")
        for sid in v.subnets:
            subnet = model.subnets.get(sid)
            if subnet is None:
                raise UnknownComponent("subnet", sid, f"(VpcConfig of model {v.model_name})")
            vpc = model.vpcs.get(subnet.vpc_id)
            groups = tuple(g for g in v.group_ids if g in model.security_groups)
            if vpc is not None and not groups and subnet.vpc_id in model.vpc_default_sg:
                groups = (model.vpc_default_sg[subnet.vpc_id],)
            p = _subnet_place(model, "sagemaker_endpoint", sm.name, subnet, groups,
                              f"model {v.model_name} (variant {v.variant}) in {sid} with {', '.join(groups)}")
            # SageMaker never gives model containers a public address, whatever the subnet maps on launch.
            ends.append(Place(p.kind, p.label, p.subnet, p.vpc, p.group_ids, None, p.addrs4, p.addrs6, None,
                              f"SageMaker model containers in {sid} get private addresses only", p.detail))
    hop = _hop(sm.name, "sagemaker_endpoint",
               f"SageMaker endpoint {sm.name} ({sm.status or 'status unknown'}), config {sm.config_name}, placed in "
               + (", ".join(sorted({p.subnet.id for p in ends})) if ends else "no subnet of yours"))
    if outside:
        notes.append(
            f"model(s) {', '.join(outside)} have no VpcConfig: their containers run in SageMaker's own network, "
            f"not in any VPC of yours, so no VPC path leads to them (callers reach the endpoint only through the "
            f"SageMaker Runtime API, authorized by IAM)")
    return Destination(tuple(ends), (hop,), (), in_vpc=bool(ends), notes=tuple(notes), label=sm.name)


# ----------------------------------------------------------------------------------------------- hops


def _hop(component: str, kind: str, detail: str, ok: bool = True) -> dict[str, Any]:
    return {"component": component, "kind": kind, "detail": detail, "ok": ok}


def _blocker(component: str, kind: str, reason: str) -> dict[str, Any]:
    return {"component": component, "kind": kind, "reason": reason}


@dataclass
class Candidate:
    """One evaluated path: its hops, its blockers and what the probe needs to know about where it stopped."""

    family: int
    src: End
    dst: Place | GatewayTarget
    hops: list[dict[str, Any]] = field(default_factory=list)
    blockers: list[dict[str, Any]] = field(default_factory=list)
    src_addrs: AddrSet = AddrSet.empty(4)
    dst_addrs: AddrSet = AddrSet.empty(4)
    stages: dict[str, bool] = field(default_factory=dict)

    def ok(self, component: str, kind: str, detail: str) -> None:
        self.hops.append(_hop(component, kind, detail))

    def block(self, component: str, kind: str, reason: str, stage: str) -> None:
        self.hops.append(_hop(component, kind, reason, ok=False))
        if not any(b["component"] == component and b["kind"] == kind and b["reason"] == reason
                   for b in self.blockers):
            self.blockers.append(_blocker(component, kind, reason))
        self.stages[stage] = False

    @property
    def reachable(self) -> bool:
        return not self.blockers


# ----------------------------------------------------------------------------------------------- rule evaluation


# The ephemeral port ranges clients pick from: Linux, and Windows/IANA. Replies pass a NACL when every port of at
# least one of them is allowed (AWS recommends allowing 1024-65535, which covers both).
CLIENT_RANGES = ((32768, 60999), (49152, 65535))

Decision = tuple[AclEntry | None, AddrSet, tuple[int, int] | None, bool]


def nacl_allowed(acl: NetworkAcl, egress: bool, addrs: AddrSet, protocol: str, ports: tuple[int, int] | None,
                 reply: bool = False) -> tuple[AddrSet, list[Decision]]:
    """First match wins, in ascending rule number, over (remote address x port) regions; what no entry matches
    falls to the implicit deny. Returns the remote addresses that pass, and the decisions taken (entry or None
    for the implicit deny, the addresses and ports it decided, allowed?). For a request, `ports` is the one
    destination port; for a reply (`reply`), an address passes when every port of some client range is allowed."""
    entries = acl.outbound if egress else acl.inbound
    regions: list[tuple[AddrSet, tuple[int, int] | None]] = [(addrs, ports if protocol != "-1" else None)]
    decisions: list[Decision] = []
    for e in entries:
        if not regions:
            break
        if e.addrs.family != addrs.family:
            continue
        pr = e.port_range(protocol)
        if pr is None:
            continue
        nxt: list[tuple[AddrSet, tuple[int, int] | None]] = []
        for a, p in regions:
            rest_ports: list[tuple[int, int]] = []
            hit_ports = p
            if p is not None:
                lo, hi = max(p[0], pr[0]), min(p[1], pr[1])
                if lo > hi:
                    nxt.append((a, p))
                    continue
                hit_ports = (lo, hi)
                if p[0] < lo:
                    rest_ports.append((p[0], lo - 1))
                if hi < p[1]:
                    rest_ports.append((hi + 1, p[1]))
            hit = a.intersect(e.addrs)
            if not hit:
                nxt.append((a, p))
                continue
            decisions.append((e, hit, hit_ports, e.allow))
            rest = a.subtract(e.addrs)
            if rest:
                nxt.append((rest, p))
            nxt.extend((hit, rp) for rp in rest_ports)
        regions = nxt
    for a, p in regions:
        decisions.append((None, a, p, False))
    if not reply or protocol == "-1":
        allowed = AddrSet.empty(addrs.family)
        for _e, a, _p, ok in decisions:
            if ok:
                allowed = allowed.union(a)
        return allowed, decisions
    allowed = AddrSet.empty(addrs.family)
    for lo, hi in CLIENT_RANGES:
        denied = AddrSet.empty(addrs.family)
        for _e, a, p, ok in decisions:
            if not ok and p is not None and p[0] <= hi and lo <= p[1]:
                denied = denied.union(a)
        allowed = allowed.union(addrs.subtract(denied))
    return allowed, decisions


def sg_allowed(groups: list[SecurityGroup], egress: bool, protocol: str, port: int | None, peer: AddrSet,
               peer_groups: frozenset[str], peer_pls: frozenset[str] = frozenset()) -> AddrSet:
    """The peer addresses the groups' rules admit. A rule naming a group the peer carries (or a prefix list the
    peer is) admits the whole peer; a CIDR rule admits the part of the peer inside it."""
    allowed = AddrSet.empty(peer.family)
    for sg in groups:
        for rule in sg.egress if egress else sg.ingress:
            if not rule.covers(protocol, port):
                continue
            if (peer_groups and set(rule.groups) & peer_groups) or (peer_pls and set(rule.prefix_lists) & peer_pls):
                return peer
            part = peer.intersect(rule.addrs4 if peer.family == 4 else rule.addrs6)
            if part:
                allowed = allowed.union(part)
    return allowed


def _rules_text(rules: tuple[SgRule, ...], egress: bool) -> str:
    if not rules:
        return "it has no " + ("outbound" if egress else "inbound") + " rules"
    word = "to" if egress else "from"
    parts = [f"{r.ports_text()} {word} {r.peers_text()}" for r in rules[:4]]
    more = f" and {len(rules) - 4} more" if len(rules) > 4 else ""
    return "its " + ("outbound" if egress else "inbound") + " rules allow " + "; ".join(parts) + more


# ----------------------------------------------------------------------------------------------- the evaluator


class Evaluator:
    """Evaluates candidate paths for one protocol/port over one model."""

    def __init__(self, model: NetModel, protocol: str, port: int | None) -> None:
        self.m = model
        self.protocol = protocol
        self.port = port
        self.traffic = "all traffic" if protocol == "-1" else f"{protocol}/{port}"
        self.ret_ports: tuple[int, int] | None = EPHEMERAL if protocol != "-1" else None

    # ------------------------------------------------------------------ helpers

    def _groups(self, ids: tuple[str, ...]) -> list[SecurityGroup]:
        return [self.m.security_groups[g] for g in ids if g in self.m.security_groups]

    def _rt(self, subnet: Subnet) -> RouteTable | None:
        rid = self.m.subnet_route_table.get(subnet.id)
        return self.m.route_tables.get(rid) if rid else None

    def _acl(self, subnet: Subnet) -> NetworkAcl | None:
        aid = self.m.subnet_acl.get(subnet.id)
        return self.m.network_acls.get(aid) if aid else None

    def _rt_label(self, rt: RouteTable, subnet: Subnet) -> str:
        how = "explicitly associated with" if subnet.id in rt.subnet_ids else "the main table of its VPC, used by"
        return f"route table {rt.id} ({how} {subnet.id})"

    # ------------------------------------------------------------------ components

    def check_acl(self, c: Candidate, place: Place, egress: bool, remote: AddrSet, reply: bool, remote_text: str,
                  stage: str) -> AddrSet | None:
        acl = self._acl(place.subnet)
        if acl is None:
            c.block(place.subnet.id, "network_acl", f"Subnet {place.subnet.id} has no network ACL in the inventory, "
                                                    f"so its traffic cannot be evaluated.", stage)
            return None
        ports = self.ret_ports if reply else ((self.port, self.port) if self.port is not None else None)
        allowed, decisions = nacl_allowed(acl, egress, remote, self.protocol, ports, reply)
        direction = "outbound" if egress else "inbound"
        what = (f"replies ({self.protocol} to the client's ephemeral ports, {EPHEMERAL[0]}-{EPHEMERAL[1]})"
                if reply and self.ret_ports else "replies" if reply else self.traffic)
        word = "to" if egress else "from"
        if allowed:
            rule = next((e for e, _a, _p, ok in decisions if ok and e is not None), None)
            extra = " (a rule AWS adds to default ACLs of IPv6 VPCs)" if rule is not None and rule.synthetic else ""
            c.ok(acl.id, "network_acl", f"network ACL {acl.id} of {place.subnet.id} admits {direction} {what} "
                                        f"{word} {describe(allowed)} ({rule.text() if rule else 'allowed'}{extra})")
            return allowed
        denies: list[str] = []
        partial: list[str] = []
        for e, _a, _p, ok in decisions:
            text = e.text() if e is not None else "no rule matches the rest, so the final * rule denies it"
            bucket = partial if ok else denies
            if text not in bucket:
                bucket.append(text)
        if not decisions:
            denies.append("no rule matches, so the final * rule denies it")
        if partial:  # e.g. a reply rule that opens a few ports, not a whole client range
            denies.insert(0, f"{'; '.join(partial[:2])} (not enough)")
        c.block(acl.id, "network_acl",
                f"Network ACL {acl.id} of {place.subnet.id} blocks {direction} {what} {word} {remote_text}: "
                f"{'; '.join(denies[:3])}.", stage)
        return None

    def check_sg(self, c: Candidate, place: Place, egress: bool, remote: AddrSet, remote_text: str,
                 peer_groups: frozenset[str], peer_pls: frozenset[str], stage: str,
                 refs_note: str = "") -> AddrSet | None:
        groups = self._groups(place.group_ids)
        direction = "outbound" if egress else "inbound"
        word = "to" if egress else "from"
        if not groups:
            c.block(place.label, "security_group",
                    f"{place.label} carries no security group the inventory knows, so nothing is admitted.", stage)
            return None
        allowed = sg_allowed(groups, egress, self.protocol, self.port, remote, peer_groups, peer_pls)
        if allowed:
            admitting = [g.id for g in groups
                         if sg_allowed([g], egress, self.protocol, self.port, remote, peer_groups, peer_pls)]
            c.ok(",".join(admitting), "security_group",
                 f"security group {', '.join(admitting)} admits {direction} {self.traffic} {word} {describe(allowed)}")
            return allowed
        for g in groups:
            rules = g.egress if egress else g.ingress
            covering = [r for r in rules if r.covers(self.protocol, self.port)]
            if covering:
                peers = "; ".join(r.peers_text() for r in covering[:4])
                reason = (f"Security group {g.id} ({g.name}) admits {direction} {self.traffic} only {word} {peers}, "
                          f"which does not include {remote_text}")
                if any(r.groups for r in covering):
                    reason += refs_note or (" (a group reference matches only workloads that carry that group)")
            else:
                reason = (f"Security group {g.id} ({g.name}) has no {direction} rule for {self.traffic} "
                          f"({_rules_text(rules, egress)})")
            c.block(g.id, "security_group", reason + ".", stage)
        return None

    def route_internet_return(self, c: Candidate, place: Place, remote: AddrSet) -> AddrSet | None:
        """Replies to an internet source must leave through an internet gateway attached to the VPC."""
        rt = self._rt(place.subnet)
        fam = "0.0.0.0/0" if c.family == 4 else "::/0"
        if rt is None:
            c.block(place.subnet.id, "route_table", f"Subnet {place.subnet.id} has no route table in the inventory.",
                    "returned")
            return None
        label = self._rt_label(rt, place.subnet)
        igws = {g for g in self.m.vpc_gateways.get(place.vpc.id, ()) if self.m.gateways[g].kind == "igw"}
        pieces = rt.lookup(remote)
        ok = AddrSet.empty(c.family)
        used = []
        for part, route in pieces:
            if route.state == "active" and route.target_kind == "igw" and route.target_id in igws:
                ok = ok.union(part)
                used.append(route)
        if ok:
            c.ok(rt.id, "route_table", f"{label} routes {', '.join(r.destination for r in used)} to "
                                       f"{used[0].target_id}, so replies reach the internet")
            return ok
        reasons = []
        for _part, route in pieces:
            if route.target_kind == "nat":
                reasons.append(f"it sends {route.destination} to NAT gateway {route.target_id}, which only carries "
                               f"connections started inside the VPC")
            elif route.target_kind == "eigw":
                reasons.append(f"it sends {route.destination} to egress-only internet gateway {route.target_id}, "
                               f"which admits no connection from the internet")
            elif route.state != "active":
                reasons.append(f"its route {route.destination} -> {route.target_id} is a blackhole")
            elif route.target_kind == "igw":
                reasons.append(f"it sends {route.destination} to {route.target_id}, which is not attached to "
                               f"{place.vpc.id}")
            elif route.target_kind != "local":
                reasons.append(f"it sends {route.destination} to {route.target_id}, not to an internet gateway")
        if not reasons:
            reasons.append(f"it has no route for internet addresses ({fam}) to an internet gateway, only "
                           + (", ".join(sorted({r.destination for r in rt.routes if r.family == c.family}))
                              or "no route") + f": {place.subnet.id} is a private subnet")
        c.block(rt.id, "route_table", f"The {label} cannot carry traffic to and from the internet: "
                                      f"{'; '.join(dict.fromkeys(reasons))}.", "returned")
        return None

    def route_between(self, c: Candidate, place: Place, to: Place, addrs: AddrSet, stage: str) -> AddrSet | None:
        """Route from `place`'s subnet towards `to` (a workload of the same or another VPC)."""
        rt = self._rt(place.subnet)
        if rt is None:
            c.block(place.subnet.id, "route_table", f"Subnet {place.subnet.id} has no route table in the inventory.",
                    stage)
            return None
        label = self._rt_label(rt, place.subnet)
        dst_text = f"{describe(addrs)} ({to.subnet.id} in {to.vpc.id})"
        pieces = rt.lookup(addrs)
        ok = AddrSet.empty(addrs.family)
        oks: list[str] = []
        problems: list[tuple[str, str, str]] = []  # (component, kind, reason)
        for part, route in pieces:
            if route.state != "active":
                problems.append((rt.id, "route_table", f"The {label} sends {dst_text} to {route.target_id}, a "
                                                       f"blackhole route (its target no longer exists)."))
            elif place.vpc.id == to.vpc.id:
                if route.target_kind == "local":
                    ok = ok.union(part)
                    oks.append(f"{label}: the local route {route.destination} keeps the traffic inside {to.vpc.id}")
                else:
                    problems.append((rt.id, "route_table", f"The {label} sends {dst_text} to {route.target_id} "
                                                           f"instead of the local route."))
            elif route.target_kind == "pcx":
                pcx = self.m.peerings.get(route.target_id)
                if pcx is None:
                    problems.append((route.target_id, "vpc_peering",
                                     f"The {label} sends {dst_text} to peering connection {route.target_id}, which "
                                     f"is not in the inventory."))
                elif pcx.status != "active":
                    problems.append((pcx.id, "vpc_peering", f"Peering connection {pcx.id} is {pcx.status}, not "
                                                            f"active (the accepter must accept it)."))
                elif pcx.other(place.vpc.id) != to.vpc.id:
                    other = pcx.other(place.vpc.id)
                    problems.append((pcx.id, "vpc_peering",
                                     f"The {label} sends {dst_text} to {pcx.id}, which joins {place.vpc.id} with "
                                     f"{other or 'other VPCs'}, not with {to.vpc.id}: peering is not transitive, "
                                     f"traffic cannot pass through {other} to reach {to.vpc.id}."))
                else:
                    ok = ok.union(part)
                    oks.append(f"{label} sends {route.destination} over {pcx.id} (active peering "
                               f"{pcx.requester_vpc} <-> {pcx.accepter_vpc})")
            elif route.target_kind == "tgw":
                got, how = self._tgw_leg(route.target_id, place.vpc.id, to.vpc.id, part, problems)
                if got:
                    ok = ok.union(got)
                    oks.append(f"{label} sends {route.destination} to {route.target_id}; {how}")
            else:
                kind_text = {"igw": "internet gateway", "nat": "NAT gateway", "eigw": "egress-only gateway",
                             "vpce": "VPC endpoint", "local": "the local route"}.get(route.target_kind,
                                                                                      route.target_kind)
                problems.append((rt.id, "route_table",
                                 f"The {label} has no route to {dst_text}: it follows {route.destination} to "
                                 f"{kind_text} {route.target_id if route.target_kind != 'local' else ''}".rstrip()
                                 + f", which does not lead to {to.vpc.id}."))
        if ok:
            for text in oks:
                c.ok(rt.id, "route_table", text)
            return ok
        if not pieces:
            problems.append((rt.id, "route_table", f"The {label} has no route to {dst_text}."))
        for comp, kind, reason in problems:
            c.block(comp, kind, reason, stage)
        return None

    def _tgw_leg(self, tgw_id: str, from_vpc: str, to_vpc: str, addrs: AddrSet,
                 problems: list[tuple[str, str, str]]) -> tuple[AddrSet, str]:
        """The part of `addrs` transit gateway `tgw_id` carries from `from_vpc` to `to_vpc` (its route table
        associated with the source attachment must send it to the destination VPC's attachment), with a detail
        text; what refuses is appended to `problems`."""
        none = AddrSet.empty(addrs.family)
        tgw = self.m.transit_gateways.get(tgw_id)
        if tgw is None:
            problems.append((tgw_id, "transit_gateway", f"Transit gateway {tgw_id} is not in the inventory."))
            return none, ""
        if tgw.state != "available":
            problems.append((tgw_id, "transit_gateway", f"Transit gateway {tgw_id} is {tgw.state}."))
            return none, ""

        def attachment(vpc: str) -> str | None:
            for a in self.m.vpc_attachments.get(vpc, ()):
                att = self.m.tgw_attachments[a]
                if att.tgw_id == tgw_id and att.state in ("available", "pendingAcceptance", "modifying"):
                    return a
            return None

        src_att, dst_att = attachment(from_vpc), attachment(to_vpc)
        bad = False
        if src_att is None:
            problems.append((tgw_id, "transit_gateway", f"{from_vpc} is not attached to transit gateway {tgw_id}, "
                                                        f"so its route to the gateway leads nowhere."))
            bad = True
        if dst_att is None:
            problems.append((tgw_id, "transit_gateway", f"{to_vpc} is not attached to transit gateway {tgw_id}."))
            bad = True
        if bad or src_att is None:
            return none, ""
        rt_id = self.m.attachment_route_table.get(src_att)
        trt = self.m.tgw_route_tables.get(rt_id) if rt_id else None
        if trt is None:
            problems.append((src_att, "transit_gateway", f"Attachment {src_att} of {from_vpc} is not associated with "
                                                         f"a transit gateway route table, so {tgw_id} drops its "
                                                         f"traffic."))
            return none, ""
        ok = none
        how = ""
        pieces = trt.lookup(addrs)
        for part, route in pieces:
            if route.state == "blackhole":
                problems.append((trt.id, "transit_gateway", f"Transit gateway route table {trt.id} blackholes "
                                                            f"{route.cidr}, which covers {describe(part)}."))
            elif dst_att in route.attachment_ids:
                ok = ok.union(part)
                kind = "propagated from" if route.type == "propagated" else "static route to"
                how = f"its route table {trt.id} ({kind} {dst_att}) carries {route.cidr} to {to_vpc}"
            else:
                where = ", ".join(f"{a} ({self.m.tgw_attachments[a].resource_id})" if a in self.m.tgw_attachments
                                  else a for a in route.attachment_ids) or "an unknown attachment"
                problems.append((trt.id, "transit_gateway", f"Transit gateway route table {trt.id} sends "
                                                            f"{route.cidr} to {where}, not to {to_vpc}."))
        if not pieces:
            problems.append((trt.id, "transit_gateway",
                             f"Transit gateway route table {trt.id} (associated with {src_att} of {from_vpc}) has no "
                             f"route to {describe(addrs)}: enable propagation from {dst_att} or add a static "
                             f"route."))
        return ok, how

    # ------------------------------------------------------------------ paths

    def evaluate(self, src: End, dst: Place | GatewayTarget, family: int) -> Candidate:
        c = Candidate(family, src, dst)
        c.stages = {"src_out": True, "delivered": True, "dst_in": True, "dst_out": True, "returned": True,
                    "src_in": True}
        if isinstance(dst, GatewayTarget):
            self._to_gateway_endpoint(c, src, dst)
        elif isinstance(src, Outside):
            self._from_internet(c, src, dst)
        elif isinstance(src, Place):
            self._between(c, src, dst)
        return c

    def _from_internet(self, c: Candidate, src: Outside, dst: Place) -> None:
        fam = c.family
        S = src.addrs(fam)
        D = dst.addrs(fam)
        c.ok(src.label, "internet", f"{'any internet address' if src.label == 'internet' else src.label} "
                                    f"(IPv{fam})")
        igws = [g for g in self.m.vpc_gateways.get(dst.vpc.id, ()) if self.m.gateways[g].kind == "igw"]
        if igws:
            c.ok(igws[0], "internet_gateway", f"internet gateway {igws[0]} is attached to {dst.vpc.id}")
        else:
            eigws = [g for g in self.m.vpc_gateways.get(dst.vpc.id, ()) if self.m.gateways[g].kind == "eigw"]
            extra = (f" (egress-only gateway {eigws[0]} carries only outbound IPv6 connections)" if eigws else "")
            c.block(dst.vpc.id, "internet_gateway", f"{dst.vpc.id} has no internet gateway attached{extra}, so no "
                                                    f"traffic from the internet can enter it.", "delivered")
        if fam == 4:
            if dst.public_ip:
                c.ok(dst.label, "public_address", dst.public_why)
            else:
                c.block(dst.label, "no_public_address",
                        f"No public address: {dst.public_why}, so a workload there has only a private address, "
                        f"which the internet cannot reach.", "delivered")
        elif D:
            c.ok(dst.label, "public_address", f"{dst.label} has IPv6 addresses {describe(D)}, reachable from the "
                                              f"internet through the internet gateway")
        else:
            why = (f"{dst.subnet.id} has no IPv6 block" if not dst.subnet.cidrs6 else
                   f"{dst.subnet.id} does not assign IPv6 addresses on launch (AssignIpv6AddressOnCreation is false)"
                   if dst.eni is None else f"{dst.eni.id} has no IPv6 address")
            c.block(dst.label, "no_public_address", f"No IPv6 address: {why}, so nothing reaches it over IPv6.",
                    "delivered")
        S = _narrowed(S, self.route_internet_return(c, dst, S))
        S = _narrowed(S, self.check_acl(c, dst, False, S, False, describe(S), "dst_in"))
        S = _narrowed(S, self.check_sg(c, dst, False, S, "the internet" if src.label == "internet" else src.label,
                                       frozenset(), frozenset(), "dst_in"))
        S = _narrowed(S, self.check_acl(c, dst, True, S, True, describe(S), "dst_out"))
        c.ok(dst.label, dst.kind, dst.detail)
        c.src_addrs, c.dst_addrs = S, D

    def _connected(self, a: Vpc, b: Vpc) -> tuple[bool, bool]:
        """(some peering or transit gateway joins the VPCs, group references work across that join)."""
        for p in self.m.peerings.values():
            if p.other(a.id) == b.id and p.status == "active":
                return True, True
        for att_a in self.m.vpc_attachments.get(a.id, ()):
            for att_b in self.m.vpc_attachments.get(b.id, ()):
                x, y = self.m.tgw_attachments[att_a], self.m.tgw_attachments[att_b]
                if x.tgw_id == y.tgw_id:
                    return True, x.sg_referencing and y.sg_referencing
        return False, False

    def _between(self, c: Candidate, src: Place, dst: Place) -> None:
        fam = c.family
        S, D = src.addrs(fam), dst.addrs(fam)
        same_vpc = src.vpc.id == dst.vpc.id
        same_subnet = src.subnet.id == dst.subnet.id
        connected, refs_ok = (True, True) if same_vpc else self._connected(src.vpc, dst.vpc)
        src_groups = frozenset(src.group_ids) if refs_ok else frozenset()
        dst_groups = frozenset(dst.group_ids) if refs_ok else frozenset()
        refs_note = "" if refs_ok else (f" (references to {src.vpc.id}'s groups do not work across this "
                                        f"connection)")
        c.ok(src.label, src.kind, src.detail)
        dst_text = f"{dst.label} ({describe(D)})"
        src_text = f"{src.label} ({describe(S)})"
        if src.open_egress:
            c.ok(src.label, "security_group", "the source's own security groups are assumed to let it out")
        else:
            D = _narrowed(D, self.check_sg(c, src, True, D, dst_text, dst_groups, frozenset(), "src_out"))
        if not same_subnet:
            D = _narrowed(D, self.check_acl(c, src, True, D, False, dst_text, "src_out"))
        if not same_vpc and not connected:
            c.block(dst.vpc.id, "vpc_peering", f"{src.vpc.id} and {dst.vpc.id} are not connected: no active peering "
                                               f"connection or transit gateway joins them.", "delivered")
        D = _narrowed(D, self.route_between(c, src, dst, D, "delivered"))
        if not same_subnet:
            S = _narrowed(S, self.check_acl(c, dst, False, S, False, src_text, "dst_in"))
        S = _narrowed(S, self.check_sg(c, dst, False, S, src_text, src_groups, frozenset(), "dst_in", refs_note))
        if not same_subnet:
            S = _narrowed(S, self.check_acl(c, dst, True, S, True, src_text, "dst_out"))
        if not same_vpc:
            S = _narrowed(S, self.route_between(c, dst, src, S, "returned"))
        if not same_subnet:
            D = _narrowed(D, self.check_acl(c, src, False, D, True, dst_text, "src_in"))
        c.ok(dst.label, dst.kind, dst.detail)
        c.src_addrs, c.dst_addrs = S, D

    def _to_gateway_endpoint(self, c: Candidate, src: End, dst: GatewayTarget) -> None:
        ep = dst.endpoint
        D = dst.addrs4
        if isinstance(src, Outside):
            c.ok(src.label, "internet", "any internet address" if src.label == "internet" else src.label)
            c.block(ep.id, "vpc_endpoint", f"Gateway endpoint {ep.id} carries only traffic from subnets of "
                                           f"{ep.vpc_id} whose route tables point to it; it cannot be reached from "
                                           f"the internet.", "delivered")
            c.src_addrs, c.dst_addrs = src.addrs4, D
            return
        assert isinstance(src, Place)
        c.ok(src.label, src.kind, src.detail)
        if src.vpc.id != ep.vpc_id:
            c.block(ep.id, "vpc_endpoint", f"Gateway endpoint {ep.id} serves only {ep.vpc_id}; {src.label} is in "
                                           f"{src.vpc.id}, and gateway endpoints cannot be used through peering, "
                                           f"transit gateways or VPN.", "delivered")
        service = f"{ep.service} ({dst.prefix_list.id if dst.prefix_list else 'its public addresses'})"
        pls = frozenset({dst.prefix_list.id}) if dst.prefix_list else frozenset()
        if src.open_egress:
            c.ok(src.label, "security_group", "the source's own security groups are assumed to let it out")
        else:
            D = _narrowed(D, self.check_sg(c, src, True, D, service, frozenset(), pls, "src_out"))
        D = _narrowed(D, self.check_acl(c, src, True, D, False, service, "src_out"))
        rt = self._rt(src.subnet)
        if rt is None:
            c.block(src.subnet.id, "route_table", f"Subnet {src.subnet.id} has no route table in the inventory.",
                    "delivered")
        else:
            label = self._rt_label(rt, src.subnet)
            route = next((r for r in rt.routes if r.target_id == ep.id), None)
            if route is not None or rt.id in ep.route_table_ids:
                c.ok(rt.id, "route_table", f"{label} sends {route.destination if route else 'the service prefix list'}"
                                           f" to {ep.id}")
            else:
                c.block(rt.id, "route_table", f"The {label} is not associated with gateway endpoint {ep.id} (it has "
                                              f"no {dst.prefix_list.id if dst.prefix_list else 'prefix-list'} route "
                                              f"to it), so traffic to {ep.service} does not use the endpoint.",
                        "delivered")
        D = _narrowed(D, self.check_acl(c, src, False, D, True, service, "src_in"))
        c.src_addrs, c.dst_addrs = src.addrs4, D


# ----------------------------------------------------------------------------------------------- answers


def families(src: End, dst: Place | GatewayTarget) -> list[int]:
    """IPv4 always (its blockers explain a missing address), IPv6 where both ends can use it."""
    out = []
    if src.addrs(4) or isinstance(src, Place):
        out.append(4)
    if src.addrs(6) and (isinstance(dst, Place) and (dst.addrs6 or isinstance(src, Outside))):
        out.append(6)
    if isinstance(src, Outside) and not src.addrs(4):
        out = [6]
    return out


def candidates(model: NetModel, q: Query) -> tuple[list[Candidate], Destination, list[End]]:
    srcs = resolve_source(model, q.src)
    dest = resolve_destination(model, q.dst)
    ev = Evaluator(model, q.protocol, q.port)
    out = []
    for s in srcs:
        for d in dest.ends:
            for fam in families(s, d):
                cand = ev.evaluate(s, d, fam)
                if dest.hops:
                    cand.hops[1:1] = [dict(h) for h in dest.hops]
                for b in dest.blockers:
                    cand.blockers.append(dict(b))
                    cand.stages["delivered"] = False
                out.append(cand)
    return out, dest, srcs


def best(cands: list[Candidate]) -> Candidate | None:
    if not cands:
        return None
    for c in cands:
        if c.reachable:
            return c
    return min(cands, key=lambda c: (len(c.blockers), c.family))


def _end_text(end: End | None, spec: Mapping[str, Any]) -> str:
    if isinstance(end, Outside):
        return "the internet" if end.label == "internet" else end.label
    if isinstance(end, Place):
        return end.detail
    if isinstance(end, GatewayTarget):
        return f"gateway endpoint {end.endpoint.id} ({end.endpoint.service})"
    return json.dumps(dict(spec), default=str)


def answer(model: NetModel, q: Query) -> tuple[dict[str, Any], Candidate | None]:
    cands, dest, srcs = candidates(model, q)
    chosen = best(cands)
    out: dict[str, Any] = {
        "reachable": bool(chosen and chosen.reachable),
        "path": chosen.hops if chosen else list(dest.hops),
        "blocked_by": chosen.blockers if chosen else [],
        "protocol": q.protocol,
        "port": q.port,
        "family": f"ipv{chosen.family}" if chosen else None,
        "from": _end_text(chosen.src if chosen else (srcs[0] if srcs else None), q.src),
        "to": _end_text(chosen.dst if chosen else None, q.dst),
    }
    if not dest.in_vpc:
        out["in_vpc"] = False
    if isinstance(chosen.dst if chosen else None, Place) and len(dest.ends) > 1:
        out["placements"] = sorted({d.subnet.id for d in dest.ends if isinstance(d, Place)})
    notes = list(dest.notes)
    notes += [n for n in model.notes if any(h["component"] in n for h in out["path"])]
    if notes:
        out["notes"] = notes
    return out, chosen


def reach(inventory: Any, query: Any) -> dict[str, Any]:
    """Answer one reachability query (see the module docstring and `seclab net reach --help`).

    `inventory` is an AccountInventory, an OrgInventory (needed when the path crosses accounts) or a NetModel.
    Unknown ids raise UnknownComponent (a NotFound); malformed queries raise InputError."""
    model = model_of(inventory)
    return answer(model, parse_query(query))[0]


def text(result: Mapping[str, Any]) -> str:
    """A learner-readable explanation of a `reach` answer."""
    lines = []
    traffic = "all traffic" if result.get("protocol") == "-1" else f"{result.get('protocol')}/{result.get('port')}"
    fam = f" over {str(result.get('family') or '').replace('ipv', 'IPv')}" if result.get("family") else ""
    verdict = "REACHABLE" if result.get("reachable") else "NOT REACHABLE"
    lines.append(f"{verdict}: {result.get('from')} -> {result.get('to')}, {traffic}{fam}.")
    if result.get("in_vpc") is False:
        lines.append("The destination is not in any VPC of yours.")
    if result.get("path"):
        lines.append("Path checked:")
        for i, h in enumerate(result["path"], 1):
            mark = "ok " if h.get("ok", True) else "NO "
            lines.append(f"  {i:2}. [{mark}] {h['kind']} {h['component']}: {h['detail']}")
    if result.get("blocked_by"):
        lines.append(f"Blocked by {len(result['blocked_by'])} component(s):")
        for b in result["blocked_by"]:
            lines.append(f"  - {b['kind']} {b['component']}: {b['reason']}")
    for n in result.get("notes", []):
        lines.append(f"Note: {n}.")
    return "\n".join(lines)


__all__ = ["KINDS", "UnknownComponent", "Query", "parse_query", "reach", "text"]
