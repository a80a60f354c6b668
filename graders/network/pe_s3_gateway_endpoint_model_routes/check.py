"""An S3 gateway endpoint serves the model's private subnets, so the model download stays on the AWS network.

The model subnets are those of the endpoint's VpcConfig (or, before the endpoint exists, the scenario's private
subnet); each subnet's effective route table (resolved by the network engine) must be associated with an S3 gateway
endpoint of the VPC.
"""

from __future__ import annotations

from typing import Any

from seclab.grading import CheckContext, Finding, check_library


def run(ctx: CheckContext) -> Finding:
    from seclab.engines.net import model_of

    pe = check_library("private_endpoint")
    f, inv = ctx.facts, ctx.inventory
    gws = pe.vpc_endpoints(inv, f, f["s3_service_name"], "Gateway")
    subnets = pe.model_subnets(pe.chain(inv, f)) or list(f["model_subnet_ids"])
    net = model_of(inv)
    tables = {s: net.subnet_route_table.get(s) for s in subnets}
    params = {"vpc": f["vpc_id"], "region": f["region"], "service": f["s3_service_name"],
              "route_tables": ", ".join(sorted({str(t) for t in tables.values() if t})) or "none",
              "subnets": ", ".join(subnets)}
    evidence: dict[str, Any] = {"gateway_endpoints": [{"VpcEndpointId": g.get("VpcEndpointId"),
                                                       "RouteTableIds": g.get("RouteTableIds")} for g in gws],
                                "model_subnet_route_tables": tables}
    if not gws:
        return ctx.fail("missing", evidence=evidence, **params)
    served = {str(rt) for g in gws for rt in g.get("RouteTableIds", []) or []}
    uncovered = {s: t for s, t in tables.items() if t not in served}
    if uncovered:
        return ctx.fail("not_on_model_routes", evidence=evidence, endpoint_id=gws[0].get("VpcEndpointId"),
                        missing=", ".join(f"{s} (route table {t})" for s, t in uncovered.items()), **params)
    return ctx.ok("pass", evidence=evidence, endpoint_id=", ".join(str(g.get("VpcEndpointId")) for g in gws), **params)
