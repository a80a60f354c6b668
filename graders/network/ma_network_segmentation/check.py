"""Task 4a: hub-and-spoke routing, judged with the network engine's reach() over the organization's inventory.

Only the routing layer is asked about here (blockers of kind route_table, transit_gateway or vpc_peering):
security groups are ma_network_sg_ports' business, and a BU-to-BU path held shut only by a security group is
a failure of segmentation.
"""

from __future__ import annotations

from typing import Any

from seclab.engines.net import reach
from seclab.grading import CheckContext, Finding, check_library

ROUTING = ("route_table", "transit_gateway", "vpc_peering")


def _end(place: dict[str, Any]) -> dict[str, Any]:
    end: dict[str, Any] = {"subnet": place["subnet"]}
    if place.get("sg"):
        end["security_groups"] = [place["sg"]]
    return end


def _path_text(result: dict[str, Any]) -> str:
    hops = [h for h in result.get("path", []) if h.get("kind") in ROUTING and h.get("ok", True)]
    return "; ".join(str(h.get("detail")).rstrip(".") for h in hops) or "no routing component refuses the traffic"


def _via(result: dict[str, Any]) -> set[str]:
    """How a reachable path crosses between VPCs (for the pass message)."""
    out = set()
    for h in result.get("path", []):
        text = f"{h.get('kind')} {h.get('component')} {h.get('detail')}"
        if "pcx-" in text:
            out.add("VPC peering")
        if "tgw-" in text:
            out.add("transit gateway")
    return out


def run(ctx: CheckContext) -> Finding:
    lib = check_library("multi_account")
    p = lib.platform(ctx.org, ctx.facts)
    facts = ctx.facts
    problem = lib.accounts_problem(ctx, p)
    if problem is not None:
        return problem
    sgs = facts["security_groups"]
    hub = p.place(p.shared_id, facts["shared"], sgs["shared"])
    if hub is None or hub["subnet"] is None:
        return ctx.fail("vpc_missing", account=p.shared_name, cidr=facts["shared"]["cidr"])
    spokes = {}
    for bu in p.bus:
        place = p.place(bu.account_id, bu.facts, sgs["business_unit"])
        if place is None or place["subnet"] is None:
            return ctx.fail("vpc_missing", account=bu.account_name, cidr=bu.facts["cidr"])
        spokes[bu.name] = place
    port = int(facts["service_port"])
    evidence: dict[str, Any] = {"hub": hub, "spokes": spokes}
    via: set[str] = set()
    for bu in p.bus:
        for src, dst, s_label, d_label in ((spokes[bu.name], hub, bu.account_name, p.shared_name),
                                           (hub, spokes[bu.name], p.shared_name, bu.account_name)):
            r = reach(ctx.org, {"from": _end(src), "to": _end(dst), "port": port, "protocol": "tcp"})
            blockers = [b for b in r["blocked_by"] if b["kind"] in ROUTING]
            if blockers:
                evidence["result"] = r
                return ctx.fail("not_connected", evidence=evidence, src=s_label, dst=d_label, port=port,
                                reasons="; ".join(b["reason"].rstrip(".") for b in blockers))
            via.update(_via(r))
    kinds: set[str] = set()
    for a in p.bus:
        for b in p.bus:
            if a.name == b.name:
                continue
            r = reach(ctx.org, {"from": _end(spokes[a.name]), "to": _end(spokes[b.name]), "port": port,
                                "protocol": "tcp"})
            blockers = [x for x in r["blocked_by"] if x["kind"] in ROUTING]
            if not blockers:
                evidence["result"] = r
                return ctx.fail("bu_to_bu", evidence=evidence, src=a.account_name, dst=b.account_name,
                                path=_path_text(r))
            kinds.update(x["kind"].replace("_", " ") for x in blockers)
    n = len(p.bus)
    return ctx.ok("pass", evidence=evidence, count=n, pairs=n * (n - 1), via=" and ".join(sorted(via)) or "routes",
                  blockers=" and ".join(sorted(kinds)))
