"""The network engine against topologies built in the real simulator through boto3, as a learner would build them.

Table-driven: each scenario builds once (as the learner) and answers its cases from one inventory collected with
seclab's admin identity. Every component kind has a case it lets through and a case it blocks.
"""

from __future__ import annotations

import ipaddress
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from seclab.engines.net import KINDS, UnknownComponent, exposure, probe, reach

ROOT = Path(__file__).resolve().parents[2]
INTERNET = {"internet": True}


def W(subnet: str, *sgs: str) -> dict[str, Any]:
    return {"subnet": subnet, "security_groups": list(sgs)}


@dataclass(frozen=True)
class Case:
    name: str
    src: Any
    dst: Any
    port: int | None
    reachable: bool
    kinds: frozenset[str] = frozenset()  # blocked: these kinds must all be named
    through: str | None = None  # reachable: the component kind this case exercises
    via: str | None = None  # reachable: a "$name" whose id the path must mention
    protocol: str = "tcp"
    family: str | None = None


def case(name: str, src: Any, dst: Any, port: int | None, reachable: bool, kinds: tuple[str, ...] = (),
         through: str | None = None, via: str | None = None, **kw: Any) -> Case:
    return Case(name, src, dst, port, reachable, frozenset(kinds), through, via, **kw)


class Ctx:
    def __init__(self, session: Any) -> None:
        self.session = session
        self.ec2 = session.client("ec2")
        self.az = sorted(z["ZoneName"] for z in self.ec2.describe_availability_zones()["AvailabilityZones"])[0]

    def client(self, name: str) -> Any:
        return self.session.client(name)

    def vpc(self, cidr: str, ipv6: bool = False) -> str:
        return self.ec2.create_vpc(CidrBlock=cidr, AmazonProvidedIpv6CidrBlock=ipv6)["Vpc"]["VpcId"]

    def subnet(self, vpc: str, cidr: str, public: bool = False, **kw: Any) -> str:
        sid = self.ec2.create_subnet(VpcId=vpc, CidrBlock=cidr, AvailabilityZone=self.az, **kw)["Subnet"]["SubnetId"]
        if public:
            self.ec2.modify_subnet_attribute(SubnetId=sid, MapPublicIpOnLaunch={"Value": True})
        return sid

    def igw(self, vpc: str | None) -> str:
        gid = self.ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
        if vpc:
            self.ec2.attach_internet_gateway(InternetGatewayId=gid, VpcId=vpc)
        return gid

    def rt(self, vpc: str, *subnets: str) -> str:
        rid = self.ec2.create_route_table(VpcId=vpc)["RouteTable"]["RouteTableId"]
        for s in subnets:
            self.ec2.associate_route_table(RouteTableId=rid, SubnetId=s)
        return rid

    def main_rt(self, vpc: str) -> str:
        tables = self.ec2.describe_route_tables(Filters=[{"Name": "vpc-id", "Values": [vpc]}])["RouteTables"]
        return next(t["RouteTableId"] for t in tables if any(a.get("Main") for a in t.get("Associations", [])))

    def sg(self, vpc: str, name: str, *rules: dict[str, Any]) -> str:
        gid = self.ec2.create_security_group(GroupName=name, Description=name, VpcId=vpc)["GroupId"]
        if rules:
            self.ec2.authorize_security_group_ingress(GroupId=gid, IpPermissions=list(rules))
        return gid

    def nacl(self, vpc: str, subnet: str,
             entries: list[tuple[int, bool, str, tuple[int, int] | None, str, str]]) -> str:
        acl = self.ec2.create_network_acl(VpcId=vpc)["NetworkAcl"]["NetworkAclId"]
        for num, egress, proto, ports, cidr, action in entries:
            kw: dict[str, Any] = {"PortRange": {"From": ports[0], "To": ports[1]}} if ports else {}
            self.ec2.create_network_acl_entry(NetworkAclId=acl, RuleNumber=num, Protocol=proto, RuleAction=action,
                                              Egress=egress, CidrBlock=cidr, **kw)
        current = self.ec2.describe_network_acls(Filters=[{"Name": "association.subnet-id", "Values": [subnet]}])
        assoc = next(a["NetworkAclAssociationId"] for n in current["NetworkAcls"] for a in n["Associations"]
                     if a["SubnetId"] == subnet)
        self.ec2.replace_network_acl_association(AssociationId=assoc, NetworkAclId=acl)
        return acl


def tcp(port: int, cidr: str | None = None, group: str | None = None, v6: str | None = None,
        to: int | None = None) -> dict[str, Any]:
    rule: dict[str, Any] = {"IpProtocol": "tcp", "FromPort": port, "ToPort": to if to is not None else port}
    if cidr:
        rule["IpRanges"] = [{"CidrIp": cidr}]
    if v6:
        rule["Ipv6Ranges"] = [{"CidrIpv6": v6}]
    if group:
        rule["UserIdGroupPairs"] = [{"GroupId": group}]
    return rule


# ------------------------------------------------------------------------------------------- scenarios


def build_edge(c: Ctx) -> dict[str, str]:
    """Internet edge: IGW, public addresses (subnet mapping and Elastic IP), NAT, a VPC without an IGW."""
    vpc = c.vpc("10.20.0.0/16")
    igw = c.igw(vpc)
    web = c.subnet(vpc, "10.20.1.0/24", public=True)
    model = c.subnet(vpc, "10.20.2.0/24")
    natted = c.subnet(vpc, "10.20.3.0/24")
    rt = c.rt(vpc, web)
    c.ec2.create_route(RouteTableId=rt, DestinationCidrBlock="0.0.0.0/0", GatewayId=igw)
    alloc = c.ec2.allocate_address(Domain="vpc")["AllocationId"]
    nat = c.ec2.create_nat_gateway(SubnetId=web, AllocationId=alloc)["NatGateway"]["NatGatewayId"]
    nat_rt = c.rt(vpc, natted)
    c.ec2.create_route(RouteTableId=nat_rt, DestinationCidrBlock="0.0.0.0/0", NatGatewayId=nat)
    web_sg = c.sg(vpc, "web", tcp(443, "0.0.0.0/0"))
    model_sg = c.sg(vpc, "model", tcp(8080, "10.20.1.0/24"))
    open_sg = c.sg(vpc, "open", tcp(8080, "0.0.0.0/0"))
    eni = c.ec2.create_network_interface(SubnetId=model, Groups=[open_sg])["NetworkInterface"]["NetworkInterfaceId"]
    eip = c.ec2.allocate_address(Domain="vpc")["AllocationId"]
    c.ec2.associate_address(AllocationId=eip, NetworkInterfaceId=eni)
    eni_rt = c.rt(vpc, model)  # the model subnet becomes public for the ENI case only through the ENI's EIP
    c.ec2.create_route(RouteTableId=eni_rt, DestinationCidrBlock="0.0.0.0/0", GatewayId=igw)
    private_eni = c.ec2.create_network_interface(SubnetId=model, Groups=[open_sg])["NetworkInterface"][
        "NetworkInterfaceId"]
    lonely = c.vpc("10.30.0.0/16")
    lonely_sub = c.subnet(lonely, "10.30.1.0/24", public=True)
    lonely_sg = c.sg(lonely, "lonely", tcp(443, "0.0.0.0/0"))
    return {"vpc": vpc, "igw": igw, "web": web, "model": model, "natted": natted, "nat": nat, "rt": rt,
            "web_sg": web_sg, "model_sg": model_sg, "open_sg": open_sg, "eni": eni, "private_eni": private_eni,
            "lonely": lonely, "lonely_sub": lonely_sub, "lonely_sg": lonely_sg}


EDGE = [
    case("internet-web-443", INTERNET, W("$web", "$web_sg"), 443, True, through="internet_gateway", via="$igw"),
    case("internet-web-22", INTERNET, W("$web", "$web_sg"), 22, False, ("security_group",)),
    case("web-model-8080", W("$web", "$web_sg"), W("$model", "$model_sg"), 8080, True, through="security_group",
         via="$model_sg"),
    case("internet-model-8080", INTERNET, W("$natted", "$model_sg"), 8080, False,
         ("route_table", "no_public_address", "security_group")),
    case("internet-natted", INTERNET, W("$natted", "$open_sg"), 8080, False, ("route_table", "no_public_address")),
    case("internet-eni-eip", {"ip": "198.51.100.7"}, {"eni": "$eni"}, 8080, True, through="no_public_address",
         via="$eni"),
    case("internet-eni-private", INTERNET, {"eni": "$private_eni"}, 8080, False, ("no_public_address",)),
    case("internet-no-igw", INTERNET, W("$lonely_sub", "$lonely_sg"), 443, False, ("internet_gateway",)),
    case("internet-web-route", INTERNET, W("$web", "$web_sg"), 443, True, through="route_table", via="$rt"),
]


def build_nacl(c: Ctx) -> dict[str, str]:
    vpc = c.vpc("10.40.0.0/16")
    app = c.subnet(vpc, "10.40.1.0/24")
    svc, ret_bad, ret_ok, closed = (c.subnet(vpc, f"10.40.{i}.0/24") for i in (2, 3, 4, 5))
    app_sg = c.sg(vpc, "app")
    svc_sg = c.sg(vpc, "svc", tcp(8080, "10.40.0.0/16"), tcp(9090, "10.40.0.0/16"))
    c.nacl(vpc, svc, [(90, False, "6", (8080, 8080), "10.40.1.0/24", "deny"),
                      (100, False, "-1", None, "0.0.0.0/0", "allow"), (100, True, "-1", None, "0.0.0.0/0", "allow")])
    c.nacl(vpc, ret_bad, [(100, False, "-1", None, "0.0.0.0/0", "allow"),
                          (100, True, "6", (8080, 8080), "0.0.0.0/0", "allow")])
    c.nacl(vpc, ret_ok, [(100, False, "6", (8080, 8080), "10.40.1.0/24", "allow"),
                         (100, True, "6", (1024, 65535), "10.40.1.0/24", "allow")])
    c.nacl(vpc, closed, [])
    return {"vpc": vpc, "app": app, "svc": svc, "ret_bad": ret_bad, "ret_ok": ret_ok, "closed": closed,
            "app_sg": app_sg, "svc_sg": svc_sg}


NACL = [
    case("deny-rule-90-first", W("$app", "$app_sg"), W("$svc", "$svc_sg"), 8080, False, ("network_acl",)),
    case("other-port-passes", W("$app", "$app_sg"), W("$svc", "$svc_sg"), 9090, True, through="network_acl"),
    case("return-blocked", W("$app", "$app_sg"), W("$ret_bad", "$svc_sg"), 8080, False, ("network_acl",)),
    case("return-ephemeral-ok", W("$app", "$app_sg"), W("$ret_ok", "$svc_sg"), 8080, True, through="network_acl"),
    case("closed-subnet", W("$app", "$app_sg"), W("$closed", "$svc_sg"), 8080, False, ("network_acl",)),
    case("inside-closed-subnet", W("$closed", "$app_sg"), W("$closed", "$svc_sg"), 8080, True,
         through="security_group"),
]


def build_peering(c: Ctx) -> dict[str, str]:
    vpcs = {k: c.vpc(f"10.{n}.0.0/16") for k, n in (("a", 51), ("b", 52), ("c", 53), ("d", 54), ("e", 55))}
    subs = {k: c.subnet(v, f"10.{n}.1.0/24") for (k, v), n in zip(vpcs.items(), (51, 52, 53, 54, 55), strict=True)}
    sgs = {k: c.sg(v, f"sg-{k}", tcp(8080, "10.0.0.0/8")) for k, v in vpcs.items()}

    def peer(x: str, y: str, accept: bool = True) -> str:
        pcx = c.ec2.create_vpc_peering_connection(VpcId=vpcs[x], PeerVpcId=vpcs[y])["VpcPeeringConnection"][
            "VpcPeeringConnectionId"]
        if accept:
            c.ec2.accept_vpc_peering_connection(VpcPeeringConnectionId=pcx)
        return pcx

    ab, bc, ad, ae = peer("a", "b"), peer("b", "c"), peer("a", "d", accept=False), peer("a", "e")
    rts = {k: c.main_rt(v) for k, v in vpcs.items()}
    for table, cidr, pcx in (("a", "10.52.0.0/16", ab), ("a", "10.53.0.0/16", ab), ("a", "10.54.0.0/16", ad),
                             ("a", "10.55.0.0/16", ae), ("b", "10.51.0.0/16", ab), ("b", "10.53.0.0/16", bc),
                             ("c", "10.52.0.0/16", bc), ("c", "10.51.0.0/16", bc), ("d", "10.51.0.0/16", ad)):
        c.ec2.create_route(RouteTableId=rts[table], DestinationCidrBlock=cidr, VpcPeeringConnectionId=pcx)
    return {**{f"s{k}": v for k, v in subs.items()}, **{f"sg{k}": v for k, v in sgs.items()},
            "ab": ab, "bc": bc, "ad": ad, "ae": ae, "rt_e": rts["e"]}


PEERING = [
    case("a-b", W("$sa", "$sga"), W("$sb", "$sgb"), 8080, True, through="vpc_peering", via="$ab"),
    case("b-c", W("$sb", "$sgb"), W("$sc", "$sgc"), 8080, True, through="vpc_peering", via="$bc"),
    case("a-c-not-transitive", W("$sa", "$sga"), W("$sc", "$sgc"), 8080, False, ("vpc_peering",)),
    case("a-d-pending", W("$sa", "$sga"), W("$sd", "$sgd"), 8080, False, ("vpc_peering",)),
    case("a-e-no-return-route", W("$sa", "$sga"), W("$se", "$sge"), 8080, False, ("route_table",)),
]


def build_tgw(c: Ctx) -> dict[str, str]:
    tgw = c.ec2.create_transit_gateway(Options={"DefaultRouteTableAssociation": "disable",
                                                "DefaultRouteTablePropagation": "disable"})["TransitGateway"][
        "TransitGatewayId"]
    ids: dict[str, str] = {"tgw": tgw}
    atts = {}
    for k, n in (("a", 61), ("b", 62), ("c", 63), ("d", 64)):
        v = c.vpc(f"10.{n}.0.0/16")
        ids[f"s{k}"] = c.subnet(v, f"10.{n}.1.0/24")
        ids[f"sg{k}"] = c.sg(v, f"sg-{k}", tcp(8080, "10.0.0.0/8"))
        atts[k] = c.ec2.create_transit_gateway_vpc_attachment(TransitGatewayId=tgw, VpcId=v, SubnetIds=[ids[f"s{k}"]])[
            "TransitGatewayVpcAttachment"]["TransitGatewayAttachmentId"]
        c.ec2.create_route(RouteTableId=c.main_rt(v), DestinationCidrBlock="10.0.0.0/8", TransitGatewayId=tgw)
    table = c.ec2.create_transit_gateway_route_table(TransitGatewayId=tgw)["TransitGatewayRouteTable"][
        "TransitGatewayRouteTableId"]
    for k in ("a", "b", "c"):
        c.ec2.associate_transit_gateway_route_table(TransitGatewayRouteTableId=table,
                                                    TransitGatewayAttachmentId=atts[k])
    for k in ("a", "b"):
        c.ec2.enable_transit_gateway_route_table_propagation(TransitGatewayRouteTableId=table,
                                                             TransitGatewayAttachmentId=atts[k])
    c.ec2.create_transit_gateway_route(TransitGatewayRouteTableId=table, DestinationCidrBlock="10.63.0.0/16",
                                       Blackhole=True)
    ids["table"] = table
    return ids


TGW = [
    case("a-b-propagated", W("$sa", "$sga"), W("$sb", "$sgb"), 8080, True, through="transit_gateway", via="$tgw"),
    case("a-c-blackhole", W("$sa", "$sga"), W("$sc", "$sgc"), 8080, False, ("transit_gateway",)),
    case("d-not-associated", W("$sd", "$sgd"), W("$sa", "$sga"), 8080, False, ("transit_gateway",)),
]


def build_endpoints(c: Ctx) -> dict[str, str]:
    vpc = c.vpc("10.70.0.0/16")
    web, model, other = (c.subnet(vpc, f"10.70.{i}.0/24") for i in (1, 2, 3))
    web_rt, other_rt = c.rt(vpc, web), c.rt(vpc, other)
    web_sg = c.sg(vpc, "web")
    ep_sg = c.sg(vpc, "endpoint", tcp(443, "10.70.1.0/24"))
    s3 = c.ec2.create_vpc_endpoint(VpcId=vpc, ServiceName="com.amazonaws.us-east-1.s3", VpcEndpointType="Gateway",
                                   RouteTableIds=[web_rt])["VpcEndpoint"]["VpcEndpointId"]
    deny = json.dumps({"Statement": [{"Effect": "Deny", "Principal": "*", "Action": "*", "Resource": "*"}]})
    ddb = c.ec2.create_vpc_endpoint(VpcId=vpc, ServiceName="com.amazonaws.us-east-1.dynamodb",
                                    VpcEndpointType="Gateway", RouteTableIds=[web_rt, other_rt],
                                    PolicyDocument=deny)["VpcEndpoint"]["VpcEndpointId"]
    runtime = c.ec2.create_vpc_endpoint(VpcId=vpc, ServiceName="com.amazonaws.us-east-1.sagemaker.runtime",
                                        VpcEndpointType="Interface", SubnetIds=[model], SecurityGroupIds=[ep_sg],
                                        PrivateDnsEnabled=True)["VpcEndpoint"]["VpcEndpointId"]
    return {"web": web, "model": model, "other": other, "web_sg": web_sg, "s3": s3, "ddb": ddb, "runtime": runtime,
            "ep_sg": ep_sg}


ENDPOINTS = [
    case("web-s3-gateway", W("$web", "$web_sg"), {"vpc_endpoint": "$s3"}, 443, True, through="vpc_endpoint",
         via="$s3"),
    case("other-s3-no-route", W("$other", "$web_sg"), {"vpc_endpoint": "$s3"}, 443, False, ("route_table",)),
    case("internet-s3", INTERNET, {"vpc_endpoint": "$s3"}, 443, False, ("vpc_endpoint",)),
    case("deny-all-policy", W("$other", "$web_sg"), {"vpc_endpoint": "$ddb"}, 443, False, ("vpc_endpoint",)),
    case("web-runtime-interface", W("$web", "$web_sg"), {"vpc_endpoint": "$runtime"}, 443, True,
         through="vpc_endpoint", via="$runtime"),
    case("other-runtime-sg", W("$other", "$web_sg"), {"vpc_endpoint": "$runtime"}, 443, False, ("security_group",)),
]


def build_sagemaker(c: Ctx) -> dict[str, str]:
    vpc = c.vpc("10.80.0.0/16")
    app, m1, m2 = (c.subnet(vpc, f"10.80.{i}.0/24") for i in (1, 2, 3))
    app_sg = c.sg(vpc, "app")
    model_sg = c.sg(vpc, "model", tcp(8080, group=app_sg))
    c.nacl(vpc, m1, [])  # the first placement is closed: the endpoint stays reachable through the second
    sm = c.client("sagemaker")
    account = c.client("sts").get_caller_identity()["Account"]
    for name, vpc_config in (("placed", {"Subnets": [m1, m2], "SecurityGroupIds": [model_sg]}), ("managed", None)):
        kw = {"VpcConfig": vpc_config} if vpc_config else {}
        sm.create_model(ModelName=f"{name}-model", ExecutionRoleArn=f"arn:aws:iam::{account}:role/sm",
                        PrimaryContainer={"Image": f"{account}.dkr.ecr.us-east-1.amazonaws.com/m:1"}, **kw)
        sm.create_endpoint_config(EndpointConfigName=f"{name}-config", ProductionVariants=[
            {"VariantName": "AllTraffic", "ModelName": f"{name}-model", "InitialInstanceCount": 1,
             "InstanceType": "ml.m5.large"}])
        sm.create_endpoint(EndpointName=f"{name}-ep", EndpointConfigName=f"{name}-config")
    return {"app": app, "m1": m1, "m2": m2, "app_sg": app_sg, "model_sg": model_sg}


SAGEMAKER = [
    case("app-to-endpoint", W("$app", "$app_sg"), {"sagemaker_endpoint": "placed-ep"}, 8080, True,
         through="security_group", via="$m2"),
    case("internet-to-endpoint", INTERNET, {"sagemaker_endpoint": "placed-ep"}, 8080, False,
         ("no_public_address", "internet_gateway")),
    case("non-member-to-endpoint", W("$app"), {"sagemaker_endpoint": "placed-ep"}, 8080, False, ("security_group",)),
]


def build_ipv6(c: Ctx) -> dict[str, str]:
    vpc_rec = c.ec2.create_vpc(CidrBlock="10.90.0.0/16", AmazonProvidedIpv6CidrBlock=True)["Vpc"]
    vpc = vpc_rec["VpcId"]
    v6 = c.ec2.describe_vpcs(VpcIds=[vpc])["Vpcs"][0]["Ipv6CidrBlockAssociationSet"][0]["Ipv6CidrBlock"]
    blocks = list(ipaddress.ip_network(v6).subnets(new_prefix=64))
    igw = c.igw(vpc)
    eigw = c.ec2.create_egress_only_internet_gateway(VpcId=vpc)["EgressOnlyInternetGateway"][
        "EgressOnlyInternetGatewayId"]
    pub6 = c.subnet(vpc, "10.90.1.0/24", Ipv6CidrBlock=str(blocks[1]))
    egress6 = c.subnet(vpc, "10.90.2.0/24", Ipv6CidrBlock=str(blocks[2]))
    for s in (pub6, egress6):
        c.ec2.modify_subnet_attribute(SubnetId=s, AssignIpv6AddressOnCreation={"Value": True})
    rt = c.rt(vpc, pub6)
    c.ec2.create_route(RouteTableId=rt, DestinationIpv6CidrBlock="::/0", GatewayId=igw)
    c.ec2.create_route(RouteTableId=rt, DestinationCidrBlock="0.0.0.0/0", GatewayId=igw)
    rt6 = c.rt(vpc, egress6)
    c.ec2.create_route(RouteTableId=rt6, DestinationIpv6CidrBlock="::/0", EgressOnlyInternetGatewayId=eigw)
    sg6 = c.sg(vpc, "v6", tcp(443, v6="::/0"))
    sg4 = c.sg(vpc, "v4", tcp(443, "0.0.0.0/0"))
    return {"pub6": pub6, "egress6": egress6, "sg6": sg6, "sg4": sg4, "igw": igw, "eigw": eigw}


IPV6 = [
    case("internet-v6", INTERNET, W("$pub6", "$sg6"), 443, True, through="internet_gateway", via="$igw",
         family="ipv6"),
    case("v6-address", {"ip": "2001:db8::7"}, W("$pub6", "$sg6"), 443, True, through="security_group", via="$sg6",
         family="ipv6"),
    case("v4-rule-only", INTERNET, W("$pub6", "$sg4"), 443, False, ("no_public_address",)),
    case("v6-source-v4-rule", {"ip": "2001:db8::7"}, W("$pub6", "$sg4"), 443, False, ("security_group",)),
    case("egress-only", {"ip": "2001:db8::7"}, W("$egress6", "$sg6"), 443, False, ("route_table",)),
]


SCENARIOS: dict[str, tuple[Callable[[Ctx], dict[str, str]], list[Case]]] = {
    "edge": (build_edge, EDGE), "nacl": (build_nacl, NACL), "peering": (build_peering, PEERING),
    "tgw": (build_tgw, TGW), "endpoints": (build_endpoints, ENDPOINTS), "sagemaker": (build_sagemaker, SAGEMAKER),
    "ipv6": (build_ipv6, IPV6),
}


def _resolve(value: Any, ids: dict[str, str]) -> Any:
    if isinstance(value, str) and value.startswith("$"):
        return ids[value[1:]]
    if isinstance(value, dict):
        return {k: _resolve(v, ids) for k, v in value.items()}
    if isinstance(value, list):
        return [_resolve(v, ids) for v in value]
    return value


def _collect(learner: Any) -> Any:
    from seclab.inventory.collect import collect_account
    from seclab.sim import registry

    home = registry.get_learner(learner.name).home_account
    inv = collect_account(home, sections=["ec2", "sagemaker"])
    assert not inv.failed("ec2", "sagemaker"), inv.errors
    return inv


def _check(inv: Any, c: Case, ids: dict[str, str]) -> str | None:
    q = {"from": _resolve(c.src, ids), "to": _resolve(c.dst, ids), "port": c.port, "protocol": c.protocol}
    r = reach(inv, q)
    got = {b["kind"] for b in r["blocked_by"]}
    if r["reachable"] != c.reachable:
        return f"{c.name}: expected reachable={c.reachable}, got {json.dumps(r)[:1500]}"
    if not c.reachable and not c.kinds <= got:
        return f"{c.name}: expected kinds {sorted(c.kinds)} among {sorted(got)}: {json.dumps(r['blocked_by'])}"
    if not got <= set(KINDS):
        return f"{c.name}: unknown kinds {sorted(got - set(KINDS))}"
    if c.via:
        want = ids[c.via[1:]]
        if not any(want in h["component"] or want in h["detail"] for h in r["path"]):
            return f"{c.name}: the path does not mention {want}: {json.dumps(r['path'])[:1500]}"
    if c.family and r["family"] != c.family:
        return f"{c.name}: expected family {c.family}, got {r['family']}"
    return None


def test_the_table_covers_every_kind_both_ways():
    blocked = set().union(*(c.kinds for _b, cases in SCENARIOS.values() for c in cases))
    through = {c.through for _b, cases in SCENARIOS.values() for c in cases if c.reachable}
    assert blocked == set(KINDS)
    assert set(KINDS) <= through


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_scenario(scenario: str, learner: Any) -> None:
    from seclab.sim import sessions

    build, cases = SCENARIOS[scenario]
    ids = build(Ctx(sessions.learner_session(learner.name)))
    inv = _collect(learner)
    failures = [f for f in (_check(inv, c, ids) for c in cases) if f]
    assert not failures, "\n".join(failures)
    if scenario == "sagemaker":
        r = reach(inv, {"from": W(ids["app"], ids["app_sg"]), "to": {"sagemaker_endpoint": "managed-ep"},
                        "port": 8080, "protocol": "tcp"})
        assert r["reachable"] is False and r["in_vpc"] is False and "no VpcConfig" in r["notes"][0]
        e = exposure(inv, {"sagemaker_endpoint": "placed-ep"}, port=8080)
        assert e["internet"]["reachable"] is False and all(p["private"] for p in e["placements"])
        # the model's group admits members of app_sg: from the app subnet and from both model subnets (inside one
        # subnet no NACL applies, so even the closed one reaches its own placement), only for members of app_sg
        assert {s["subnet"] for s in e["subnets"]} == {ids["app"], ids["m1"], ids["m2"]}
        assert all(s["ports"][0]["requires_security_groups"] == [ids["app_sg"]] for s in e["subnets"])


def test_cross_account_peering(learner: Any) -> None:
    from seclab.inventory.collect import collect_learner
    from seclab.sim import registry, sessions

    home = sessions.learner_session(learner.name)
    org = home.client("organizations")
    org.create_organization(FeatureSet="ALL")
    member = org.create_account(Email=f"{learner.name}@example.com", AccountName="models")[
        "CreateAccountStatus"]["AccountId"]
    assert member in registry.get_learner(learner.name).accounts
    c_home, c_member = Ctx(home), Ctx(sessions.learner_session(learner.name, account=member))
    va, vb = c_home.vpc("10.101.0.0/16"), c_member.vpc("10.102.0.0/16")
    sa, sb = c_home.subnet(va, "10.101.1.0/24"), c_member.subnet(vb, "10.102.1.0/24")
    sga = c_home.sg(va, "app")
    sgb = c_member.sg(vb, "model", tcp(8080, "10.101.1.0/24"))
    pcx = c_home.ec2.create_vpc_peering_connection(VpcId=va, PeerVpcId=vb, PeerOwnerId=member)[
        "VpcPeeringConnection"]["VpcPeeringConnectionId"]
    c_member.ec2.accept_vpc_peering_connection(VpcPeeringConnectionId=pcx)
    c_home.ec2.create_route(RouteTableId=c_home.main_rt(va), DestinationCidrBlock="10.102.0.0/16",
                            VpcPeeringConnectionId=pcx)
    q = {"from": W(sa, sga), "to": W(sb, sgb), "port": 8080, "protocol": "tcp"}
    before = reach(collect_learner(learner.name, sections=["ec2", "sagemaker"]), q)
    assert before["reachable"] is False and {b["kind"] for b in before["blocked_by"]} == {"route_table"}
    c_member.ec2.create_route(RouteTableId=c_member.main_rt(vb), DestinationCidrBlock="10.101.0.0/16",
                              VpcPeeringConnectionId=pcx)
    inv = collect_learner(learner.name, sections=["ec2", "sagemaker"])
    r = reach(inv, q)
    assert r["reachable"] is True and any(pcx in h["detail"] for h in r["path"]), r
    with pytest.raises(UnknownComponent):
        reach(_collect(learner), q)
    # the CLI reads the home account first and widens to the organization on its own
    out = _cli(learner.name, "reach", "--query", json.dumps(q))
    assert out.returncode == 0 and json.loads(out.stdout)["reachable"] is True, out.stderr


def _cli(learner: str, *args: str) -> subprocess.CompletedProcess[str]:
    exe = ROOT / ".venv" / "bin" / "seclab"
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "seclab.cli"]
    return subprocess.run([*cmd, "net", args[0], "--learner", learner, *args[1:]], capture_output=True, text=True,
                          timeout=120, env=dict(os.environ), check=False)


def test_probe_records_are_readable_with_filter_log_events(learner: Any) -> None:
    from seclab.effects import flowlogs
    from seclab.sim import sessions

    s = sessions.learner_session(learner.name)
    c = Ctx(s)
    vpc = c.vpc("10.110.0.0/16")
    app, model, other = (c.subnet(vpc, f"10.110.{i}.0/24") for i in (1, 2, 3))
    app_sg = c.sg(vpc, "app")
    model_sg = c.sg(vpc, "model", tcp(8080, group=app_sg))
    logs = s.client("logs")
    logs.create_log_group(logGroupName="/seclab/vpc-flows")
    c.ec2.create_flow_logs(ResourceIds=[vpc], ResourceType="VPC", TrafficType="ALL",
                           LogGroupName="/seclab/vpc-flows",
                           DeliverLogsPermissionArn=f"arn:aws:iam::{c.client('sts').get_caller_identity()['Account']}"
                                                    f":role/flow-logs")
    inv = _collect(learner)
    ok = probe(inv, {"from": W(app, app_sg), "to": W(model, model_sg), "port": 8080, "protocol": "tcp"})
    bad = probe(inv, {"from": W(other), "to": W(model, model_sg), "port": 8080, "protocol": "tcp"})
    assert ok.action == "ACCEPT" and bad.action == "REJECT"
    written = flowlogs.write(learner.name, ok)["written"] + flowlogs.write(learner.name, bad)["written"]
    # accepted: request and reply on both interfaces; refused: the request leaving, then refused on arrival
    assert (len(ok.records), len(bad.records)) == (4, 2) and written == 6
    events = logs.filter_log_events(logGroupName="/seclab/vpc-flows")["events"]
    lines = [e["message"].split() for e in events]
    assert len(lines) == 6 and all(len(x) == 14 and x[0] == "2" for x in lines)
    rejects = [x for x in logs.filter_log_events(logGroupName="/seclab/vpc-flows", filterPattern="REJECT")["events"]]
    assert len(rejects) == 1 and " 8080 6 " in rejects[0]["message"]
    streams = {st["logStreamName"] for st in logs.describe_log_streams(logGroupName="/seclab/vpc-flows")["logStreams"]}
    assert streams == {r.log_stream for r in ok.records + bad.records}
    # the CLI does the same in one step
    out = _cli(learner.name, "probe", "--query", json.dumps({"from": {"internet": True}, "to": W(model, model_sg),
                                                             "port": 8080, "protocol": "tcp"}), "--format", "text")
    assert out.returncode == 0 and out.stdout.startswith("Probe: REJECT"), out.stderr


def test_cli_reach_and_exposure(learner: Any) -> None:
    from seclab.sim import sessions

    c = Ctx(sessions.learner_session(learner.name))
    vpc = c.vpc("10.120.0.0/16")
    app, model = c.subnet(vpc, "10.120.1.0/24"), c.subnet(vpc, "10.120.2.0/24")
    model_sg = c.sg(vpc, "model", tcp(8080, "10.120.1.0/24"))
    q = {"from": {"internet": True}, "to": W(model, model_sg), "port": 8080, "protocol": "tcp"}
    out = _cli(learner.name, "reach", "--query", json.dumps(q), "--format", "text")
    assert out.returncode == 0 and out.stdout.startswith("NOT REACHABLE"), out.stderr
    out = _cli(learner.name, "exposure", "--destination", json.dumps(W(model, model_sg)), "--port", "8080")
    data = json.loads(out.stdout)
    assert [s["subnet"] for s in data["subnets"]] == [app] and data["internet"]["reachable"] is False
    bad = dict(q, to=W("subnet-0123456789abcdef0", model_sg))
    out = _cli(learner.name, "reach", "--query", json.dumps(bad))
    assert out.returncode == 5 and "subnet-0123456789abcdef0" in out.stderr and len(out.stderr.splitlines()) == 1
    out = _cli(learner.name, "reach", "--query", "{not json")
    assert out.returncode == 2 and "Traceback" not in out.stderr
    started = time.time()
    out = _cli(learner.name, "reach", "--query", json.dumps(q))
    assert out.returncode == 0 and time.time() - started < 30
