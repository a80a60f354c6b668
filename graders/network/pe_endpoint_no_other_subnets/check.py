"""No subnet other than the invoking application's reaches the endpoint, on any port.

From the network engine's exposure summary: every subnet from which a workload could reach the endpoint. A subnet
reached only by workloads carrying the application's own security group (an SG-to-SG rule) counts as the
application's access, wherever that group is used.
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
    exp = pe.exposure_of(inv, {"sagemaker_endpoint": f["endpoint_name"]})
    others = pe.other_subnet_access(exp, f["app_subnet_id"], [f["app_security_group_id"]])
    evidence = {"subnets": exp.get("subnets"), "ingress_rules": exp.get("ingress_rules"), "other_subnets": others}
    params = {"endpoint": f["endpoint_name"], "app_subnet": f["app_subnet_id"], "app_cidr": f["app_subnet_cidr"],
              "app_sg": f["app_security_group_id"]}
    if others:
        return ctx.fail("other_subnets", evidence=evidence, subnets=pe.subnet_text(others), **params)
    return ctx.ok("pass", evidence=evidence, **params)
