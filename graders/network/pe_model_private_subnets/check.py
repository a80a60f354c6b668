"""The endpoint runs only in private subnets of the application's VPC: no route to an internet gateway.

Where the model runs is where its VpcConfig puts it; the network engine resolves each subnet's effective route table
(explicit association or the VPC's main table) and reports whether it routes to an internet gateway.
"""

from __future__ import annotations

from seclab.grading import CheckContext, Finding, check_library


def run(ctx: CheckContext) -> Finding:
    pe = check_library("private_endpoint")
    f, inv = ctx.facts, ctx.inventory
    ch, problem = pe.endpoint_chain(ctx)
    if problem is not None:
        return problem
    for m in ch.models:
        if not (m.get("VpcConfig") or {}).get("Subnets"):
            return ctx.fail("no_vpc", evidence={"VpcConfig": m.get("VpcConfig")}, model=m.get("ModelName"),
                            subnets=", ".join(f["model_subnet_ids"]))
    known = {str(s.get("SubnetId")): s for s in inv.ec2.subnets}
    for sid in pe.model_subnets(ch):
        if sid not in known:
            return ctx.fail("unknown_subnet", evidence={"subnets": pe.model_subnets(ch)}, subnet=sid)
        if known[sid].get("VpcId") != f["vpc_id"]:
            return ctx.fail("other_vpc", evidence={"subnet": sid, "VpcId": known[sid].get("VpcId")}, subnet=sid,
                            vpc=known[sid].get("VpcId"), expected_vpc=f["vpc_id"])
    exp = pe.exposure_of(inv, {"sagemaker_endpoint": f["endpoint_name"]})
    placements = exp.get("placements", [])
    evidence = {"placements": placements}
    public = [p for p in placements if not p.get("private")]
    if public:
        p = public[0]
        return ctx.fail("public_subnet", evidence=evidence, subnet=p["subnet"], cidr=p.get("cidr"),
                        route_table=p.get("route_table"), igw=p.get("route_to_internet_gateway"),
                        suggested=", ".join(f["model_subnet_ids"]))
    return ctx.ok("pass", evidence=evidence, endpoint=f["endpoint_name"], vpc=f["vpc_id"],
                  subnets=", ".join(f"{p['subnet']} ({p.get('cidr')})" for p in placements))
