"""The network model: frozen, typed records built once from the inventory, with per-VPC indices.

Why a separate model: the inventory keeps AWS's record shapes (what the API returned); reachability questions need
normalised facts (a subnet's effective route table and NACL, a rule's address set, a route table's longest-prefix
partition). Building those once per inventory makes each query a handful of set operations (the benchmark target is
1,000 queries per second on a 30-subnet estate). An OrgInventory is merged into one model: ids are unique across
accounts, and cross-account peering, security-group references and transit gateways need both sides.
"""

from __future__ import annotations

import json
import weakref
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from seclab.errors import EvaluationError
from seclab.inventory.model import AccountInventory, OrgInventory, Record

from .addrs import AddrSet, IPNetwork, parse_address, parse_cidr

EPHEMERAL = (1024, 65535)

_PROTO_NAMES = {"-1": "-1", "all": "-1", "tcp": "tcp", "6": "tcp", "udp": "udp", "17": "udp", "icmp": "icmp",
                "1": "icmp", "icmpv6": "icmpv6", "58": "icmpv6"}
PROTO_NUMBER = {"tcp": 6, "udp": 17, "icmp": 1, "icmpv6": 58}


def norm_protocol(value: Any) -> str:
    """AWS writes protocols as names ("tcp"), numbers ("6") or "-1"; one spelling for all."""
    text = str(value).strip().lower() if value is not None else "-1"
    return _PROTO_NAMES.get(text, text)


# ----------------------------------------------------------------------------------------------- records


@dataclass(frozen=True)
class Vpc:
    id: str
    account: str
    cidrs4: tuple[IPNetwork, ...]
    cidrs6: tuple[IPNetwork, ...]
    is_default: bool
    name: str | None

    def cidr_set(self, family: int) -> AddrSet:
        return AddrSet.of_cidrs(family, self.cidrs4 if family == 4 else self.cidrs6)


@dataclass(frozen=True)
class Subnet:
    id: str
    vpc_id: str
    account: str
    az: str | None
    cidr4: IPNetwork | None
    cidrs6: tuple[IPNetwork, ...]
    map_public_ip: bool
    assign_ipv6: bool
    name: str | None

    def addr_set(self, family: int) -> AddrSet:
        if family == 4:
            return AddrSet.of_network(self.cidr4) if self.cidr4 else AddrSet.empty(4)
        return AddrSet.of_cidrs(6, self.cidrs6)

    @property
    def cidr_text(self) -> str:
        return str(self.cidr4) if self.cidr4 else ", ".join(str(c) for c in self.cidrs6)


@dataclass(frozen=True)
class Route:
    destination: str  # a CIDR or a prefix-list id, as the route table shows it
    family: int
    target_kind: str  # local | igw | eigw | nat | pcx | tgw | vpce | vgw | eni | instance | other
    target_id: str
    state: str  # active | blackhole
    addrs: AddrSet  # the destination as addresses (empty for a prefix list whose entries are unknown)


@dataclass(frozen=True)
class RouteTable:
    id: str
    vpc_id: str
    account: str
    main: bool
    subnet_ids: tuple[str, ...]
    routes: tuple[Route, ...]
    # longest-prefix partition: for each family, (addresses for which this route wins, route), most specific first
    lpm4: tuple[tuple[AddrSet, Route], ...]
    lpm6: tuple[tuple[AddrSet, Route], ...]

    def lookup(self, addrs: AddrSet) -> list[tuple[AddrSet, Route]]:
        """The routes that carry `addrs`, each with the part of `addrs` it wins (longest prefix match)."""
        return _lpm_lookup(self.lpm4 if addrs.family == 4 else self.lpm6, addrs)


_R = TypeVar("_R")


def _lpm_lookup(table: tuple[tuple[AddrSet, _R], ...], addrs: AddrSet) -> list[tuple[AddrSet, _R]]:
    """Longest-prefix match over a precomputed partition: each route with the part of `addrs` it wins."""
    out = []
    for won, route in table:
        part = won.intersect(addrs)
        if part:
            out.append((part, route))
    return out


@dataclass(frozen=True)
class Gateway:
    """An internet gateway or an egress-only internet gateway, with the VPCs it is attached to."""

    id: str
    kind: str  # igw | eigw
    account: str
    vpc_ids: tuple[str, ...]


@dataclass(frozen=True)
class NatGateway:
    id: str
    account: str
    vpc_id: str
    subnet_id: str
    state: str
    public_ips: tuple[str, ...]
    connectivity: str  # public | private


@dataclass(frozen=True)
class Eni:
    id: str
    account: str
    subnet_id: str
    vpc_id: str
    private_ip: str | None
    ipv6: tuple[str, ...]
    public_ip: str | None
    group_ids: tuple[str, ...]
    interface_type: str
    description: str


@dataclass(frozen=True)
class SgRule:
    protocol: str  # normalised: -1 | tcp | udp | icmp | icmpv6 | a number
    from_port: int | None
    to_port: int | None
    cidrs4: tuple[str, ...]
    cidrs6: tuple[str, ...]
    prefix_lists: tuple[str, ...]
    groups: tuple[str, ...]  # referenced security-group ids
    addrs4: AddrSet  # cidrs4 plus the IPv4 entries of the prefix lists
    addrs6: AddrSet

    def covers(self, protocol: str, port: int | None) -> bool:
        """Does the rule's protocol/port part admit this traffic? A "-1" query is only admitted by "-1" rules."""
        if self.protocol == "-1":
            return True
        if protocol == "-1" or self.protocol != protocol:
            return False
        if port is None or self.from_port is None or self.from_port < 0:
            return True
        return self.from_port <= port <= (self.to_port if self.to_port is not None else self.from_port)

    def ports_text(self) -> str:
        if self.protocol == "-1":
            return "all traffic"
        if self.from_port is None or self.from_port < 0 or (self.from_port == 0 and self.to_port == 65535):
            return f"{self.protocol}/all ports"
        if self.from_port == self.to_port:
            return f"{self.protocol}/{self.from_port}"
        return f"{self.protocol}/{self.from_port}-{self.to_port}"

    def peers_text(self) -> str:
        parts = [*self.cidrs4, *self.cidrs6, *self.prefix_lists, *self.groups]
        return ", ".join(parts) if parts else "nobody"


@dataclass(frozen=True)
class SecurityGroup:
    id: str
    account: str
    vpc_id: str
    name: str
    ingress: tuple[SgRule, ...]
    egress: tuple[SgRule, ...]


@dataclass(frozen=True)
class AclEntry:
    number: int
    egress: bool
    allow: bool
    protocol: str
    from_port: int | None
    to_port: int | None
    cidr: str
    addrs: AddrSet
    synthetic: bool = False  # an entry AWS adds that the simulator does not record

    def port_range(self, protocol: str) -> tuple[int, int] | None:
        """The ports this entry covers for `protocol` traffic, or None when it does not apply to it at all."""
        if self.protocol == "-1":
            return (0, 65535)
        if protocol == "-1" or self.protocol != protocol:
            return None
        if self.from_port is None:
            return (0, 65535)
        return (self.from_port, self.to_port if self.to_port is not None else self.from_port)

    def text(self) -> str:
        what = "all traffic" if self.protocol == "-1" else (
            f"{self.protocol}/{self.from_port}" if self.from_port == self.to_port and self.from_port is not None
            else f"{self.protocol}/{self.from_port if self.from_port is not None else 0}-"
                 f"{self.to_port if self.to_port is not None else 65535}")
        verb = "allows" if self.allow else "denies"
        direction = "to" if self.egress else "from"
        return f"rule {self.number} {verb} {what} {direction} {self.cidr}"


@dataclass(frozen=True)
class NetworkAcl:
    id: str
    account: str
    vpc_id: str
    is_default: bool
    subnet_ids: tuple[str, ...]
    inbound: tuple[AclEntry, ...]  # ascending rule number
    outbound: tuple[AclEntry, ...]


@dataclass(frozen=True)
class VpcEndpoint:
    id: str
    account: str
    vpc_id: str
    type: str  # Gateway | Interface | GatewayLoadBalancer
    service: str
    state: str
    policy: Any
    route_table_ids: tuple[str, ...]
    subnet_ids: tuple[str, ...]
    group_ids: tuple[str, ...]
    private_dns: bool
    eni_ids: tuple[str, ...]
    dns_names: tuple[str, ...]


@dataclass(frozen=True)
class Peering:
    id: str
    status: str
    requester_vpc: str
    requester_account: str
    accepter_vpc: str
    accepter_account: str
    requester_cidrs: tuple[str, ...]
    accepter_cidrs: tuple[str, ...]

    def other(self, vpc_id: str) -> str | None:
        if vpc_id == self.requester_vpc:
            return self.accepter_vpc
        if vpc_id == self.accepter_vpc:
            return self.requester_vpc
        return None


@dataclass(frozen=True)
class TgwAttachment:
    id: str
    tgw_id: str
    resource_type: str
    resource_id: str
    account: str
    state: str
    sg_referencing: bool


@dataclass(frozen=True)
class TgwRoute:
    cidr: str
    family: int
    type: str  # static | propagated
    state: str  # active | blackhole
    attachment_ids: tuple[str, ...]
    addrs: AddrSet
    inferred: bool = False  # the attachment was inferred (the simulator omits static routes' attachments)


@dataclass(frozen=True)
class TgwRouteTable:
    id: str
    tgw_id: str
    account: str
    is_default_association: bool
    associations: tuple[str, ...]  # attachment ids
    propagations: tuple[str, ...]
    routes: tuple[TgwRoute, ...]
    lpm4: tuple[tuple[AddrSet, TgwRoute], ...]
    lpm6: tuple[tuple[AddrSet, TgwRoute], ...]

    def lookup(self, addrs: AddrSet) -> list[tuple[AddrSet, TgwRoute]]:
        return _lpm_lookup(self.lpm4 if addrs.family == 4 else self.lpm6, addrs)


@dataclass(frozen=True)
class TransitGateway:
    id: str
    account: str
    state: str


@dataclass(frozen=True)
class PrefixList:
    id: str
    name: str
    family: int
    cidrs: tuple[str, ...]
    owner: str


@dataclass(frozen=True)
class FlowLog:
    id: str
    account: str
    resource_id: str
    traffic_type: str  # ACCEPT | REJECT | ALL
    destination_type: str
    log_group: str | None
    log_format: str | None
    status: str


@dataclass(frozen=True)
class SmVariant:
    variant: str
    model_name: str
    model_found: bool
    subnets: tuple[str, ...]  # empty when the model has no VpcConfig
    group_ids: tuple[str, ...]


@dataclass(frozen=True)
class SmEndpoint:
    name: str
    account: str
    status: str
    config_name: str | None
    variants: tuple[SmVariant, ...]


# ----------------------------------------------------------------------------------------------- the model


@dataclass(frozen=True)
class NetModel:
    """Everything the engine knows about the estate, indexed by id."""

    accounts: tuple[str, ...]
    region: str
    vpcs: Mapping[str, Vpc]
    subnets: Mapping[str, Subnet]
    route_tables: Mapping[str, RouteTable]
    gateways: Mapping[str, Gateway]
    nat_gateways: Mapping[str, NatGateway]
    enis: Mapping[str, Eni]
    security_groups: Mapping[str, SecurityGroup]
    network_acls: Mapping[str, NetworkAcl]
    vpc_endpoints: Mapping[str, VpcEndpoint]
    peerings: Mapping[str, Peering]
    transit_gateways: Mapping[str, TransitGateway]
    tgw_attachments: Mapping[str, TgwAttachment]
    tgw_route_tables: Mapping[str, TgwRouteTable]
    prefix_lists: Mapping[str, PrefixList]
    flow_logs: tuple[FlowLog, ...]
    sagemaker_endpoints: Mapping[str, SmEndpoint]
    # indices
    subnet_route_table: Mapping[str, str]  # subnet -> effective route table
    subnet_acl: Mapping[str, str]  # subnet -> effective network ACL
    vpc_subnets: Mapping[str, tuple[str, ...]]
    vpc_gateways: Mapping[str, tuple[str, ...]]  # vpc -> igw/eigw ids attached
    vpc_default_sg: Mapping[str, str]
    attachment_route_table: Mapping[str, str]  # tgw attachment -> associated tgw route table
    vpc_attachments: Mapping[str, tuple[str, ...]]  # vpc -> tgw attachment ids
    eni_public: Mapping[str, str]  # eni -> public IPv4 (association or EIP)
    notes: tuple[str, ...] = field(default=())  # simulator gaps the builder worked around
    # VPCs that peering connections or transit gateway attachments reach but this inventory does not hold (another
    # account's): a caller with an OrgInventory at hand should use it
    foreign_vpcs: tuple[str, ...] = field(default=())
    sagemaker_errors: tuple[str, ...] = field(default=())  # the SageMaker sections the collector could not read

    def flow_logs_for(self, resource_ids: Iterable[str]) -> list[FlowLog]:
        wanted = set(resource_ids)
        return [f for f in self.flow_logs if f.resource_id in wanted]


# ----------------------------------------------------------------------------------------------- building


def _name(rec: Record) -> str | None:
    for tag in rec.get("Tags") or rec.get("TagSet") or []:
        if tag.get("Key") == "Name":
            return str(tag.get("Value"))
    return None


def _int(value: Any) -> int | None:
    try:
        return int(value) if value is not None else None
    except (TypeError, ValueError):
        return None


def _associated(state: Any) -> bool:
    """A CIDR association's state. The simulator sometimes writes the whole state structure as a string
    ("{'State': 'associated'}"), so look for the word rather than compare."""
    text = str((state or {}).get("State", "associated") if isinstance(state, Mapping) else state)
    return "associated" in text and "disassociat" not in text


def _lpm(routes: Iterable[Any], family: int) -> tuple[tuple[AddrSet, Any], ...]:
    """Partition the address space among routes by longest prefix: each route wins its prefix minus every more
    specific prefix. Routes of equal length over the same prefix keep the first (AWS forbids duplicates)."""
    ranked = sorted((r for r in routes if r.family == family and r.addrs),
                    key=lambda r: min(hi - lo for lo, hi in r.addrs.ranges))
    covered = AddrSet.empty(family)
    out = []
    for r in ranked:
        won = r.addrs.subtract(covered)
        if won:
            out.append((won, r))
            covered = covered.union(r.addrs)
    return tuple(out)


_TARGETS = (
    ("EgressOnlyInternetGatewayId", "eigw"),
    ("NatGatewayId", "nat"),
    ("VpcPeeringConnectionId", "pcx"),
    ("TransitGatewayId", "tgw"),
    ("NetworkInterfaceId", "eni"),
    ("InstanceId", "instance"),
    ("LocalGatewayId", "other"),
    ("CarrierGatewayId", "other"),
    ("CoreNetworkArn", "other"),
    ("GatewayId", None),
)


def _route(rec: Record, prefix_lists: Mapping[str, PrefixList]) -> Route | None:
    kind, target = "other", "unknown"
    for key, k in _TARGETS:
        if rec.get(key):
            target = str(rec[key])
            if k is None:
                if target == "local":
                    k = "local"
                elif target.startswith("igw-"):
                    k = "igw"
                elif target.startswith("vpce-"):
                    k = "vpce"
                elif target.startswith("vgw-"):
                    k = "vgw"
                else:
                    k = "other"
            kind = k
            break
    state = str(rec.get("State") or "active")
    if rec.get("DestinationCidrBlock"):
        net = parse_cidr(rec["DestinationCidrBlock"])
        if net is None:
            return None
        return Route(str(net), 4, kind, target, state, AddrSet.of_network(net))
    if rec.get("DestinationIpv6CidrBlock"):
        net = parse_cidr(rec["DestinationIpv6CidrBlock"])
        if net is None:
            return None
        return Route(str(net), 6, kind, target, state, AddrSet.of_network(net))
    if rec.get("DestinationPrefixListId"):
        pl = prefix_lists.get(str(rec["DestinationPrefixListId"]))
        family = pl.family if pl else 4
        addrs = AddrSet.of_cidrs(family, pl.cidrs) if pl else AddrSet.empty(4)
        return Route(str(rec["DestinationPrefixListId"]), family, kind, target, state, addrs)
    return None


def _sg_rules(perms: Iterable[Record], prefix_lists: Mapping[str, PrefixList]) -> tuple[SgRule, ...]:
    out = []
    for p in perms:
        cidrs4 = tuple(str(r["CidrIp"]) for r in p.get("IpRanges") or [] if r.get("CidrIp"))
        cidrs6 = tuple(str(r["CidrIpv6"]) for r in p.get("Ipv6Ranges") or [] if r.get("CidrIpv6"))
        pls = tuple(str(r["PrefixListId"]) for r in p.get("PrefixListIds") or [] if r.get("PrefixListId"))
        groups = tuple(str(r["GroupId"]) for r in p.get("UserIdGroupPairs") or [] if r.get("GroupId"))
        a4 = AddrSet.of_cidrs(4, cidrs4)
        a6 = AddrSet.of_cidrs(6, cidrs6)
        for pl_id in pls:
            pl = prefix_lists.get(pl_id)
            if pl:
                a4 = a4.union(AddrSet.of_cidrs(4, pl.cidrs))
                a6 = a6.union(AddrSet.of_cidrs(6, pl.cidrs))
        out.append(SgRule(norm_protocol(p.get("IpProtocol")), _int(p.get("FromPort")), _int(p.get("ToPort")),
                          cidrs4, cidrs6, pls, groups, a4, a6))
    return tuple(out)


def _acl_entries(rec: Record, vpc: Vpc | None, notes: list[str]) -> tuple[tuple[AclEntry, ...], tuple[AclEntry, ...]]:
    inbound: list[AclEntry] = []
    outbound: list[AclEntry] = []
    for e in rec.get("Entries") or []:
        cidr = e.get("CidrBlock") or e.get("Ipv6CidrBlock")
        net = parse_cidr(cidr)
        if net is None:
            continue
        ports = e.get("PortRange") or {}
        entry = AclEntry(
            number=int(e.get("RuleNumber") or 0), egress=bool(e.get("Egress")),
            allow=str(e.get("RuleAction", "")).lower() == "allow", protocol=norm_protocol(e.get("Protocol")),
            from_port=_int(ports.get("From")), to_port=_int(ports.get("To")), cidr=str(net),
            addrs=AddrSet.of_network(net))
        (outbound if entry.egress else inbound).append(entry)
    # AWS adds "allow all IPv6" entries (rule 101) to a default NACL when the VPC has an IPv6 block; the simulator
    # does not, which would silently drop all IPv6 traffic. Add them, marked synthetic, so explanations say so.
    if rec.get("IsDefault") and vpc is not None and vpc.cidrs6:
        for lst, egress in ((inbound, False), (outbound, True)):
            if not any(x.addrs.family == 6 for x in lst):
                lst.append(AclEntry(101, egress, True, "-1", None, None, "::/0", AddrSet.everything(6), True))
                notes.append(f"{rec.get('NetworkAclId')}: assumed the IPv6 allow-all rule 101 AWS adds to a default "
                             f"network ACL ({'outbound' if egress else 'inbound'})")
    key = lambda x: (x.number, x.addrs.family)  # noqa: E731
    return tuple(sorted(inbound, key=key)), tuple(sorted(outbound, key=key))


def _policy(doc: Any) -> Any:
    if isinstance(doc, str):
        try:
            return json.loads(doc)
        except ValueError:
            return doc
    return doc


def _accounts(inventory: AccountInventory | OrgInventory) -> list[AccountInventory]:
    if isinstance(inventory, OrgInventory):
        return list(inventory.accounts().values())
    return [inventory]


def _unique(records: Iterable[tuple[str, Record]], key: str) -> list[tuple[str, Record]]:
    """Records of every account, once per id (a peering or a shared TGW shows up in both accounts)."""
    seen: dict[str, tuple[str, Record]] = {}
    for account, rec in records:
        rid = rec.get(key)
        if rid and rid not in seen:
            seen[str(rid)] = (account, rec)
    return list(seen.values())


def _tgw_route_table(account: str, rec: Record, attachments: Mapping[str, TgwAttachment],
                     vpcs: Mapping[str, Vpc]) -> TgwRouteTable:
    assoc_ids = tuple(str(x["TransitGatewayAttachmentId"]) for x in rec.get("Associations") or []
                      if x.get("TransitGatewayAttachmentId") and x.get("State", "associated") == "associated")
    prop_ids = tuple(str(x["TransitGatewayAttachmentId"]) for x in rec.get("Propagations") or []
                     if x.get("TransitGatewayAttachmentId") and x.get("State", "enabled") == "enabled")
    routes: list[TgwRoute] = []
    for r in rec.get("Routes") or []:
        net = parse_cidr(r.get("DestinationCidrBlock"))
        if net is None:
            continue
        atts = tuple(str(x["TransitGatewayAttachmentId"]) for x in r.get("TransitGatewayAttachments") or []
                     if x.get("TransitGatewayAttachmentId"))
        inferred = False
        state = str(r.get("State") or "active")
        if not atts and state == "active":
            # The simulator drops a static route's attachment from SearchTransitGatewayRoutes: infer it from the
            # attached VPC whose CIDR holds the destination.
            guess = [a.id for a in attachments.values()
                     if a.tgw_id == rec.get("TransitGatewayId") and a.resource_id in vpcs
                     and any(_within(net, c) for c in (*vpcs[a.resource_id].cidrs4, *vpcs[a.resource_id].cidrs6))]
            if len(guess) == 1:
                atts, inferred = (guess[0],), True
        routes.append(TgwRoute(str(net), net.version, str(r.get("Type") or "static"), state, atts,
                               AddrSet.of_network(net), inferred))
    # Propagated routes: the simulator lists propagations but not the routes they create.
    have = {r.cidr for r in routes}
    for att_id in prop_ids:
        att = attachments.get(att_id)
        if att is None or att.resource_id not in vpcs:
            continue
        vpc = vpcs[att.resource_id]
        for c in (*vpc.cidrs4, *vpc.cidrs6):
            if str(c) not in have:
                have.add(str(c))
                routes.append(TgwRoute(str(c), c.version, "propagated", "active", (att_id,), AddrSet.of_network(c)))
    return TgwRouteTable(str(rec["TransitGatewayRouteTableId"]), str(rec.get("TransitGatewayId")), account,
                         bool(rec.get("DefaultAssociationRouteTable")), assoc_ids, prop_ids, tuple(routes),
                         _lpm(routes, 4), _lpm(routes, 6))


def _within(net: IPNetwork, outer: IPNetwork) -> bool:
    return net.version == outer.version and net.subnet_of(outer)  # type: ignore[arg-type]


def build_model(inventory: AccountInventory | OrgInventory) -> NetModel:
    """The network model of an account or of a learner's whole organization. Raises EvaluationError when the
    collector could not read an EC2 section: a partial model would answer "unreachable" for the wrong reason."""
    invs = _accounts(inventory)
    failures = [f"{inv.account_id}: {msg}" for inv in invs for msg in inv.failed("ec2")]
    if failures:
        raise EvaluationError("the network inventory is incomplete: " + "; ".join(failures),
                              "Check that the simulator is running and retry.")
    notes: list[str] = []

    def each(attr: str, key: str) -> list[tuple[str, Record]]:
        return _unique(((inv.account_id, r) for inv in invs for r in getattr(inv.ec2, attr)), key)

    prefix_lists: dict[str, PrefixList] = {}
    for _account, rec in each("managed_prefix_lists", "PrefixListId"):
        fam = 6 if str(rec.get("AddressFamily", "IPv4")).lower() == "ipv6" else 4
        prefix_lists[rec["PrefixListId"]] = PrefixList(
            rec["PrefixListId"], str(rec.get("PrefixListName") or ""), fam,
            tuple(str(e["Cidr"]) for e in rec.get("Entries") or [] if e.get("Cidr")), str(rec.get("OwnerId") or ""))

    vpcs: dict[str, Vpc] = {}
    for account, rec in each("vpcs", "VpcId"):
        c4 = [parse_cidr(a.get("CidrBlock")) for a in rec.get("CidrBlockAssociationSet") or []
              if _associated(a.get("CidrBlockState"))]
        if not c4 and rec.get("CidrBlock"):
            c4 = [parse_cidr(rec["CidrBlock"])]
        c6 = [parse_cidr(a.get("Ipv6CidrBlock")) for a in rec.get("Ipv6CidrBlockAssociationSet") or []
              if _associated(a.get("Ipv6CidrBlockState"))]
        vpcs[rec["VpcId"]] = Vpc(rec["VpcId"], str(rec.get("OwnerId") or account),
                                 tuple(n for n in c4 if n), tuple(n for n in c6 if n), bool(rec.get("IsDefault")),
                                 _name(rec))

    subnets: dict[str, Subnet] = {}
    vpc_subnets: dict[str, list[str]] = {}
    for account, rec in each("subnets", "SubnetId"):
        c6 = [parse_cidr(a.get("Ipv6CidrBlock")) for a in rec.get("Ipv6CidrBlockAssociationSet") or []
              if _associated(a.get("Ipv6CidrBlockState"))]
        s = Subnet(rec["SubnetId"], str(rec.get("VpcId")), str(rec.get("OwnerId") or account),
                   rec.get("AvailabilityZone"), parse_cidr(rec.get("CidrBlock")), tuple(n for n in c6 if n),
                   bool(rec.get("MapPublicIpOnLaunch")), bool(rec.get("AssignIpv6AddressOnCreation")), _name(rec))
        subnets[s.id] = s
        vpc_subnets.setdefault(s.vpc_id, []).append(s.id)

    route_tables: dict[str, RouteTable] = {}
    subnet_rt: dict[str, str] = {}
    main_rt: dict[str, str] = {}
    for account, rec in each("route_tables", "RouteTableId"):
        routes = tuple(r for r in (_route(x, prefix_lists) for x in rec.get("Routes") or []) if r)
        assocs = [a for a in rec.get("Associations") or []
                  if (a.get("AssociationState") or {}).get("State", "associated") == "associated"]
        is_main = any(a.get("Main") for a in assocs)
        sids = tuple(str(a["SubnetId"]) for a in assocs if a.get("SubnetId"))
        rt = RouteTable(rec["RouteTableId"], str(rec.get("VpcId")), str(rec.get("OwnerId") or account), is_main,
                        sids, routes, _lpm(routes, 4), _lpm(routes, 6))
        route_tables[rt.id] = rt
        if is_main:
            main_rt[rt.vpc_id] = rt.id
        for sid in sids:
            subnet_rt[sid] = rt.id
    for sid, s in subnets.items():
        if sid not in subnet_rt and s.vpc_id in main_rt:
            subnet_rt[sid] = main_rt[s.vpc_id]

    gateways: dict[str, Gateway] = {}
    vpc_gw: dict[str, list[str]] = {}
    for account, rec in each("internet_gateways", "InternetGatewayId"):
        attached = tuple(str(a["VpcId"]) for a in rec.get("Attachments") or []
                         if a.get("VpcId") and str(a.get("State", "available")) in ("available", "attached"))
        gateways[rec["InternetGatewayId"]] = Gateway(rec["InternetGatewayId"], "igw",
                                                     str(rec.get("OwnerId") or account), attached)
    for account, rec in each("egress_only_internet_gateways", "EgressOnlyInternetGatewayId"):
        attached = tuple(str(a["VpcId"]) for a in rec.get("Attachments") or []
                         if a.get("VpcId") and str(a.get("State", "attached")) in ("available", "attached"))
        gid = rec["EgressOnlyInternetGatewayId"]
        gateways[gid] = Gateway(gid, "eigw", account, attached)
    for g in gateways.values():
        for v in g.vpc_ids:
            vpc_gw.setdefault(v, []).append(g.id)

    nats: dict[str, NatGateway] = {}
    for account, rec in each("nat_gateways", "NatGatewayId"):
        nats[rec["NatGatewayId"]] = NatGateway(
            rec["NatGatewayId"], account, str(rec.get("VpcId")), str(rec.get("SubnetId")),
            str(rec.get("State") or "available"),
            tuple(str(a["PublicIp"]) for a in rec.get("NatGatewayAddresses") or [] if a.get("PublicIp")),
            str(rec.get("ConnectivityType") or "public"))

    eip_by_eni: dict[str, str] = {}
    for inv in invs:
        for a in inv.ec2.addresses:
            if a.get("NetworkInterfaceId") and a.get("PublicIp"):
                eip_by_eni[str(a["NetworkInterfaceId"])] = str(a["PublicIp"])
    enis: dict[str, Eni] = {}
    eni_public: dict[str, str] = {}
    for account, rec in each("network_interfaces", "NetworkInterfaceId"):
        eid = rec["NetworkInterfaceId"]
        assoc = rec.get("Association") or {}
        public = assoc.get("PublicIp") or eip_by_eni.get(eid)
        enis[eid] = Eni(eid, str(rec.get("OwnerId") or account), str(rec.get("SubnetId")), str(rec.get("VpcId")),
                        rec.get("PrivateIpAddress"),
                        tuple(str(a["Ipv6Address"]) for a in rec.get("Ipv6Addresses") or [] if a.get("Ipv6Address")),
                        str(public) if public else None,
                        tuple(str(g["GroupId"]) for g in rec.get("Groups") or [] if g.get("GroupId")),
                        str(rec.get("InterfaceType") or "interface"), str(rec.get("Description") or ""))
        if public:
            eni_public[eid] = str(public)

    sgs: dict[str, SecurityGroup] = {}
    default_sg: dict[str, str] = {}
    for account, rec in each("security_groups", "GroupId"):
        sg = SecurityGroup(rec["GroupId"], str(rec.get("OwnerId") or account), str(rec.get("VpcId")),
                           str(rec.get("GroupName") or ""), _sg_rules(rec.get("IpPermissions") or [], prefix_lists),
                           _sg_rules(rec.get("IpPermissionsEgress") or [], prefix_lists))
        sgs[sg.id] = sg
        if sg.name == "default":
            default_sg[sg.vpc_id] = sg.id

    acls: dict[str, NetworkAcl] = {}
    subnet_acl: dict[str, str] = {}
    default_acl: dict[str, str] = {}
    for account, rec in each("network_acls", "NetworkAclId"):
        inbound, outbound = _acl_entries(rec, vpcs.get(str(rec.get("VpcId"))), notes)
        sids = tuple(str(a["SubnetId"]) for a in rec.get("Associations") or [] if a.get("SubnetId"))
        acl = NetworkAcl(rec["NetworkAclId"], str(rec.get("OwnerId") or account), str(rec.get("VpcId")),
                         bool(rec.get("IsDefault")), sids, inbound, outbound)
        acls[acl.id] = acl
        if acl.is_default:
            default_acl[acl.vpc_id] = acl.id
        for sid in sids:
            subnet_acl[sid] = acl.id
    for sid, s in subnets.items():
        if sid not in subnet_acl and s.vpc_id in default_acl:
            subnet_acl[sid] = default_acl[s.vpc_id]

    endpoints: dict[str, VpcEndpoint] = {}
    for account, rec in each("vpc_endpoints", "VpcEndpointId"):
        endpoints[rec["VpcEndpointId"]] = VpcEndpoint(
            rec["VpcEndpointId"], str(rec.get("OwnerId") or account), str(rec.get("VpcId")),
            str(rec.get("VpcEndpointType") or "Gateway"), str(rec.get("ServiceName") or ""),
            str(rec.get("State") or "available"), _policy(rec.get("PolicyDocument")),
            tuple(str(x) for x in rec.get("RouteTableIds") or []), tuple(str(x) for x in rec.get("SubnetIds") or []),
            tuple(str(g["GroupId"]) for g in rec.get("Groups") or [] if g.get("GroupId")),
            bool(rec.get("PrivateDnsEnabled")), tuple(str(x) for x in rec.get("NetworkInterfaceIds") or []),
            tuple(str(d["DnsName"]) for d in rec.get("DnsEntries") or [] if d.get("DnsName")))

    peerings: dict[str, Peering] = {}
    for account, rec in each("vpc_peering_connections", "VpcPeeringConnectionId"):
        req = rec.get("RequesterVpcInfo") or {}
        acc = rec.get("AccepterVpcInfo") or {}

        def cidrs(info: Mapping[str, Any]) -> tuple[str, ...]:
            out = [str(c["CidrBlock"]) for c in info.get("CidrBlockSet") or [] if c.get("CidrBlock")]
            out += [str(c["Ipv6CidrBlock"]) for c in info.get("Ipv6CidrBlockSet") or [] if c.get("Ipv6CidrBlock")]
            if not out and info.get("CidrBlock"):
                out.append(str(info["CidrBlock"]))
            return tuple(out)

        peerings[rec["VpcPeeringConnectionId"]] = Peering(
            rec["VpcPeeringConnectionId"], str((rec.get("Status") or {}).get("Code") or "unknown"),
            str(req.get("VpcId")), str(req.get("OwnerId") or account), str(acc.get("VpcId")),
            str(acc.get("OwnerId") or account), cidrs(req), cidrs(acc))

    tgws: dict[str, TransitGateway] = {}
    for account, rec in each("transit_gateways", "TransitGatewayId"):
        tgws[rec["TransitGatewayId"]] = TransitGateway(rec["TransitGatewayId"], str(rec.get("OwnerId") or account),
                                                       str(rec.get("State") or "available"))
    attachments: dict[str, TgwAttachment] = {}
    vpc_att: dict[str, list[str]] = {}
    att_assoc_fallback: dict[str, str] = {}
    for account, rec in each("transit_gateway_attachments", "TransitGatewayAttachmentId"):
        opts = rec.get("Options") or {}
        att = TgwAttachment(rec["TransitGatewayAttachmentId"], str(rec.get("TransitGatewayId")),
                            str(rec.get("ResourceType") or ("vpc" if rec.get("VpcId") else "")),
                            str(rec.get("ResourceId") or rec.get("VpcId") or ""),
                            str(rec.get("ResourceOwnerId") or rec.get("VpcOwnerId") or account),
                            str(rec.get("State") or "available"),
                            str(opts.get("SecurityGroupReferencingSupport", "disable")) == "enable")
        attachments[att.id] = att
        if att.resource_type == "vpc":
            vpc_att.setdefault(att.resource_id, []).append(att.id)
        assoc = rec.get("Association") or {}
        if assoc.get("TransitGatewayRouteTableId") and assoc.get("State", "associated") == "associated":
            att_assoc_fallback[att.id] = str(assoc["TransitGatewayRouteTableId"])

    tgw_rts: dict[str, TgwRouteTable] = {}
    att_rt: dict[str, str] = {}
    for account, rec in each("transit_gateway_route_tables", "TransitGatewayRouteTableId"):
        tgw_rt = _tgw_route_table(account, rec, attachments, vpcs)
        tgw_rts[tgw_rt.id] = tgw_rt
    # An attachment belongs to one route table; the simulator may list it under the default table and under the
    # one the learner associated it with: the explicit (non-default) association wins.
    for t in sorted(tgw_rts.values(), key=lambda t: not t.is_default_association):
        for att_id in t.associations:
            if att_id not in att_rt or not t.is_default_association:
                att_rt[att_id] = t.id
    for att_id, rt_id in att_assoc_fallback.items():
        att_rt.setdefault(att_id, rt_id)

    flow_logs = []
    for account, rec in each("flow_logs", "FlowLogId"):
        flow_logs.append(FlowLog(rec["FlowLogId"], account, str(rec.get("ResourceId")),
                                 str(rec.get("TrafficType") or "ALL").upper(),
                                 str(rec.get("LogDestinationType") or "cloud-watch-logs"),
                                 rec.get("LogGroupName"), rec.get("LogFormat"),
                                 str(rec.get("FlowLogStatus") or "ACTIVE")))

    sm_endpoints: dict[str, SmEndpoint] = {}
    for inv in invs:
        models = {str(m.get("ModelName")): m for m in inv.sagemaker.models}
        configs = {str(c.get("EndpointConfigName")): c for c in inv.sagemaker.endpoint_configs}
        for ep in inv.sagemaker.endpoints:
            cfg_name = ep.get("EndpointConfigName")
            cfg = configs.get(str(cfg_name)) or {}
            variants = []
            for v in cfg.get("ProductionVariants") or []:
                m = models.get(str(v.get("ModelName")))
                vc = (m or {}).get("VpcConfig") or {}
                variants.append(SmVariant(str(v.get("VariantName") or ""), str(v.get("ModelName") or ""),
                                          m is not None, tuple(str(x) for x in vc.get("Subnets") or []),
                                          tuple(str(x) for x in vc.get("SecurityGroupIds") or [])))
            name = str(ep.get("EndpointName"))
            sm_endpoints.setdefault(name, SmEndpoint(name, inv.account_id, str(ep.get("EndpointStatus") or ""),
                                                     str(cfg_name) if cfg_name else None, tuple(variants)))

    foreign = sorted({v for p in peerings.values() for v in (p.requester_vpc, p.accepter_vpc) if v not in vpcs}
                     | {a.resource_id for a in attachments.values() if a.resource_type == "vpc"
                        and a.resource_id not in vpcs})
    return NetModel(
        accounts=tuple(inv.account_id for inv in invs), region=invs[0].region if invs else "us-east-1",
        vpcs=vpcs, subnets=subnets, route_tables=route_tables, gateways=gateways, nat_gateways=nats, enis=enis,
        security_groups=sgs, network_acls=acls, vpc_endpoints=endpoints, peerings=peerings, transit_gateways=tgws,
        tgw_attachments=attachments, tgw_route_tables=tgw_rts, prefix_lists=prefix_lists,
        flow_logs=tuple(flow_logs), sagemaker_endpoints=sm_endpoints, subnet_route_table=subnet_rt,
        subnet_acl=subnet_acl, vpc_subnets={k: tuple(v) for k, v in vpc_subnets.items()},
        vpc_gateways={k: tuple(v) for k, v in vpc_gw.items()}, vpc_default_sg=default_sg,
        attachment_route_table=att_rt, vpc_attachments={k: tuple(v) for k, v in vpc_att.items()},
        eni_public=eni_public, notes=tuple(notes), foreign_vpcs=tuple(foreign),
        sagemaker_errors=tuple(f"{inv.account_id}: {msg}" for inv in invs for msg in inv.failed("sagemaker")))


_CACHE: dict[int, tuple[weakref.ref[Any], NetModel]] = {}


def model_of(source: AccountInventory | OrgInventory | NetModel) -> NetModel:
    """The model for an inventory, built once per inventory object (inventories are immutable snapshots)."""
    if isinstance(source, NetModel):
        return source
    hit = _CACHE.get(id(source))
    if hit is not None and hit[0]() is source:
        return hit[1]
    model = build_model(source)
    key = id(source)
    _CACHE[key] = (weakref.ref(source, lambda _r, k=key: _CACHE.pop(k, None)), model)  # type: ignore[misc]
    return model


def address_in(net: IPNetwork | None, text: str | None) -> bool:
    addr = parse_address(text)
    return bool(net is not None and addr is not None and addr.version == net.version and addr in net)


__all__ = ["EPHEMERAL", "PROTO_NUMBER", "NetModel", "build_model", "model_of", "norm_protocol"]
