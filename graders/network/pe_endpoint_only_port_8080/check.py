"""The invoking application reaches the endpoint only on the model port (8080), no other port.

From the network engine's exposure summary: the ports (tcp and udp) on which the application subnet reaches the
endpoint. Anything beyond the model port is surface an attacker in the application subnet could use.
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
    port = int(f["port"])
    exp = pe.exposure_of(inv, {"sagemaker_endpoint": f["endpoint_name"]})
    app = next((s for s in exp.get("subnets", []) if s.get("subnet") == f["app_subnet_id"]), None)
    entries = list(app.get("ports", [])) if app else []
    extra = [e for e in entries if not (e.get("protocol") == "tcp" and e.get("from") == port and e.get("to") == port)]
    evidence = {"app_subnet": app, "ingress_rules": exp.get("ingress_rules")}
    params = {"endpoint": f["endpoint_name"], "port": port, "subnet": f["app_subnet_id"]}
    if extra:
        return ctx.fail("other_ports", evidence=evidence, ports=", ".join(pe.port_text(e) for e in extra), **params)
    return ctx.ok("pass", evidence=evidence, **params)
