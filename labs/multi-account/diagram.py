"""The multi-account lab's live diagram: the organization as built (OUs, accounts, guardrails, MLOps trust and
network links) and the isolation matrix, both drawn from the simulator's state by the same analysis the grader
uses (graders/_lib/multi_account.py and the network engine), so what the learner sees is what is
graded. `seclab diagram multi-account` (and lab.diagram() in the notebook) prints it as Markdown.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from types import ModuleType
from typing import Any

from seclab.engines.net import reach
from seclab.inventory.model import OrgInventory
from seclab.grading import check_library

ROUTING = ("route_table", "transit_gateway", "vpc_peering")


def _lib() -> ModuleType:
    """The same analysis the checks use (graders/_lib/multi_account.py), so the diagram shows what is graded."""
    return check_library("multi_account")


def _id(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_]", "_", text)


def _q(text: str) -> str:
    return text.replace('"', "'")


def _scps(o: Any, target: str) -> list[str]:
    return [str(p.get("Name")) for p in o.policies if p.get("Type") == "SERVICE_CONTROL_POLICY"
            and p.get("Name") != "FullAWSAccess" and any(t.get("TargetId") == target for t in p.get("Targets", []))]


def org_chart(p: Any) -> list[str]:
    o = p.organization
    lines = ["```mermaid", "flowchart TB"]
    if o is None:
        return lines + ['  none["No organization"]', "```"]
    root = str(o.roots[0]["Id"]) if o.roots else "root"
    scp = _scps(o, root)
    lines.append(f'  {_id(root)}["Root {root}' + (f"<br/>SCPs: {', '.join(scp)}" if scp else "") + '"]')
    for ou in o.ous:
        scp = _scps(o, str(ou["Id"]))
        lines.append(f'  {_id(ou["Id"])}["OU {_q(str(ou.get("Name")))}' + (f"<br/>SCPs: {', '.join(scp)}" if scp else "")
                     + '"]')
        lines.append(f"  {_id(ou['ParentId'])} --> {_id(ou['Id'])}")
    principals = p.principals()
    for a in o.accounts:
        acct = str(a["Id"])
        inv = p.inv(acct)
        details = [f"{_q(str(a.get('Name')))} ({acct})"]
        if acct == p.mgmt_id:
            details[0] = f"management: {details[0]}"
        if inv is not None:
            vpcs = [str(v.get("CidrBlock")) for v in inv.ec2.vpcs if not v.get("IsDefault")]
            if vpcs:
                details.append("VPC " + ", ".join(vpcs))
            details += [f"s3://{b.name}" for b in inv.s3.buckets]
            details += [f"ECR {r.get('repositoryName')}" for r in inv.ecr.repositories]
            roles = sorted(x.name for x in principals.values() if x.account == acct and x.kind == "role"
                           and x.name != "OrganizationAccountAccessRole")
            if roles:
                details.append("roles: " + ", ".join(roles))
            sso = sorted(x.name for x in principals.values() if x.account == acct and x.kind == "sso_role")
            if sso:
                details.append("Identity Center: " + ", ".join(sso))
        scp = _scps(o, acct)
        if scp:
            details.append("SCPs: " + ", ".join(scp))
        lines.append(f'  a{acct}["{"<br/>".join(_q(d) for d in details)}"]')
        lines.append(f"  {_id(a['ParentId'])} --> a{acct}")
    # trust: who the MLOps role becomes
    for edges in p.graph().edges.values():
        for e in edges:
            src, dst = principals.get(e.src), principals.get(e.dst)
            if src is None or dst is None or e.via != "sts:AssumeRole":
                continue
            if src.account != dst.account and src.account and dst.account:
                lines.append(f"  a{src.account} -.->|{_q(src.name)} assumes {_q(dst.name)}| a{dst.account}")
    # network: active peerings and shared transit gateways between accounts
    seen: set[tuple[str, str]] = set()
    vpc_owner = {str(v["VpcId"]): acct for acct, inv in p.org.accounts().items() for v in inv.ec2.vpcs}
    for inv in p.org.accounts().values():
        for pcx in inv.ec2.vpc_peering_connections:
            if (pcx.get("Status") or {}).get("Code") != "active":
                continue
            a1 = vpc_owner.get(str((pcx.get("RequesterVpcInfo") or {}).get("VpcId")))
            a2 = vpc_owner.get(str((pcx.get("AccepterVpcInfo") or {}).get("VpcId")))
            if a1 and a2 and (a1, a2) not in seen:
                seen.add((a1, a2))
                lines.append(f"  a{a1} <==>|{pcx['VpcPeeringConnectionId']}| a{a2}")
    lines.append("```")
    return lines


def _end(place: Mapping[str, Any]) -> dict[str, Any]:
    end: dict[str, Any] = {"subnet": place["subnet"]}
    if place.get("sg"):
        end["security_groups"] = [place["sg"]]
    return end


def matrix(p: Any, org: OrgInventory) -> list[str]:
    """Rows: from; columns: to. IAM = some identity path reaches the other's models, data or compute; net = the
    other's VPC is routed (and which port the security groups admit)."""
    facts = p.facts
    missing = p.missing_accounts()
    if missing:
        return [f"_Isolation matrix: waiting for the accounts {', '.join(missing)}._"]
    breaches = {(b["from"], b["to"]): b["path"] for b in p.breaches()}
    port = int(facts["service_port"])
    sgs = facts["security_groups"]
    places = {bu.name: p.place(bu.account_id, bu.facts, sgs["business_unit"]) for bu in p.bus}
    hub = p.place(p.shared_id, facts["shared"], sgs["shared"])
    names = [bu.name for bu in p.bus]
    head = "| from \\ to | " + " | ".join(names) + " | shared-services (tcp/" + str(port) + ") |"
    rows = [head, "|" + "---|" * (len(names) + 2)]
    notes = []

    def routed(src: Any, dst: Any) -> tuple[bool, bool]:
        if not src or not dst or not src.get("subnet") or not dst.get("subnet"):
            return False, False
        r = reach(org, {"from": _end(src), "to": _end(dst), "port": port, "protocol": "tcp"})
        return not any(b["kind"] in ROUTING for b in r["blocked_by"]), bool(r["reachable"])

    for a in names:
        cells = []
        for b in names:
            if a == b:
                cells.append("—")
                continue
            net, _open = routed(places[a], places[b])
            iam = (a, b) in breaches
            if iam:
                notes.append(f"- **{a} → {b}** (identity): {breaches[(a, b)]}")
            cells.append("isolated" if not (iam or net) else "**BREACH: " + " + ".join(
                x for x, on in (("IAM", iam), ("network", net)) if on) + "**")
        net, open_ = routed(places[a], hub)
        cells.append("reachable" if open_ else ("routed, port closed" if net else "not connected"))
        rows.append(f"| **{a}** | " + " | ".join(cells) + " |")
    _arn, detours = p.mlops_detours()
    mlops = f"MLOps enters each business unit only as {facts['roles']['mlops_access']}." if not detours else (
        "MLOps detours: " + "; ".join(d["path"] for d in detours[:3]))
    return ["**Isolation matrix** (live: identity paths from the who-can-reach graph, routes from the network "
            "engine)", "", *rows, "", mlops, *([""] + notes if notes else [])]


def diagram(org: OrgInventory, facts: Mapping[str, Any]) -> str:
    if not facts:
        return "Set the lab up first: `lab.setup()`.\n"
    p = _lib().platform(org, facts)
    return "\n".join([*org_chart(p), "", *matrix(p, org)]) + "\n"
