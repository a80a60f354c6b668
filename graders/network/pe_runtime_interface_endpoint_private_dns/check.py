"""An interface endpoint for the SageMaker Runtime, with private DNS, keeps invocations inside the VPC.

With private DNS on, the application's ordinary SDK calls to runtime.sagemaker.<region>.amazonaws.com resolve to the
endpoint's private interfaces in the VPC instead of public addresses; no code change, no internet path.
"""

from __future__ import annotations

from seclab.grading import CheckContext, Finding, check_library


def run(ctx: CheckContext) -> Finding:
    pe = check_library("private_endpoint")
    f, inv = ctx.facts, ctx.inventory
    eps = pe.vpc_endpoints(inv, f, f["runtime_service_name"], "Interface")
    params = {"vpc": f["vpc_id"], "service": f["runtime_service_name"], "region": f["region"]}
    if not eps:
        return ctx.fail("missing", evidence={"vpc_endpoints": [e.get("ServiceName") for e in inv.ec2.vpc_endpoints
                                                               if e.get("VpcId") == f["vpc_id"]]}, **params)
    evidence = [{k: e.get(k) for k in ("VpcEndpointId", "PrivateDnsEnabled", "SubnetIds", "Groups", "DnsEntries",
                                       "State")} for e in eps]
    good = [e for e in eps if e.get("PrivateDnsEnabled") and e.get("SubnetIds")]
    if not good:
        e = eps[0]
        if not e.get("PrivateDnsEnabled"):
            return ctx.fail("private_dns_off", evidence=evidence, endpoint_id=e.get("VpcEndpointId"), **params)
        return ctx.fail("no_subnets", evidence=evidence, endpoint_id=e.get("VpcEndpointId"), **params)
    e = good[0]
    return ctx.ok("pass", evidence=evidence, endpoint_id=e.get("VpcEndpointId"),
                  subnets=", ".join(e.get("SubnetIds") or []), **params)
