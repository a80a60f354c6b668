"""The latest training job's isolation: the two flags, and its VpcConfig resolved against the inventory (the
simulator accepts any subnet or security group id, moto-feasibility §1.1)."""

from __future__ import annotations

from typing import Any

from seclab.grading import CheckContext, Finding, check_library
from seclab.inventory.model import AccountInventory


def _public(inv: AccountInventory, subnet: dict[str, Any]) -> bool:
    """Does the subnet's route table (its explicit association, else the VPC's main table) reach an IGW?"""
    sid, vid = subnet["SubnetId"], subnet.get("VpcId")
    tables = [t for t in inv.ec2.route_tables if t.get("VpcId") == vid]
    table = next((t for t in tables if any(a.get("SubnetId") == sid for a in t.get("Associations") or [])), None)
    if table is None:
        table = next((t for t in tables if any(a.get("Main") for a in t.get("Associations") or [])), None)
    routes = (table or {}).get("Routes") or []
    return any(str(r.get("GatewayId") or "").startswith("igw-") for r in routes)


def run(ctx: CheckContext) -> Finding:
    lib = check_library("cmk_pipeline")
    inv, facts = ctx.inventory, ctx.facts
    prefix = str(facts["training_job_prefix"])
    vpc_id = str(facts["vpc_id"])
    if not any(v.get("VpcId") == vpc_id for v in inv.ec2.vpcs):
        return ctx.error("network_missing", vpc=vpc_id)
    jobs = lib.training_jobs(inv, prefix)
    if not jobs:
        return ctx.fail("no_job", prefix=prefix)
    job = jobs[0]
    name = str(job.get("TrainingJobName"))
    vpc_cfg = job.get("VpcConfig") or {}
    evidence = {"training_job": name, "EnableNetworkIsolation": job.get("EnableNetworkIsolation"),
                "EnableInterContainerTrafficEncryption": job.get("EnableInterContainerTrafficEncryption"),
                "VpcConfig": vpc_cfg}
    problems: list[str] = []
    if not job.get("EnableNetworkIsolation"):
        problems.append("EnableNetworkIsolation is off (the container can reach the network)")
    if not job.get("EnableInterContainerTrafficEncryption"):
        problems.append("EnableInterContainerTrafficEncryption is off")
    subnets = [str(s) for s in vpc_cfg.get("Subnets") or []]
    groups = [str(g) for g in vpc_cfg.get("SecurityGroupIds") or []]
    if not subnets:
        problems.append("it has no VpcConfig (SageMaker runs it outside your VPC, so your VPC endpoint and its "
                        "policy do not apply)")
    known = {s["SubnetId"]: s for s in inv.ec2.subnets}
    private = set(str(s) for s in facts["private_subnets"])
    for sid in subnets:
        subnet = known.get(sid)
        if subnet is None:
            problems.append(f"subnet {sid} does not exist")
        elif subnet.get("VpcId") != vpc_id:
            problems.append(f"subnet {sid} is not in the pipeline VPC {vpc_id}")
        elif _public(inv, subnet):
            problems.append(f"subnet {sid} is public (its route table reaches an internet gateway)")
        elif sid not in private:
            problems.append(f"subnet {sid} is not one of the pipeline's private subnets {lib.listing(sorted(private))}")
    if subnets and not groups:
        problems.append("its VpcConfig names no security group")
    sgs = {g["GroupId"]: g for g in inv.ec2.security_groups}
    for gid in groups:
        if gid not in sgs:
            problems.append(f"security group {gid} does not exist")
        elif sgs[gid].get("VpcId") != vpc_id:
            problems.append(f"security group {gid} is not in the pipeline VPC")
    if problems:
        return ctx.fail("problems", evidence=evidence, job=name, details="; ".join(problems), prefix=prefix)
    return ctx.ok("pass", evidence=evidence, job=name, subnets=lib.listing(subnets))
