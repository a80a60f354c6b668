"""Nothing on the internet can reach the endpoint: no security-group rule admits an internet address.

SageMaker never gives model containers public addresses, so the network engine finds no internet path even with an
open rule; the rule itself is still the finding (one routing change away from exposure), so the security groups are
judged too: any inbound source that includes an internet address (0.0.0.0/0, ::/0, a public range) fails.
"""

from __future__ import annotations

from seclab.grading import CheckContext, Finding, check_library


def run(ctx: CheckContext) -> Finding:
    pe = check_library("private_endpoint")
    f, inv = ctx.facts, ctx.inventory
    ch, problem = pe.endpoint_chain(ctx)
    if problem is not None:
        return problem
    if not pe.model_subnets(ch):
        return ctx.fail("not_in_vpc", endpoint=f["endpoint_name"])
    groups = pe.model_groups(inv, ch)
    have = {str(g.get("GroupId")) for g in inv.ec2.security_groups}
    missing = [g for g in groups if g not in have]
    if missing:
        return ctx.fail("sg_missing", evidence={"SecurityGroupIds": groups}, group=missing[0],
                        endpoint=f["endpoint_name"])
    rules = pe.internet_rules(inv, groups)
    exp = pe.exposure_of(inv, {"sagemaker_endpoint": f["endpoint_name"]})
    evidence = {"security_groups": groups, "internet_rules": rules, "internet": exp.get("internet"),
                "ingress_rules": exp.get("ingress_rules")}
    params = {"endpoint": f["endpoint_name"], "app_cidr": f["app_subnet_cidr"], "port": f["port"]}
    if rules:
        return ctx.fail("open_to_internet", evidence=evidence, rules=pe.rule_text(rules), **params)
    if exp.get("internet", {}).get("reachable"):
        ports = "; ".join(pe.port_text(e) for e in exp["internet"].get("ports", []))
        return ctx.fail("internet_reachable", evidence=evidence, ports=ports, **params)
    return ctx.ok("pass", evidence=evidence, groups=", ".join(groups), **params)
