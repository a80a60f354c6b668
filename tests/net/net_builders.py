"""Hand-built inventories in boto3's record shapes, for the engine's pure-logic tests.

The records follow what DescribeVpcs/DescribeSubnets/... return (and what the simulator returns, checked in the
simulator-backed suite): a new VPC gets a main route table with local routes, a default NACL allowing all (IPv4,
plus IPv6 when the VPC has an IPv6 block) and a default security group.
"""

from __future__ import annotations

import ipaddress
import itertools
from typing import Any

from seclab.inventory.model import AccountInventory, Ec2, OrgInventory, SageMaker

_counter = itertools.count(1)


def _id(prefix: str) -> str:
    return f"{prefix}-{next(_counter):017x}"


def _perm(proto: str, lo: int | None, hi: int | None, cidrs: tuple[str, ...] = (), cidrs6: tuple[str, ...] = (),
          groups: tuple[str, ...] = (), pls: tuple[str, ...] = ()) -> dict[str, Any]:
    p: dict[str, Any] = {"IpProtocol": proto, "IpRanges": [{"CidrIp": c} for c in cidrs],
                         "Ipv6Ranges": [{"CidrIpv6": c} for c in cidrs6],
                         "UserIdGroupPairs": [{"GroupId": g, "UserId": "111111111111"} for g in groups],
                         "PrefixListIds": [{"PrefixListId": x} for x in pls]}
    if proto != "-1":
        p["FromPort"], p["ToPort"] = lo, hi
    return p


class Topo:
    """A small builder: each method adds records and returns the new id."""

    def __init__(self, account: str = "111111111111") -> None:
        self.account = account
        self.recs: dict[str, list[dict[str, Any]]] = {k: [] for k in (
            "vpcs", "subnets", "route_tables", "internet_gateways", "egress_only_internet_gateways", "nat_gateways",
            "security_groups", "network_acls", "network_interfaces", "vpc_endpoints", "vpc_peering_connections",
            "transit_gateways", "transit_gateway_attachments", "transit_gateway_route_tables",
            "managed_prefix_lists", "flow_logs", "addresses")}
        self.sm: dict[str, list[dict[str, Any]]] = {"models": [], "endpoint_configs": [], "endpoints": []}
        self.main_rt: dict[str, str] = {}
        self.default_acl: dict[str, str] = {}
        self.default_sg: dict[str, str] = {}

    def _find(self, section: str, key: str, value: str) -> dict[str, Any]:
        return next(r for r in self.recs[section] if r[key] == value)

    # ------------------------------------------------------------------ VPC basics

    def vpc(self, cidr: str, ipv6: str | None = None) -> str:
        vid = _id("vpc")
        self.recs["vpcs"].append({
            "VpcId": vid, "OwnerId": self.account, "CidrBlock": cidr, "State": "available", "IsDefault": False,
            "CidrBlockAssociationSet": [{"CidrBlock": cidr, "CidrBlockState": {"State": "associated"}}],
            "Ipv6CidrBlockAssociationSet": ([{"Ipv6CidrBlock": ipv6, "Ipv6CidrBlockState": {"State": "associated"}}]
                                            if ipv6 else [])})
        routes = [{"DestinationCidrBlock": cidr, "GatewayId": "local", "State": "active"}]
        if ipv6:
            routes.append({"DestinationIpv6CidrBlock": ipv6, "GatewayId": "local", "State": "active"})
        rid = _id("rtb")
        self.recs["route_tables"].append({"RouteTableId": rid, "VpcId": vid, "OwnerId": self.account,
                                          "Routes": routes, "Associations": [{"Main": True, "RouteTableId": rid}]})
        self.main_rt[vid] = rid
        aid = _id("acl")
        entries = [{"CidrBlock": "0.0.0.0/0", "Egress": e, "Protocol": "-1", "RuleAction": a, "RuleNumber": n}
                   for e in (True, False) for n, a in ((100, "allow"), (32767, "deny"))]
        if ipv6:
            entries += [{"Ipv6CidrBlock": "::/0", "Egress": e, "Protocol": "-1", "RuleAction": a, "RuleNumber": n}
                        for e in (True, False) for n, a in ((101, "allow"), (32768, "deny"))]
        self.recs["network_acls"].append({"NetworkAclId": aid, "VpcId": vid, "OwnerId": self.account,
                                          "IsDefault": True, "Entries": entries, "Associations": []})
        self.default_acl[vid] = aid
        self.default_sg[vid] = self.sg(vid, name="default", ingress=[], egress=None, _default=True)
        return vid

    def subnet(self, vpc: str, cidr: str, public: bool = False, ipv6: str | None = None,
               assign_ipv6: bool = False) -> str:
        sid = _id("subnet")
        self.recs["subnets"].append({
            "SubnetId": sid, "VpcId": vpc, "OwnerId": self.account, "CidrBlock": cidr, "AvailabilityZone": "us-east-1a",
            "MapPublicIpOnLaunch": public, "AssignIpv6AddressOnCreation": assign_ipv6, "State": "available",
            "Ipv6CidrBlockAssociationSet": ([{"Ipv6CidrBlock": ipv6, "Ipv6CidrBlockState": {"State": "associated"}}]
                                            if ipv6 else [])})
        self._find("network_acls", "NetworkAclId", self.default_acl[vpc])["Associations"].append(
            {"NetworkAclId": self.default_acl[vpc], "SubnetId": sid})
        return sid

    def igw(self, vpc: str | None) -> str:
        gid = _id("igw")
        self.recs["internet_gateways"].append({"InternetGatewayId": gid, "OwnerId": self.account, "Attachments": (
            [{"State": "available", "VpcId": vpc}] if vpc else [])})
        return gid

    def eigw(self, vpc: str) -> str:
        gid = _id("eigw")
        self.recs["egress_only_internet_gateways"].append({"EgressOnlyInternetGatewayId": gid, "Attachments": [
            {"State": "attached", "VpcId": vpc}]})
        return gid

    def nat(self, subnet: str) -> str:
        nid = _id("nat")
        vpc = self._find("subnets", "SubnetId", subnet)["VpcId"]
        self.recs["nat_gateways"].append({"NatGatewayId": nid, "SubnetId": subnet, "VpcId": vpc, "State": "available",
                                          "NatGatewayAddresses": [{"PublicIp": "54.0.0.9"}]})
        return nid

    def route_table(self, vpc: str, subnets: tuple[str, ...] = ()) -> str:
        rid = _id("rtb")
        vrec = self._find("vpcs", "VpcId", vpc)
        routes = [{"DestinationCidrBlock": vrec["CidrBlock"], "GatewayId": "local", "State": "active"}]
        for a in vrec["Ipv6CidrBlockAssociationSet"]:
            routes.append({"DestinationIpv6CidrBlock": a["Ipv6CidrBlock"], "GatewayId": "local", "State": "active"})
        self.recs["route_tables"].append({"RouteTableId": rid, "VpcId": vpc, "OwnerId": self.account, "Routes": routes,
                                          "Associations": [{"Main": False, "RouteTableId": rid, "SubnetId": s}
                                                           for s in subnets]})
        return rid

    def route(self, rt: str, dest: str, target: str, state: str = "active") -> None:
        rec: dict[str, Any] = {"State": state}
        if dest.startswith("pl-"):
            rec["DestinationPrefixListId"] = dest
        elif ":" in dest:
            rec["DestinationIpv6CidrBlock"] = dest
        else:
            rec["DestinationCidrBlock"] = dest
        key = {"nat": "NatGatewayId", "pcx": "VpcPeeringConnectionId", "tgw": "TransitGatewayId",
               "eigw": "EgressOnlyInternetGatewayId", "eni": "NetworkInterfaceId"}.get(target.split("-")[0],
                                                                                       "GatewayId")
        rec[key] = target
        self._find("route_tables", "RouteTableId", rt)["Routes"].append(rec)

    def sg(self, vpc: str, name: str = "sg", ingress: list[dict[str, Any]] | None = None,
           egress: list[dict[str, Any]] | None = None, _default: bool = False) -> str:
        gid = _id("sg")
        if egress is None:  # AWS's default egress: all IPv4, and all IPv6 in a VPC with an IPv6 block
            has_v6 = any(v["VpcId"] == vpc and v["Ipv6CidrBlockAssociationSet"] for v in self.recs["vpcs"])
            egress = [_perm("-1", None, None, cidrs=("0.0.0.0/0",), cidrs6=("::/0",) if has_v6 else ())]
        self.recs["security_groups"].append({"GroupId": gid, "GroupName": name, "VpcId": vpc, "OwnerId": self.account,
                                             "IpPermissions": list(ingress or []), "IpPermissionsEgress": egress})
        return gid

    def allow_in(self, sg: str, proto: str, lo: int | None = None, hi: int | None = None, **peers: Any) -> None:
        self._find("security_groups", "GroupId", sg)["IpPermissions"].append(
            _perm(proto, lo, hi if hi is not None else lo, **{k: tuple(v) for k, v in peers.items()}))

    def set_egress(self, sg: str, perms: list[tuple[Any, ...]]) -> None:
        self._find("security_groups", "GroupId", sg)["IpPermissionsEgress"] = [
            _perm(p[0], p[1], p[2], **{k: tuple(v) for k, v in (p[3] if len(p) > 3 else {}).items()}) for p in perms]

    def nacl(self, vpc: str, subnets: tuple[str, ...], inbound: list[tuple[Any, ...]],
             outbound: list[tuple[Any, ...]]) -> str:
        """Entries as (number, protocol "-1"|"6"|"17", (from, to) | None, cidr, "allow"|"deny")."""
        aid = _id("acl")
        entries = []
        for egress, lst in ((False, inbound), (True, outbound)):
            for num, proto, ports, cidr, action in lst:
                e: dict[str, Any] = {"Egress": egress, "Protocol": proto, "RuleAction": action, "RuleNumber": num}
                e["Ipv6CidrBlock" if ":" in cidr else "CidrBlock"] = cidr
                if ports:
                    e["PortRange"] = {"From": ports[0], "To": ports[1]}
                entries.append(e)
        for acl in self.recs["network_acls"]:
            acl["Associations"] = [a for a in acl["Associations"] if a["SubnetId"] not in subnets]
        self.recs["network_acls"].append({"NetworkAclId": aid, "VpcId": vpc, "OwnerId": self.account,
                                          "IsDefault": False, "Entries": entries,
                                          "Associations": [{"NetworkAclId": aid, "SubnetId": s} for s in subnets]})
        return aid

    def eni(self, subnet: str, sgs: tuple[str, ...], private_ip: str, public_ip: str | None = None,
            ipv6: tuple[str, ...] = ()) -> str:
        eid = _id("eni")
        vpc = self._find("subnets", "SubnetId", subnet)["VpcId"]
        rec: dict[str, Any] = {"NetworkInterfaceId": eid, "SubnetId": subnet, "VpcId": vpc, "OwnerId": self.account,
                               "PrivateIpAddress": private_ip, "Groups": [{"GroupId": g} for g in sgs],
                               "Ipv6Addresses": [{"Ipv6Address": a} for a in ipv6], "InterfaceType": "interface"}
        if public_ip:
            rec["Association"] = {"PublicIp": public_ip}
        self.recs["network_interfaces"].append(rec)
        return eid

    # ------------------------------------------------------------------ connections

    def peering(self, vpc_a: str, vpc_b: str, status: str = "active", owner_b: str | None = None,
                cidr_b: str | None = None) -> str:
        pid = _id("pcx")
        a = self._find("vpcs", "VpcId", vpc_a)
        b_cidr = cidr_b or next((v["CidrBlock"] for v in self.recs["vpcs"] if v["VpcId"] == vpc_b), "0.0.0.0/32")
        self.recs["vpc_peering_connections"].append({
            "VpcPeeringConnectionId": pid, "Status": {"Code": status},
            "RequesterVpcInfo": {"VpcId": vpc_a, "OwnerId": self.account, "CidrBlock": a["CidrBlock"]},
            "AccepterVpcInfo": {"VpcId": vpc_b, "OwnerId": owner_b or self.account, "CidrBlock": b_cidr}})
        return pid

    def tgw(self) -> str:
        tid = _id("tgw")
        self.recs["transit_gateways"].append({"TransitGatewayId": tid, "OwnerId": self.account, "State": "available"})
        return tid

    def tgw_attach(self, tgw: str, vpc: str) -> str:
        aid = _id("tgw-attach")
        self.recs["transit_gateway_attachments"].append({
            "TransitGatewayAttachmentId": aid, "TransitGatewayId": tgw, "ResourceType": "vpc", "ResourceId": vpc,
            "ResourceOwnerId": self.account, "State": "available"})
        return aid

    def tgw_table(self, tgw: str, associations: tuple[str, ...], propagations: tuple[str, ...] = (),
                  routes: tuple[tuple[str, str | None, str], ...] = ()) -> str:
        """routes: (cidr, attachment id or None, "active"|"blackhole")."""
        rid = _id("tgw-rtb")
        self.recs["transit_gateway_route_tables"].append({
            "TransitGatewayRouteTableId": rid, "TransitGatewayId": tgw, "State": "available",
            "DefaultAssociationRouteTable": False,
            "Associations": [{"TransitGatewayAttachmentId": a, "State": "associated"} for a in associations],
            "Propagations": [{"TransitGatewayAttachmentId": a, "State": "enabled"} for a in propagations],
            "Routes": [{"DestinationCidrBlock": c, "Type": "static", "State": s,
                        "TransitGatewayAttachments": [{"TransitGatewayAttachmentId": a}] if a else []}
                       for c, a, s in routes]})
        return rid

    # ------------------------------------------------------------------ endpoints, logs, SageMaker

    def prefix_list(self, name: str, cidrs: tuple[str, ...]) -> str:
        pid = _id("pl")
        fam = "IPv6" if cidrs and ":" in cidrs[0] else "IPv4"
        self.recs["managed_prefix_lists"].append({"PrefixListId": pid, "PrefixListName": name, "AddressFamily": fam,
                                                  "OwnerId": self.account, "Entries": [{"Cidr": c} for c in cidrs]})
        return pid

    def gateway_endpoint(self, vpc: str, service: str, route_tables: tuple[str, ...], policy: Any = None,
                         cidrs: tuple[str, ...] = ("52.216.0.0/15",)) -> str:
        eid = _id("vpce")
        pl = self.prefix_list(service, cidrs)
        for rt in route_tables:
            self.route(rt, pl, eid)
        self.recs["vpc_endpoints"].append({
            "VpcEndpointId": eid, "VpcEndpointType": "Gateway", "VpcId": vpc, "ServiceName": service,
            "State": "available", "PolicyDocument": policy, "RouteTableIds": list(route_tables), "SubnetIds": [],
            "Groups": [], "NetworkInterfaceIds": [], "PrivateDnsEnabled": False, "OwnerId": self.account})
        return eid

    def interface_endpoint(self, vpc: str, service: str, subnets: tuple[str, ...], sgs: tuple[str, ...],
                           private_dns: bool = True) -> str:
        eid = _id("vpce")
        self.recs["vpc_endpoints"].append({
            "VpcEndpointId": eid, "VpcEndpointType": "Interface", "VpcId": vpc, "ServiceName": service,
            "State": "available", "PolicyDocument": None, "RouteTableIds": [], "SubnetIds": list(subnets),
            "Groups": [{"GroupId": g} for g in sgs], "NetworkInterfaceIds": [], "PrivateDnsEnabled": private_dns,
            "DnsEntries": [{"DnsName": f"{eid}.{service}"}], "OwnerId": self.account})
        return eid

    def flow_log(self, resource: str, group: str, traffic: str = "ALL", fmt: str | None = None) -> str:
        fid = _id("fl")
        rec = {"FlowLogId": fid, "ResourceId": resource, "TrafficType": traffic, "LogGroupName": group,
               "LogDestinationType": "cloud-watch-logs", "FlowLogStatus": "ACTIVE"}
        if fmt:
            rec["LogFormat"] = fmt
        self.recs["flow_logs"].append(rec)
        return fid

    def sagemaker_endpoint(self, name: str, subnets: tuple[str, ...] = (), sgs: tuple[str, ...] = ()) -> str:
        model: dict[str, Any] = {"ModelName": f"{name}-model"}
        if subnets:
            model["VpcConfig"] = {"Subnets": list(subnets), "SecurityGroupIds": list(sgs)}
        self.sm["models"].append(model)
        self.sm["endpoint_configs"].append({"EndpointConfigName": f"{name}-config", "ProductionVariants": [
            {"VariantName": "AllTraffic", "ModelName": f"{name}-model"}]})
        self.sm["endpoints"].append({"EndpointName": name, "EndpointConfigName": f"{name}-config",
                                     "EndpointStatus": "InService"})
        return name

    # ------------------------------------------------------------------ out

    def inventory(self) -> AccountInventory:
        ec2 = Ec2(**{k: tuple(v) for k, v in self.recs.items()})
        sm = SageMaker(models=tuple(self.sm["models"]), endpoint_configs=tuple(self.sm["endpoint_configs"]),
                       endpoints=tuple(self.sm["endpoints"]))
        return AccountInventory(account_id=self.account, region="us-east-1", ec2=ec2, sagemaker=sm)


def org(*topos: Topo) -> OrgInventory:
    first, *rest = [t.inventory() for t in topos]
    return OrgInventory(management=first, members={i.account_id: i for i in rest})


def W(subnet: str, *sgs: str) -> dict[str, Any]:
    return {"subnet": subnet, "security_groups": list(sgs)}


def Q(src: dict[str, Any], dst: dict[str, Any], port: int | None = 8080, proto: str = "tcp") -> dict[str, Any]:
    return {"from": src, "to": dst, "port": port, "protocol": proto}


INTERNET = {"internet": True}


def two_tier(ipv6: bool = False) -> tuple[Topo, dict[str, str]]:
    """The sample two-tier VPC: a public web subnet (igw route) and a private model subnet (main table)."""
    t = Topo()
    v6 = "2600:1f18:aaaa:bb00::/56" if ipv6 else None
    vpc = t.vpc("10.20.0.0/16", ipv6=v6)
    igw = t.igw(vpc)
    web = t.subnet(vpc, "10.20.1.0/24", public=True,
                   ipv6="2600:1f18:aaaa:bb01::/64" if ipv6 else None, assign_ipv6=ipv6)
    model = t.subnet(vpc, "10.20.2.0/24", ipv6="2600:1f18:aaaa:bb02::/64" if ipv6 else None, assign_ipv6=ipv6)
    rt = t.route_table(vpc, (web,))
    t.route(rt, "0.0.0.0/0", igw)
    web_sg = t.sg(vpc, "web")
    t.allow_in(web_sg, "tcp", 443, 443, cidrs=["0.0.0.0/0"])
    model_sg = t.sg(vpc, "model")
    t.allow_in(model_sg, "tcp", 8080, 8080, cidrs=["10.20.1.0/24"])
    return t, {"vpc": vpc, "igw": igw, "web": web, "model": model, "rt": rt, "web_sg": web_sg,
               "model_sg": model_sg}


def net(text: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
    return ipaddress.ip_network(text)
