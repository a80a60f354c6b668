"""Task 4b: the platform's security groups, rule by rule, on the network engine's model of the organization.

Judged on the groups themselves (not on end-to-end reach) so that a routing fault is reported once, by
ma_network_segmentation, and a port fault once, here.
"""

from __future__ import annotations

from typing import Any

from seclab.engines.net import model_of
from seclab.engines.net.addrs import AddrSet, describe, parse_cidr
from seclab.engines.net.reach import sg_allowed
from seclab.grading import CheckContext, Finding, check_library


def _cidr_set(cidrs: list[str]) -> AddrSet:
    out = AddrSet.empty(4)
    for c in cidrs:
        net = parse_cidr(c)
        if net is not None and net.version == 4:
            out = out.union(AddrSet.of_network(net))
    return out


def run(ctx: CheckContext) -> Finding:
    lib = check_library("multi_account")
    p = lib.platform(ctx.org, ctx.facts)
    facts = ctx.facts
    problem = lib.accounts_problem(ctx, p)
    if problem is not None:
        return problem
    port = int(facts["service_port"])
    names = facts["security_groups"]
    hub = p.place(p.shared_id, facts["shared"], names["shared"])
    if hub is None or hub["sg"] is None:
        return ctx.fail("sg_missing", account=p.shared_name, sg=names["shared"], cidr=facts["shared"]["cidr"])
    spokes = {}
    for bu in p.bus:
        place = p.place(bu.account_id, bu.facts, names["business_unit"])
        if place is None or place["sg"] is None:
            return ctx.fail("sg_missing", account=bu.account_name, sg=names["business_unit"], cidr=bu.facts["cidr"])
        spokes[bu.name] = place
    model = model_of(ctx.org)
    vpc_of_group = {g.id: g.vpc_id for g in model.security_groups.values()}
    bu_cidrs = [bu.facts["cidr"] for bu in p.bus]
    groups: list[tuple[dict[str, Any], str, list[str], set[str], str, list[tuple[str, str]]]] = [
        (hub, p.shared_name, [*bu_cidrs, facts["shared"]["cidr"], facts["supernet"]],
         {s["vpc"] for s in spokes.values()} | {hub["vpc"]},
         f"the business units' and Shared Services' CIDRs (or the platform range {facts['supernet']})",
         [(bu.account_name, str(spokes[bu.name]["subnet_cidr"])) for bu in p.bus])]
    for bu in p.bus:
        s = spokes[bu.name]
        groups.append((s, bu.account_name, [facts["shared"]["cidr"], bu.facts["cidr"]], {hub["vpc"], s["vpc"]},
                       f"Shared Services ({facts['shared']['cidr']}) and {bu.name}'s own VPC ({bu.facts['cidr']})",
                       [(p.shared_name, str(hub["subnet_cidr"]))]))
    evidence: dict[str, Any] = {"hub": hub, "spokes": spokes}
    for place, account, allowed_cidrs, allowed_vpcs, allowed_text, flows in groups:
        sg = model.security_groups.get(str(place["sg"]))
        if sg is None:
            return ctx.fail("sg_missing", account=account, sg=place["sg"], cidr=place["cidr"])
        allowed = _cidr_set(allowed_cidrs)
        for rule in sg.ingress:
            peers = rule.peers_text()
            evidence["rule"] = {"group": sg.id, "ports": rule.ports_text(), "peers": peers}
            if not (rule.protocol == "tcp" and rule.from_port == port and rule.to_port == port):
                return ctx.fail("wrong_port", evidence=evidence, sg=f"{sg.name} ({sg.id})", account=account,
                                ports=rule.ports_text(), peers=peers, port=port)
            outside = rule.addrs4.subtract(allowed)
            foreign = [g for g in rule.groups if vpc_of_group.get(g) not in allowed_vpcs]
            if outside or rule.addrs6 or foreign:
                what = describe(outside) if outside else (", ".join(foreign) if foreign else "IPv6 addresses")
                return ctx.fail("wrong_source", evidence=evidence, sg=f"{sg.name} ({sg.id})", account=account,
                                port=port, peers=peers, outside=what, allowed=allowed_text)
        evidence.pop("rule", None)
        for source, cidr in flows:
            net = parse_cidr(cidr)
            peer = AddrSet.of_network(net) if net is not None else AddrSet.empty(4)
            if not peer or sg_allowed([sg], False, "tcp", port, peer, frozenset()) != peer:
                return ctx.fail("missing_flow", evidence=evidence, sg=f"{sg.name} ({sg.id})", account=account,
                                port=port, source=source, cidr=cidr)
    return ctx.ok("pass", evidence=evidence, shared_sg=names["shared"], port=port, count=len(p.bus),
                  bu_sg=names["business_unit"])
