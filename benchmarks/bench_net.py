"""Network engine speed: 1,000 reachability queries over a 3-VPC, 30-subnet estate after the inventory is read
(target: under 1 s).

Starts its own simulator (private state dir, free port), builds the estate as a learner through boto3 (three VPCs
of ten subnets, peering A-B, a transit gateway B-C, an internet gateway, NACLs, security groups with CIDR and group
references, interface and gateway endpoints, a SageMaker endpoint), reads the inventory once, then times the model
build and 1,000 mixed queries (internet, same VPC, peering, transit gateway, non-transitive, endpoints).
"""

from __future__ import annotations

import os
import random
import socket
import statistics
import sys
import tempfile
import time

QUERIES = 1000
TARGET_S = 1.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def build(session: object) -> dict[str, list[str] | str]:
    ec2 = session.client("ec2")  # type: ignore[attr-defined]
    az = ec2.describe_availability_zones()["AvailabilityZones"][0]["ZoneName"]
    out: dict[str, list[str] | str] = {"subnets": [], "sgs": [], "enis": []}
    vpcs = []
    for v in range(3):
        vpc = ec2.create_vpc(CidrBlock=f"10.{v + 1}.0.0/16")["Vpc"]["VpcId"]
        vpcs.append(vpc)
        web = ec2.create_security_group(GroupName=f"web{v}", Description="web", VpcId=vpc)["GroupId"]
        ec2.authorize_security_group_ingress(GroupId=web, IpPermissions=[
            {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}])
        app = ec2.create_security_group(GroupName=f"app{v}", Description="app", VpcId=vpc)["GroupId"]
        ec2.authorize_security_group_ingress(GroupId=app, IpPermissions=[
            {"IpProtocol": "tcp", "FromPort": 8080, "ToPort": 8080, "UserIdGroupPairs": [{"GroupId": web}]},
            {"IpProtocol": "tcp", "FromPort": 8000, "ToPort": 8100, "IpRanges": [{"CidrIp": "10.0.0.0/8"}]}])
        out["sgs"] += [web, app]  # type: ignore[operator]
        igw = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
        ec2.attach_internet_gateway(InternetGatewayId=igw, VpcId=vpc)
        public_rt = ec2.create_route_table(VpcId=vpc)["RouteTable"]["RouteTableId"]
        ec2.create_route(RouteTableId=public_rt, DestinationCidrBlock="0.0.0.0/0", GatewayId=igw)
        acl = ec2.create_network_acl(VpcId=vpc)["NetworkAcl"]["NetworkAclId"]
        for num, egress, action, proto, ports, cidr in (
                (90, False, "deny", "6", (22, 22), "0.0.0.0/0"), (100, False, "allow", "-1", None, "0.0.0.0/0"),
                (100, True, "allow", "6", (1024, 65535), "0.0.0.0/0"), (110, True, "allow", "6", (8000, 8100),
                                                                        "10.0.0.0/8")):
            kw = {"PortRange": {"From": ports[0], "To": ports[1]}} if ports else {}
            ec2.create_network_acl_entry(NetworkAclId=acl, RuleNumber=num, Protocol=proto, RuleAction=action,
                                         Egress=egress, CidrBlock=cidr, **kw)
        for s in range(10):
            sub = ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.{v + 1}.{s}.0/24", AvailabilityZone=az)["Subnet"][
                "SubnetId"]
            out["subnets"].append(sub)  # type: ignore[union-attr]
            if s < 3:
                ec2.modify_subnet_attribute(SubnetId=sub, MapPublicIpOnLaunch={"Value": True})
                ec2.associate_route_table(RouteTableId=public_rt, SubnetId=sub)
            elif s >= 7:
                assoc = ec2.describe_network_acls(Filters=[{"Name": "association.subnet-id", "Values": [sub]}])
                aid = next(a["NetworkAclAssociationId"] for n in assoc["NetworkAcls"] for a in n["Associations"]
                           if a["SubnetId"] == sub)
                ec2.replace_network_acl_association(AssociationId=aid, NetworkAclId=acl)
            if s % 4 == 0:
                eni = ec2.create_network_interface(SubnetId=sub, Groups=[app])["NetworkInterface"]
                out["enis"].append(eni["NetworkInterfaceId"])  # type: ignore[union-attr]
        if v == 0:
            out["vpce"] = ec2.create_vpc_endpoint(VpcId=vpc, ServiceName="com.amazonaws.us-east-1.s3",
                                                  VpcEndpointType="Gateway", RouteTableIds=[public_rt])[
                "VpcEndpoint"]["VpcEndpointId"]
    pcx = ec2.create_vpc_peering_connection(VpcId=vpcs[0], PeerVpcId=vpcs[1])["VpcPeeringConnection"][
        "VpcPeeringConnectionId"]
    ec2.accept_vpc_peering_connection(VpcPeeringConnectionId=pcx)
    tgw = ec2.create_transit_gateway()["TransitGateway"]["TransitGatewayId"]
    subs = out["subnets"]
    for v, vpc in ((1, vpcs[1]), (2, vpcs[2])):
        att = ec2.create_transit_gateway_vpc_attachment(TransitGatewayId=tgw, VpcId=vpc, SubnetIds=[subs[v * 10]])[
            "TransitGatewayVpcAttachment"]["TransitGatewayAttachmentId"]
        rt = ec2.describe_transit_gateways(TransitGatewayIds=[tgw])["TransitGateways"][0]["Options"][
            "AssociationDefaultRouteTableId"]
        ec2.enable_transit_gateway_route_table_propagation(TransitGatewayRouteTableId=rt,
                                                           TransitGatewayAttachmentId=att)
    for t in ec2.describe_route_tables()["RouteTables"]:
        if t["VpcId"] == vpcs[0]:
            ec2.create_route(RouteTableId=t["RouteTableId"], DestinationCidrBlock="10.2.0.0/16",
                             VpcPeeringConnectionId=pcx)
            ec2.create_route(RouteTableId=t["RouteTableId"], DestinationCidrBlock="10.3.0.0/16",
                             VpcPeeringConnectionId=pcx)  # not transitive: always blocked
        elif t["VpcId"] == vpcs[1]:
            ec2.create_route(RouteTableId=t["RouteTableId"], DestinationCidrBlock="10.1.0.0/16",
                             VpcPeeringConnectionId=pcx)
            ec2.create_route(RouteTableId=t["RouteTableId"], DestinationCidrBlock="10.3.0.0/16", TransitGatewayId=tgw)
        elif t["VpcId"] == vpcs[2]:
            ec2.create_route(RouteTableId=t["RouteTableId"], DestinationCidrBlock="10.2.0.0/16", TransitGatewayId=tgw)
    return out


def queries(ids: dict[str, list[str] | str], sgs_by_vpc: dict[int, tuple[str, str]]) -> list[dict[str, object]]:
    rng = random.Random(7)
    subs = list(ids["subnets"])
    out: list[dict[str, object]] = []
    while len(out) < QUERIES:
        s, d = rng.randrange(30), rng.randrange(30)
        web_s, app_s = sgs_by_vpc[s // 10]
        web_d, app_d = sgs_by_vpc[d // 10]
        port = rng.choice([22, 443, 8080, 8050, 9000])
        kind = rng.random()
        if kind < 0.2:
            src: dict[str, object] = {"internet": True}
        elif kind < 0.25:
            src = {"ip": "198.51.100.7"}
        elif kind < 0.3:
            src = {"eni": rng.choice(list(ids["enis"]))}
        else:
            src = {"subnet": subs[s], "security_groups": [rng.choice([web_s, app_s])]}
        roll = rng.random()
        if roll < 0.05:
            dst: dict[str, object] = {"vpc_endpoint": ids["vpce"]}
        elif roll < 0.1:
            dst = {"eni": rng.choice(list(ids["enis"]))}
        else:
            dst = {"subnet": subs[d], "security_groups": [rng.choice([web_d, app_d])]}
        out.append({"from": src, "to": dst, "port": port, "protocol": rng.choice(["tcp", "tcp", "udp"])})
    return out


def main() -> int:
    os.environ["SECLAB_STATE_DIR"] = tempfile.mkdtemp(prefix="seclab-bench-net-")
    from seclab.engines.net import build_model, reach
    from seclab.inventory.collect import collect_account
    from seclab.sim import control, registry, sessions

    control.start(port=free_port())
    try:
        learner = registry.add_learner("bench-net")
        t0 = time.perf_counter()
        ids = build(sessions.learner_session(learner.name))
        t_build = time.perf_counter() - t0
        t0 = time.perf_counter()
        inv = collect_account(learner.home_account, sections=["ec2", "sagemaker"])
        t_read = time.perf_counter() - t0
    finally:
        control.stop()
    sgs = list(ids["sgs"])
    sgs_by_vpc = {v: (sgs[2 * v], sgs[2 * v + 1]) for v in range(3)}
    qs = queries(ids, sgs_by_vpc)
    rounds = []
    reachable = 0
    for _ in range(5):
        t0 = time.perf_counter()
        model = build_model(inv)
        t_model = time.perf_counter() - t0
        t0 = time.perf_counter()
        reachable = sum(1 for q in qs if reach(model, q)["reachable"])
        rounds.append((t_model, time.perf_counter() - t0))
    model_s = statistics.median(r[0] for r in rounds)
    query_s = statistics.median(r[1] for r in rounds)
    worst = max(r[1] for r in rounds)
    ok = query_s < TARGET_S
    print("## bench_net\n")
    print(f"Estate: 3 VPCs, {len(ids['subnets'])} subnets, {len(inv.ec2.security_groups)} security groups, "
          f"{len(inv.ec2.network_acls)} NACLs, {len(inv.ec2.route_tables)} route tables, peering + transit gateway "
          f"(built in {t_build:.1f} s, inventory read in {t_read:.2f} s).\n")
    print("| measure | median of 5 | worst |")
    print("|---|---|---|")
    print(f"| model build (once per inventory) | {model_s * 1000:.1f} ms | {max(r[0] for r in rounds) * 1000:.1f} ms |")
    print(f"| {QUERIES} queries ({reachable} reachable) | {query_s:.3f} s | {worst:.3f} s |")
    print(f"| per query | {query_s / QUERIES * 1e6:.0f} us | {worst / QUERIES * 1e6:.0f} us |")
    print(f"\n{'PASS' if ok else 'FAIL'}: {QUERIES} queries in {query_s:.3f} s (target < {TARGET_S:.0f} s).")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
