"""Exposure: who can reach a destination, on which ports: the internet, which CIDRs, which subnets, which groups.

Why destination-centric: graders ask "nothing but the app subnet reaches the model on 8080" and "the model subnet
is private". Those are properties of the destination's network (its route tables, NACLs, security groups, gateways)
and of the paths into it, not of one particular client. So a hypothetical client in each subnet is assumed to let
its own traffic out (its egress rules are the client's business) and to carry every security group the
destination's rules reference that lives in its VPC; whether CIDR rules alone would admit it is reported too
(`any_workload`). Ports are evaluated per segment of the port space where no rule changes its verdict, so the
answer is exact without trying 65,536 ports.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from seclab.errors import InputError

from .addrs import INTERNET_V4, INTERNET_V6, AddrSet, internet
from .model import NetModel, Subnet, model_of, norm_protocol
from .reach import (
    Candidate,
    Destination,
    Evaluator,
    Outside,
    Place,
    _subnet_place,
    families,
    resolve_destination,
)

MAX_CIDRS = 16


def _bounds(ranges: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Split 0-65535 into segments whose ports no range boundary separates."""
    cuts = {0, 65536}
    for lo, hi in ranges:
        cuts.add(max(0, lo))
        cuts.add(min(65536, hi + 1))
    edges = sorted(cuts)
    return [(a, b - 1) for a, b in zip(edges, edges[1:], strict=False) if a <= b - 1]


class _Ports:
    """The port ranges that matter for one protocol at one destination placement (plus a source subnet)."""

    def __init__(self, model: NetModel, protocol: str) -> None:
        self.m = model
        self.protocol = protocol

    def sg_ranges(self, group_ids: tuple[str, ...], egress: bool) -> list[tuple[int, int]]:
        out = []
        for g in group_ids:
            sg = self.m.security_groups.get(g)
            if sg is None:
                continue
            for r in sg.egress if egress else sg.ingress:
                if r.protocol == "-1":
                    out.append((0, 65535))
                elif r.protocol == self.protocol:
                    lo = r.from_port if r.from_port is not None and r.from_port >= 0 else 0
                    hi = r.to_port if r.to_port is not None and r.to_port >= 0 else 65535
                    out.append((lo, hi))
        return out

    def acl_ranges(self, subnet: Subnet, egress: bool) -> list[tuple[int, int]]:
        acl = self.m.network_acls.get(self.m.subnet_acl.get(subnet.id, ""))
        if acl is None:
            return []
        out = []
        for e in acl.outbound if egress else acl.inbound:
            pr = e.port_range(self.protocol)
            if pr is not None:
                out.append(pr)
        return out


def _merge(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Join adjacent port segments with the same protocol, family and sources."""
    out: list[dict[str, Any]] = []
    for e in entries:
        if out:
            last = out[-1]
            same = all(last.get(k) == e.get(k) for k in ("protocol", "family", "sources", "requires_security_groups",
                                                          "any_workload"))
            if same and last["to"] + 1 == e["from"]:
                last["to"] = e["to"]
                continue
        out.append(dict(e))
    return out


def _sources(addrs: AddrSet) -> list[str]:
    if addrs == INTERNET_V4:
        return ["0.0.0.0/0"]
    if addrs == INTERNET_V6:
        return ["::/0"]
    cidrs = addrs.cidrs(limit=MAX_CIDRS + 1)
    return cidrs if len(cidrs) <= MAX_CIDRS else cidrs[:MAX_CIDRS] + ["... and more"]


def _port_text(e: Mapping[str, Any]) -> str:
    if e["from"] == 0 and e["to"] == 65535:
        return f"{e['protocol']} all ports"
    return f"{e['protocol']} {e['from']}" if e["from"] == e["to"] else f"{e['protocol']} {e['from']}-{e['to']}"


def _placement(model: NetModel, p: Place) -> dict[str, Any]:
    rt = model.route_tables.get(model.subnet_route_table.get(p.subnet.id, ""))
    igws = {g for g in model.vpc_gateways.get(p.vpc.id, ()) if model.gateways[g].kind == "igw"}
    to_igw = sorted({r.target_id for r in (rt.routes if rt else ()) if r.target_kind == "igw"
                     and r.target_id in igws and r.state == "active" and r.addrs.intersect(internet(r.family))})
    return {
        "subnet": p.subnet.id, "vpc": p.vpc.id, "account": p.subnet.account, "cidr": p.subnet.cidr_text,
        "security_groups": list(p.group_ids), "route_table": rt.id if rt else None,
        "network_acl": model.subnet_acl.get(p.subnet.id), "route_to_internet_gateway": to_igw[0] if to_igw else None,
        "public_ipv4": bool(p.public_ip), "ipv6": bool(p.addrs6), "private": not to_igw,
    }


def _ingress_rules(model: NetModel, p: Place, protocols: list[str], port: int | None) -> list[dict[str, Any]]:
    out = []
    for g in p.group_ids:
        sg = model.security_groups.get(g)
        if sg is None:
            continue
        for r in sg.ingress:
            if r.protocol != "-1" and r.protocol not in protocols:
                continue
            if port is not None and not any(r.covers(proto, port) for proto in protocols):
                continue
            out.append({"security_group": g, "protocol": r.protocol,
                        "from": 0 if r.protocol == "-1" or r.from_port is None or r.from_port < 0 else r.from_port,
                        "to": 65535 if r.protocol == "-1" or r.to_port is None or r.to_port < 0 else r.to_port,
                        "cidrs": [*r.cidrs4, *r.cidrs6], "prefix_lists": list(r.prefix_lists),
                        "security_groups": list(r.groups)})
    return out


def exposure(inventory: Any, destination: Mapping[str, Any], port: int | None = None,
             protocol: str | None = None) -> dict[str, Any]:
    """Who reaches `destination` (a `reach` DST: subnet+security_groups, eni, vpc_endpoint, sagemaker_endpoint):
    from the internet (which ports, which source CIDRs), from which subnets (which ports, with which of the
    security groups the destination's rules reference). `port`/`protocol` narrow the question."""
    model = model_of(inventory)
    if not isinstance(destination, Mapping) or not destination:
        raise InputError("the destination must be a JSON object, e.g. {\"sagemaker_endpoint\": \"NAME\"}")
    if port is not None and (isinstance(port, bool) or not isinstance(port, int) or not 0 <= port <= 65535):
        raise InputError(f"port must be an integer 0-65535, got {port!r}")
    protocols = [norm_protocol(protocol)] if protocol else ["tcp", "udp"]
    if any(p not in ("tcp", "udp") for p in protocols):
        raise InputError(f"exposure is reported per tcp/udp port; got protocol {protocol!r}")
    dest = resolve_destination(model, destination)
    label = dest.label or next(iter(destination.values()))
    out: dict[str, Any] = {"destination": label, "in_vpc": dest.in_vpc, "port": port, "protocols": protocols}
    places = [d for d in dest.ends if isinstance(d, Place)]
    out["placements"] = [_placement(model, p) for p in places]
    if dest.notes:
        out["notes"] = list(dest.notes)
    if dest.blockers:
        out["destination_blocked_by"] = [dict(b) for b in dest.blockers]
    out["ingress_rules"] = [r for p in places for r in _ingress_rules(model, p, protocols, port)]

    internet_ports, closest = _internet(model, dest, protocols, port)
    out["internet"] = {"reachable": bool(internet_ports), "ports": internet_ports}
    if not internet_ports and closest is not None:
        out["internet"]["closest"] = {"protocol": closest[0], "port": closest[1], "family": f"ipv{closest[2].family}",
                                      "blocked_by": closest[2].blockers}
    out["subnets"] = _subnets(model, dest, protocols, port)
    out["summary"] = _summary(out)
    return out


def _segments(port: int | None, ranges: list[tuple[int, int]]) -> list[tuple[int, int]]:
    return [(port, port)] if port is not None else _bounds(ranges)


def _dest_ranges(ports: _Ports, dest: Destination) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for d in dest.ends:
        if isinstance(d, Place):
            out += ports.sg_ranges(d.group_ids, False) + ports.acl_ranges(d.subnet, False)
    return out


def _internet(model: NetModel, dest: Destination, protocols: list[str],
              port: int | None) -> tuple[list[dict[str, Any]], tuple[str, int, Candidate] | None]:
    found: list[dict[str, Any]] = []
    closest: tuple[str, int, Candidate] | None = None
    src = Outside("internet", internet(4), internet(6))
    def rank(c: Candidate, lo: int, ranges: list[tuple[int, int]]) -> tuple[int, int, int]:
        # the closest miss: fewest blockers, then a port some inbound rule is about, then the lowest port
        return (len(c.blockers), 0 if any(a <= lo <= b for a, b in ranges) else 1, lo)

    best_rank: tuple[int, int, int] | None = None
    for proto in protocols:
        ports = _Ports(model, proto)
        entries = []
        sg_ranges = [r for d in dest.ends if isinstance(d, Place) for r in ports.sg_ranges(d.group_ids, False)]
        for lo, hi in _segments(port, _dest_ranges(ports, dest)):
            ev = Evaluator(model, proto, lo)
            seen: set[tuple[int, tuple[str, ...]]] = set()
            for d in dest.ends:
                for fam in families(src, d):
                    c = ev.evaluate(src, d, fam)
                    c.blockers.extend(dict(b) for b in dest.blockers)
                    if c.reachable:
                        key = (fam, tuple(_sources(c.src_addrs)))
                        if key not in seen:
                            seen.add(key)
                            entries.append({"protocol": proto, "from": lo, "to": hi, "family": f"ipv{fam}",
                                            "sources": list(key[1])})
                    elif best_rank is None or rank(c, lo, sg_ranges) < best_rank:
                        best_rank = rank(c, lo, sg_ranges)
                        closest = (proto, lo, c)
        found.extend(_merge(sorted(entries, key=lambda e: (e["family"], e["from"]))))
    return found, closest


def _subnets(model: NetModel, dest: Destination, protocols: list[str], port: int | None) -> list[dict[str, Any]]:
    referenced: set[str] = set()
    for d in dest.ends:
        if isinstance(d, Place):
            for g in d.group_ids:
                sg = model.security_groups.get(g)
                if sg:
                    for r in sg.ingress:
                        referenced.update(r.groups)
    results: list[dict[str, Any]] = []
    if dest.blockers:
        return results
    for subnet in model.subnets.values():
        vpc = model.vpcs.get(subnet.vpc_id)
        if vpc is None:
            continue
        members = tuple(sorted(g for g in referenced
                               if g in model.security_groups and model.security_groups[g].vpc_id == vpc.id))
        with_groups = replace(_subnet_place(model, "subnet", subnet.id, subnet, members, f"a workload in {subnet.id}"),
                              open_egress=True)
        bare = replace(with_groups, group_ids=())
        entries = []
        for proto in protocols:
            ports = _Ports(model, proto)
            ranges = ports.acl_ranges(subnet, True) + _dest_ranges(ports, dest)
            for lo, hi in _segments(port, ranges):
                ev = Evaluator(model, proto, lo)
                hit = None
                for d in dest.ends:
                    for fam in families(with_groups, d):
                        if ev.evaluate(with_groups, d, fam).reachable:
                            any_workload = not members or ev.evaluate(bare, d, fam).reachable
                            hit = {"protocol": proto, "from": lo, "to": hi, "family": f"ipv{fam}",
                                   "any_workload": any_workload,
                                   "requires_security_groups": [] if any_workload else list(members)}
                            break
                    if hit:
                        break
                if hit:
                    entries.append(hit)
        if entries:
            results.append({"subnet": subnet.id, "vpc": vpc.id, "account": subnet.account,
                            "cidr": subnet.cidr_text, "name": subnet.name, "ports": _merge(entries)})
    return results


def _summary(out: Mapping[str, Any]) -> list[str]:
    lines = []
    if not out["in_vpc"]:
        lines.append(f"{out['destination']} is not in any VPC of yours: " + "; ".join(out.get("notes", [])) + ".")
        return lines
    for p in out["placements"]:
        state = "private (no route to an internet gateway)" if p["private"] else (
            f"public (routes to {p['route_to_internet_gateway']})")
        lines.append(f"Placement {p['subnet']} ({p['cidr']}, {p['vpc']}) is {state}"
                     + (", and maps public IPv4 addresses on launch." if p["public_ipv4"] else "."))
    inet = out["internet"]
    if inet["reachable"]:
        parts = [f"{_port_text(e)} from {', '.join(e['sources'][:3])}" for e in inet["ports"]]
        lines.append("From the internet: REACHABLE on " + "; ".join(parts) + ".")
    else:
        why = ""
        if inet.get("closest"):
            why = " (" + "; ".join(f"{b['kind']} {b['component']}" for b in inet["closest"]["blocked_by"]) + ")"
        lines.append(f"From the internet: not reachable{why}.")
    if out["subnets"]:
        for s in out["subnets"]:
            ports = "; ".join(_port_text(e) + ("" if e["any_workload"] else
                                               f" for workloads carrying {', '.join(e['requires_security_groups'])}")
                              for e in s["ports"])
            lines.append(f"From subnet {s['subnet']} ({s['cidr']}, {s['vpc']}): {ports}.")
    else:
        lines.append("No subnet reaches it" + (f" on port {out['port']}." if out["port"] is not None else "."))
    return lines


def exposure_text(result: Mapping[str, Any]) -> str:
    """A learner-readable rendering of an `exposure` answer."""
    head = f"Exposure of {result.get('destination')}" + (
        f" on port {result['port']}" if result.get("port") is not None else "") + ":"
    return "\n".join([head, *(f"  {line}" for line in result.get("summary", []))])
