"""Every model behind the lab's endpoint runs with network isolation.

With EnableNetworkIsolation the model container has no outbound network access at all: it cannot call out of the
VPC, even through the VPC's own routes, which is what stops a compromised model from exfiltrating data.
"""

from __future__ import annotations

from seclab.grading import CheckContext, Finding, check_library


def run(ctx: CheckContext) -> Finding:
    pe = check_library("private_endpoint")
    f = ctx.facts
    ch, problem = pe.endpoint_chain(ctx)
    if problem is not None:
        return problem
    evidence = {str(m.get("ModelName")): {"EnableNetworkIsolation": m.get("EnableNetworkIsolation")}
                for m in ch.models}
    off = [m for m in ch.models if m.get("EnableNetworkIsolation") is not True]
    if off:
        return ctx.fail("isolation_off", evidence=evidence, model=off[0].get("ModelName"), endpoint=f["endpoint_name"])
    return ctx.ok("pass", evidence=evidence, endpoint=f["endpoint_name"],
                  models=", ".join(str(m.get("ModelName")) for m in ch.models))
