"""The SageMaker Runtime interface endpoint is open to the invoking application on 443, and to nobody else.

The network engine decides that the application subnet reaches the interface endpoint on tcp/443; its security
groups admit no internet address, no other subnet reaches it, and the application reaches no other port.
"""

from __future__ import annotations

from seclab.grading import CheckContext, Finding, check_library


def run(ctx: CheckContext) -> Finding:
    from seclab.engines.net import reach

    pe = check_library("private_endpoint")
    f, inv = ctx.facts, ctx.inventory
    eps = pe.vpc_endpoints(inv, f, f["runtime_service_name"], "Interface")
    params = {"vpc": f["vpc_id"], "service": f["runtime_service_name"], "app_cidr": f["app_subnet_cidr"],
              "subnet": f["app_subnet_id"]}
    if not eps:
        return ctx.fail("missing", **params)
    ep = next((e for e in eps if e.get("PrivateDnsEnabled")), eps[0])
    vid = str(ep.get("VpcEndpointId"))
    if not ep.get("SubnetIds"):
        return ctx.fail("no_subnets", endpoint_id=vid, **params)
    groups = [str(g.get("GroupId")) for g in ep.get("Groups", []) or []]
    answer = reach(inv, {"from": {"subnet": f["app_subnet_id"], "security_groups": [f["app_security_group_id"]]},
                         "to": {"vpc_endpoint": vid}, "port": 443, "protocol": "tcp"})
    exp = pe.exposure_of(inv, {"vpc_endpoint": vid})
    rules = pe.internet_rules(inv, groups)
    others = pe.other_subnet_access(exp, f["app_subnet_id"], [f["app_security_group_id"]])
    app = next((s for s in exp.get("subnets", []) if s.get("subnet") == f["app_subnet_id"]), None)
    extra = [e for e in (app or {}).get("ports", [])
             if not (e.get("protocol") == "tcp" and e.get("from") == 443 and e.get("to") == 443)]
    evidence = {"VpcEndpointId": vid, "security_groups": groups, "reach_from_app": answer,
                "internet_rules": rules, "other_subnets": others, "app_ports": (app or {}).get("ports")}
    if rules:
        return ctx.fail("open_to_internet", evidence=evidence, endpoint_id=vid, rules=pe.rule_text(rules), **params)
    if others:
        return ctx.fail("other_subnets", evidence=evidence, endpoint_id=vid, subnets=pe.subnet_text(others), **params)
    if not answer.get("reachable"):
        blockers = "; ".join(f"{b['kind'].replace('_', ' ')} {b['component']}: {b['reason']}"
                             for b in answer.get("blocked_by", []))
        return ctx.fail("app_blocked", evidence=evidence, endpoint_id=vid, blockers=blockers or "no path", **params)
    if extra:
        return ctx.fail("other_ports", evidence=evidence, endpoint_id=vid,
                        ports=", ".join(pe.port_text(e) for e in extra), **params)
    return ctx.ok("pass", evidence=evidence, endpoint_id=vid, **params)
