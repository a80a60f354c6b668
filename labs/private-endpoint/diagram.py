"""The private-endpoint lab's live diagram: the scenario's VPC as the learner has built it, with verdicts.

Why lab-specific: the generic diagram lists resources; this one answers the lab's questions at a glance. Which
subnet is public, where the model runs, who reaches it on which port (from the network engine's exposure summary),
which VPC endpoints exist and what their policy admits, and whether flow logs and CloudTrail are on. Anything not
built yet is drawn as a grey "not built" placeholder, so the picture grows as the learner works. It never raises:
a drawing problem becomes a note in the diagram.
"""

from __future__ import annotations

import re
from typing import Any

from seclab.inventory.model import AccountInventory, OrgInventory


def _id(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_]", "_", text)


def _q(text: Any) -> str:
    return str(text).replace('"', "'")


def _name(rec: Any, default: str) -> str:
    for tag in rec.get("Tags", []) or []:
        if tag.get("Key") == "Name":
            return str(tag.get("Value"))
    return default


def _ports(entries: list[dict[str, Any]]) -> str:
    out = []
    for e in entries:
        if e["from"] == 0 and e["to"] == 65535:
            out.append(f"{e['protocol']} all ports")
        elif e["from"] == e["to"]:
            out.append(f"{e['protocol']}/{e['from']}")
        else:
            out.append(f"{e['protocol']}/{e['from']}-{e['to']}")
    return ", ".join(out)


def _policy_scope(policy: Any, bucket: str) -> str:
    if not isinstance(policy, dict):
        return "no policy: any bucket"
    stmts = policy.get("Statement")
    stmts = [stmts] if isinstance(stmts, dict) else stmts or []
    resources: list[str] = []
    for s in stmts:
        if isinstance(s, dict) and s.get("Effect") == "Allow":
            r = s.get("Resource", [])
            resources += [r] if isinstance(r, str) else list(r)
    if any(r in ("*", "arn:aws:s3:::*") for r in resources):
        return "policy: any bucket"
    if resources and all(r.startswith(f"arn:aws:s3:::{bucket}") for r in resources):
        return "policy: model bucket only"
    return "policy: " + ", ".join(sorted({r.split(":::")[-1].split("/")[0] for r in resources}))[:60]


def _vpc(inv: AccountInventory, facts: dict[str, Any], lines: list[str], notes: list[str]) -> None:
    from seclab.engines.net import model_of

    vpc_id = facts.get("vpc_id")
    vpc = next((v for v in inv.ec2.vpcs if v.get("VpcId") == vpc_id), None)
    if vpc is None:
        notes.append(f"VPC {vpc_id} not found")
        return
    net = model_of(inv)
    model_subnets = set(facts.get("model_subnet_ids", []))
    lines.append(f'  subgraph {_id(vpc_id)}["VPC {_q(_name(vpc, vpc_id))} {vpc.get("CidrBlock", "")}"]')
    for sn in inv.ec2.subnets:
        if sn.get("VpcId") != vpc_id:
            continue
        sid = str(sn["SubnetId"])
        rt = net.route_tables.get(net.subnet_route_table.get(sid, ""))
        public = bool(rt and any(r.target_kind == "igw" for r in rt.routes))
        role = ("application" if sid == facts.get("app_subnet_id") else
                "model subnet" if sid in model_subnets else "")
        kind = "PUBLIC: route to internet gateway" if public else "private"
        lines.append(f'    {_id(sid)}["{_q(_name(sn, sid))}<br/>{sn.get("CidrBlock", "")}<br/>{kind}'
                     f'{("<br/>" + role) if role else ""}"]')
        lines.append(f"    class {_id(sid)} {'bad' if public and sid in model_subnets else 'pub' if public else 'net'}")
    lines.append("  end")
    if facts.get("internet_gateway_id"):
        lines.append(f'  {_id(facts["internet_gateway_id"])}(("internet gateway")) --- {_id(vpc_id)}')


def _endpoint(inv: AccountInventory, facts: dict[str, Any], lines: list[str], notes: list[str]) -> None:
    from seclab.engines.net import exposure

    name = str(facts.get("endpoint_name"))
    ep_node = _id("sm_" + name)
    ep = next((e for e in inv.sagemaker.endpoints if e.get("EndpointName") == name), None)
    if ep is None:
        lines.append(f'  {ep_node}[/"SageMaker endpoint {_q(name)}<br/>not built yet"/]')
        lines.append(f"  class {ep_node} todo")
        return
    cfg = next((c for c in inv.sagemaker.endpoint_configs
                if c.get("EndpointConfigName") == ep.get("EndpointConfigName")), None)
    models = [m for v in (cfg or {}).get("ProductionVariants", []) for m in inv.sagemaker.models
              if m.get("ModelName") == v.get("ModelName")]
    iso = all(m.get("EnableNetworkIsolation") for m in models) and bool(models)
    roles = sorted({str(m.get("ExecutionRoleArn", "")).rsplit("/", 1)[-1] for m in models})
    lines.append(f'  {ep_node}[/"SageMaker endpoint {_q(name)}<br/>role {_q(", ".join(roles) or "?")}'
                 f'<br/>network isolation {"on" if iso else "OFF"}"/]')
    lines.append(f"  class {ep_node} {'good' if iso else 'bad'}")
    subnets = [s for m in models for s in (m.get("VpcConfig") or {}).get("Subnets", []) or []]
    for s in dict.fromkeys(subnets):
        lines.append(f"  {ep_node} -. runs in .-> {_id(s)}")
    if not subnets:
        lines.append(f'  smnet(["SageMaker\'s own network (no VpcConfig)"]) --- {ep_node}')
        lines.append("  class smnet bad")
        return
    try:
        exp = exposure(inv, {"sagemaker_endpoint": name})
    except Exception as exc:  # noqa: BLE001 - a diagram shows what it can; the grader reports the problem
        notes.append(f"exposure of {name}: {exc}")
        return
    app_sg = facts.get("app_security_group_id")
    for s in exp.get("subnets", []):
        if s["subnet"] != facts.get("app_subnet_id") and all(
                not e.get("any_workload") and set(e.get("requires_security_groups") or []) <= {app_sg}
                for e in s["ports"]):
            continue  # reachable only by the application's own security group, wherever it runs
        ok = s["subnet"] == facts.get("app_subnet_id") and all(
            e["protocol"] == "tcp" and e["from"] == e["to"] == facts.get("port") for e in s["ports"])
        lines.append(f'  {_id(s["subnet"])} ==>|"{_ports(s["ports"])}"| {ep_node}')
        if not ok:
            notes.append(f"{s['subnet']} reaches the endpoint on {_ports(s['ports'])}")
    inet = exp.get("internet", {})
    rules = [r for r in exp.get("ingress_rules", []) if any(c in ("0.0.0.0/0", "::/0") for c in r.get("cidrs", []))]
    if inet.get("reachable") or rules:
        lines.append(f'  internet(("internet")) -.->|"open rule: {_q(_ports(rules or inet.get("ports", [])))}"| '
                     f'{ep_node}')
        lines.append("  class internet bad")


def _vpc_endpoints(inv: AccountInventory, facts: dict[str, Any], lines: list[str]) -> None:
    bucket = str(facts.get("model_bucket"))
    b_node = _id("s3_" + bucket)
    lines.append(f'  {b_node}[("s3://{_q(bucket)}<br/>{_q(facts.get("model_prefix", ""))}/model.tar.gz")]')
    eps = [e for e in inv.ec2.vpc_endpoints if e.get("VpcId") == facts.get("vpc_id")]
    gw = [e for e in eps if e.get("ServiceName") == facts.get("s3_service_name") and e.get("VpcEndpointType") == "Gateway"]
    rt = [e for e in eps if e.get("ServiceName") == facts.get("runtime_service_name")]
    ep_node = _id("sm_" + str(facts.get("endpoint_name")))
    if gw:
        e = gw[0]
        node = _id(str(e["VpcEndpointId"]))
        scope = _policy_scope(e.get("PolicyDocument"), bucket)
        lines.append(f'  {node}{{{{"S3 gateway endpoint<br/>{_q(scope)}<br/>route tables '
                     f'{_q(", ".join(e.get("RouteTableIds") or []) or "none")}"}}}}')
        lines.append(f"  class {node} {'good' if 'model bucket only' in scope else 'bad'}")
        lines.append(f'  {ep_node} -->|"model download"| {node} --> {b_node}')
    else:
        lines.append('  s3gw{{"S3 gateway endpoint<br/>not built yet"}}')
        lines.append("  class s3gw todo")
        lines.append(f"  s3gw -.-> {b_node}")
    app = _id(str(facts.get("app_subnet_id")))
    if rt:
        e = rt[0]
        node = _id(str(e["VpcEndpointId"]))
        dns = "private DNS on" if e.get("PrivateDnsEnabled") else "private DNS OFF"
        lines.append(f'  {node}{{{{"SageMaker Runtime endpoint<br/>{dns}"}}}}')
        lines.append(f"  class {node} {'good' if e.get('PrivateDnsEnabled') else 'bad'}")
        lines.append(f'  {app} -->|"InvokeEndpoint, tcp/443"| {node} -.-> {ep_node}')
    else:
        lines.append('  rtvpce{{"SageMaker Runtime endpoint<br/>not built yet"}}')
        lines.append("  class rtvpce todo")


def _evidence(inv: AccountInventory, facts: dict[str, Any], lines: list[str]) -> None:
    flows = [f for f in inv.ec2.flow_logs if f.get("ResourceId") in (facts.get("vpc_id"), facts.get("app_subnet_id"),
                                                                         *facts.get("model_subnet_ids", []))]
    if flows:
        fl = flows[0]
        lines.append(f'  flowlogs[["flow logs ({_q(fl.get("TrafficType"))})<br/>{_q(fl.get("LogGroupName"))}"]]')
        lines.append(f"  flowlogs -.- {_id(str(facts.get('vpc_id')))}")
        lines.append(f"  class flowlogs {'good' if fl.get('TrafficType') == 'ALL' else 'bad'}")
    else:
        lines.append('  flowlogs[["flow logs: not built yet"]]')
        lines.append("  class flowlogs todo")
    trails = list(inv.cloudtrail.trails)
    logging = [t for t in trails if (t.get("Status") or {}).get("IsLogging")]
    if logging:
        lines.append(f'  trail[["CloudTrail {_q(logging[0].get("Name"))}: logging"]]')
        lines.append("  class trail good")
    else:
        lines.append(f'  trail[["CloudTrail: {"not logging" if trails else "not built yet"}"]]')
        lines.append("  class trail todo")


def diagram(org: OrgInventory, facts: dict[str, Any]) -> str:
    inv = org.management
    lines = ["flowchart LR",
             "  classDef good fill:#dafbe1,stroke:#1a7f37", "  classDef bad fill:#ffebe9,stroke:#cf222e",
             "  classDef todo fill:#f6f8fa,stroke:#8c959f,stroke-dasharray:4 3", "  classDef pub fill:#fff8c5",
             "  classDef net fill:#ffffff"]
    notes: list[str] = []
    if not facts:
        return "```mermaid\nflowchart LR\n  empty[\"Run the set-up cell first\"]\n```\n"
    for part in (_vpc, _endpoint):
        try:
            part(inv, facts, lines, notes)
        except Exception as exc:  # noqa: BLE001 - never fail the learner's cell over a drawing
            notes.append(f"{part.__name__.strip('_')}: {type(exc).__name__}")
    for part2 in (_vpc_endpoints, _evidence):
        try:
            part2(inv, facts, lines)
        except Exception as exc:  # noqa: BLE001
            notes.append(f"{part2.__name__.strip('_')}: {type(exc).__name__}")
    for i, n in enumerate(notes[:4]):
        lines.append(f'  note{i}>"⚠ {_q(n)[:120]}"]')
        lines.append(f"  class note{i} bad")
    return "```mermaid\n" + "\n".join(lines) + "\n```\n"
