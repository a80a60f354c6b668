"""Mermaid diagrams of what a learner built, drawn from the inventory (live state), for the notebooks.

Why generic: every lab benefits from "here is what you actually built" next to the target architecture. A lab can
add its own `diagram(org, facts) -> str` in labs/<lab>/diagram.py; this is the default.
"""

from __future__ import annotations

import re
from typing import Any

from seclab.inventory.model import AccountInventory, OrgInventory


def _id(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_]", "_", text)


def _label(text: str) -> str:
    return text.replace('"', "'")


def _tag_name(rec: Any, default: str) -> str:
    for tag in rec.get("Tags", []) or []:
        if tag.get("Key") == "Name":
            return str(tag.get("Value"))
    return default


def account_diagram(inv: AccountInventory, prefix: str = "") -> list[str]:
    lines: list[str] = []
    public_subnets = set()
    igws = {a.get("VpcId"): g["InternetGatewayId"] for g in inv.ec2.internet_gateways
            for a in g.get("Attachments", []) or []}
    for rt in inv.ec2.route_tables:
        if any(str(r.get("GatewayId", "")).startswith("igw-") for r in rt.get("Routes", [])):
            for assoc in rt.get("Associations", []) or []:
                if assoc.get("SubnetId"):
                    public_subnets.add(assoc["SubnetId"])
    for vpc in inv.ec2.vpcs:
        if vpc.get("IsDefault"):
            continue
        vid = vpc["VpcId"]
        lines.append(f'  subgraph {_id(prefix + vid)}["VPC {_label(_tag_name(vpc, vid))} {vpc.get("CidrBlock", "")}"]')
        for sn in inv.ec2.subnets:
            if sn.get("VpcId") != vid:
                continue
            kind = "public" if sn["SubnetId"] in public_subnets else "private"
            lines.append(f'    {_id(prefix + sn["SubnetId"])}["{_label(_tag_name(sn, sn["SubnetId"]))}'
                         f'<br/>{sn.get("CidrBlock", "")} ({kind})"]')
        for ep in inv.ec2.vpc_endpoints:
            if ep.get("VpcId") == vid:
                svc = str(ep.get("ServiceName", "")).split(".")[-1]
                lines.append(f'    {_id(prefix + ep["VpcEndpointId"])}{{{{"endpoint {svc}<br/>{ep.get("VpcEndpointType")}"}}}}')
        lines.append("  end")
        if vid in igws:
            lines.append(f'  {_id(prefix + igws[vid])}(("Internet gateway")) --- {_id(prefix + vid)}')
    for ep in inv.sagemaker.endpoints:
        name = ep["EndpointName"]
        lines.append(f'  {_id(prefix + "sm_" + name)}[/"SageMaker endpoint {_label(name)}"/]')
        cfg = next((c for c in inv.sagemaker.endpoint_configs if c["EndpointConfigName"] == ep.get("EndpointConfigName")), None)
        for variant in (cfg or {}).get("ProductionVariants", []):
            model = next((m for m in inv.sagemaker.models if m["ModelName"] == variant.get("ModelName")), None)
            for sn in ((model or {}).get("VpcConfig") or {}).get("Subnets", []):
                lines.append(f"  {_id(prefix + 'sm_' + name)} -.-> {_id(prefix + sn)}")
    for b in inv.s3.buckets:
        rules = (b.encryption or {}).get("Rules", [])
        enc = rules[0].get("ApplyServerSideEncryptionByDefault", {}).get("SSEAlgorithm") if rules else "none"
        lines.append(f'  {_id(prefix + "s3_" + b.name)}[("s3://{_label(b.name)}<br/>{enc}")]')
    for k in inv.kms.keys:
        if k.metadata.get("KeyManager") == "AWS" or any(a.startswith("alias/aws/") for a in k.aliases):
            continue
        name = k.aliases[0] if k.aliases else k.key_id[:8]
        lines.append(f'  {_id(prefix + "kms_" + k.key_id)}{{"KMS {_label(name)}<br/>{k.metadata.get("KeyState")}"}}')
    for role in inv.iam.roles:
        if str(role.get("Path", "")).startswith("/aws-service-role/") or role["RoleName"].startswith("AWSReservedSSO"):
            continue
        lines.append(f'  {_id(prefix + "role_" + role["RoleName"])}>"role {_label(role["RoleName"])}"]')
    return lines


def org_diagram(org: OrgInventory) -> str:
    lines = ["flowchart LR"]
    accounts = org.accounts()
    if len(accounts) == 1:
        lines += account_diagram(org.management)
    else:
        for acct_id, inv in accounts.items():
            lines.append(f'  subgraph acct_{acct_id}["account {acct_id}"]')
            lines += ["  " + line for line in account_diagram(inv, prefix=f"a{acct_id}_")]
            lines.append("  end")
    if len(lines) == 1:
        lines.append('  empty["Nothing built yet"]')
    return "```mermaid\n" + "\n".join(lines) + "\n```\n"
