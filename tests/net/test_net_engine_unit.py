"""The network engine on hand-built inventories: one reachable and one blocked case per component kind, plus the
semantics that are easy to get wrong (NACL order and replies, peering transitivity, IPv6, placement)."""

from __future__ import annotations

import pytest

from net_builders import INTERNET, Q, Topo, W, org, two_tier
from seclab.engines.net import UnknownComponent, build_model, exposure, probe, reach, text
from seclab.engines.net.addrs import AddrSet
from seclab.errors import EvaluationError, InputError, NotFound
from seclab.inventory.model import AccountInventory


def kinds(result: dict) -> set[str]:
    return {b["kind"] for b in result["blocked_by"]}


def components(result: dict) -> set[str]:
    return {b["component"] for b in result["blocked_by"]}


# ------------------------------------------------------------------------------------------- internet, IGW, addresses


def test_internet_to_public_web_is_reachable_with_a_full_path():
    t, ids = two_tier()
    r = reach(t.inventory(), Q(INTERNET, W(ids["web"], ids["web_sg"]), 443))
    assert r["reachable"] is True and r["blocked_by"] == []
    hop_kinds = [h["kind"] for h in r["path"]]
    assert hop_kinds[:2] == ["internet", "internet_gateway"]
    assert "route_table" in hop_kinds and "security_group" in hop_kinds and hop_kinds.count("network_acl") == 2


def test_internet_to_private_model_lists_every_blocker():
    t, ids = two_tier()
    r = reach(t.inventory(), Q(INTERNET, W(ids["model"], ids["model_sg"]), 8080))
    assert r["reachable"] is False
    assert kinds(r) == {"route_table", "no_public_address", "security_group"}
    rt = t.main_rt[ids["vpc"]]
    assert rt in components(r) and ids["model_sg"] in components(r) and ids["model"] in components(r)
    reasons = " ".join(b["reason"] for b in r["blocked_by"])
    assert "MapPublicIpOnLaunch" in reasons and "10.20.1.0/24" in reasons


def test_security_group_blocks_a_port_it_does_not_open():
    t, ids = two_tier()
    r = reach(t.inventory(), Q(INTERNET, W(ids["web"], ids["web_sg"]), 22))
    assert not r["reachable"] and kinds(r) == {"security_group"}
    assert "no inbound rule for tcp/22" in r["blocked_by"][0]["reason"]


def test_missing_internet_gateway_is_named():
    t = Topo()
    vpc = t.vpc("10.1.0.0/16")
    s = t.subnet(vpc, "10.1.1.0/24", public=True)
    sg = t.sg(vpc)
    t.allow_in(sg, "tcp", 443, 443, cidrs=["0.0.0.0/0"])
    r = reach(t.inventory(), Q(INTERNET, W(s, sg), 443))
    assert not r["reachable"]
    assert "internet_gateway" in kinds(r) and vpc in components(r)


def test_detached_internet_gateway_does_not_count():
    t = Topo()
    vpc = t.vpc("10.1.0.0/16")
    s = t.subnet(vpc, "10.1.1.0/24", public=True)
    igw = t.igw(None)
    t.route(t.main_rt[vpc], "0.0.0.0/0", igw)
    sg = t.sg(vpc)
    t.allow_in(sg, "tcp", 443, 443, cidrs=["0.0.0.0/0"])
    r = reach(t.inventory(), Q(INTERNET, W(s, sg), 443))
    assert {"internet_gateway", "route_table"} <= kinds(r)
    assert any("not attached" in b["reason"] for b in r["blocked_by"])


def test_eni_public_address_comes_from_its_association_not_the_subnet():
    t, ids = two_tier()
    t.allow_in(ids["model_sg"], "tcp", 8080, 8080, cidrs=["0.0.0.0/0"])
    rt = t.route_table(ids["vpc"], (ids["model"],))
    t.route(rt, "0.0.0.0/0", ids["igw"])
    with_ip = t.eni(ids["model"], (ids["model_sg"],), "10.20.2.10", public_ip="54.1.2.3")
    without = t.eni(ids["model"], (ids["model_sg"],), "10.20.2.11")
    inv = t.inventory()
    assert reach(inv, Q(INTERNET, {"eni": with_ip}))["reachable"] is True
    r = reach(inv, Q(INTERNET, {"eni": without}))
    assert kinds(r) == {"no_public_address"} and components(r) == {without}


def test_nat_gateway_never_admits_inbound():
    t, ids = two_tier()
    nat = t.nat(ids["web"])
    rt = t.route_table(ids["vpc"], (ids["model"],))
    t.route(rt, "0.0.0.0/0", nat)
    t.allow_in(ids["model_sg"], "tcp", 8080, 8080, cidrs=["0.0.0.0/0"])
    r = reach(t.inventory(), Q(INTERNET, W(ids["model"], ids["model_sg"]), 8080))
    assert not r["reachable"] and "route_table" in kinds(r)
    assert any(nat in b["reason"] and "NAT" in b["reason"] for b in r["blocked_by"])


def test_specific_source_ip_and_partial_cidr_rules():
    t, ids = two_tier()
    t.allow_in(ids["web_sg"], "tcp", 8443, 8443, cidrs=["198.51.100.0/24"])
    inv = t.inventory()
    assert reach(inv, Q({"ip": "198.51.100.7"}, W(ids["web"], ids["web_sg"]), 8443))["reachable"]
    assert not reach(inv, Q({"ip": "203.0.113.7"}, W(ids["web"], ids["web_sg"]), 8443))["reachable"]
    # from "the internet": some address (198.51.100.0/24) gets in
    assert reach(inv, Q(INTERNET, W(ids["web"], ids["web_sg"]), 8443))["reachable"]


def test_private_source_ip_is_rejected_as_input():
    t, ids = two_tier()
    with pytest.raises(InputError):
        reach(t.inventory(), Q({"ip": "10.0.0.5"}, W(ids["web"], ids["web_sg"]), 443))


# ------------------------------------------------------------------------------------------- security groups


def test_security_group_reference_admits_only_members():
    t, ids = two_tier()
    app_sg = t.sg(ids["vpc"], "app")
    other_sg = t.sg(ids["vpc"], "other")
    ref_sg = t.sg(ids["vpc"], "model-ref")
    t.allow_in(ref_sg, "tcp", 8080, 8080, groups=[app_sg])
    inv = t.inventory()
    assert reach(inv, Q(W(ids["web"], app_sg), W(ids["model"], ref_sg)))["reachable"]
    r = reach(inv, Q(W(ids["web"], other_sg), W(ids["model"], ref_sg)))
    assert kinds(r) == {"security_group"} and app_sg in r["blocked_by"][0]["reason"]


def test_source_egress_rules_apply():
    t, ids = two_tier()
    app_sg = t.sg(ids["vpc"], "app")
    t.set_egress(app_sg, [("tcp", 443, 443, {"cidrs": ["0.0.0.0/0"]})])
    r = reach(t.inventory(), Q(W(ids["web"], app_sg), W(ids["model"], ids["model_sg"])))
    assert not r["reachable"] and components(r) == {app_sg}
    assert "outbound" in r["blocked_by"][0]["reason"]


def test_prefix_list_in_a_rule_resolves_to_its_entries():
    t, ids = two_tier()
    pl = t.prefix_list("app-nets", ("10.20.1.0/24",))
    sg = t.sg(ids["vpc"], "pl")
    t.allow_in(sg, "tcp", 9000, 9000, pls=[pl])
    inv = t.inventory()
    assert reach(inv, Q(W(ids["web"], ids["web_sg"]), W(ids["model"], sg), 9000))["reachable"]
    other = t.subnet(ids["vpc"], "10.20.3.0/24")
    assert not reach(t.inventory(), Q(W(other, ids["web_sg"]), W(ids["model"], sg), 9000))["reachable"]


def test_port_ranges_are_inclusive_and_protocols_distinct():
    t, ids = two_tier()
    sg = t.sg(ids["vpc"], "range")
    t.allow_in(sg, "tcp", 8000, 8080, cidrs=["10.20.0.0/16"])
    inv = t.inventory()
    src = W(ids["web"], ids["web_sg"])
    assert reach(inv, Q(src, W(ids["model"], sg), 8000))["reachable"]
    assert reach(inv, Q(src, W(ids["model"], sg), 8080))["reachable"]
    assert not reach(inv, Q(src, W(ids["model"], sg), 8081))["reachable"]
    assert not reach(inv, Q(src, W(ids["model"], sg), 8080, "udp"))["reachable"]
    assert not reach(inv, Q(src, W(ids["model"], sg), None, "-1"))["reachable"]
    t.allow_in(sg, "-1", cidrs=["10.20.1.0/24"])
    assert reach(t.inventory(), Q(src, W(ids["model"], sg), None, "-1"))["reachable"]


def test_workload_without_security_groups_carries_the_default_group():
    t, ids = two_tier()
    r = reach(t.inventory(), Q(W(ids["web"]), W(ids["model"], ids["model_sg"])))
    assert r["reachable"] and "default group" in r["path"][0]["detail"]


def test_security_group_of_another_vpc_is_an_input_error():
    t, ids = two_tier()
    other = t.vpc("10.99.0.0/16")
    foreign = t.sg(other)
    with pytest.raises(InputError, match="belongs to"):
        reach(t.inventory(), Q(W(ids["web"], foreign), W(ids["model"], ids["model_sg"])))


# ------------------------------------------------------------------------------------------- network ACLs


def _acl_case(inbound, outbound, port=8080, src_outbound=None):
    t, ids = two_tier()
    t.nacl(ids["vpc"], (ids["model"],), inbound, outbound)
    if src_outbound is not None:
        t.nacl(ids["vpc"], (ids["web"],), [(100, "-1", None, "0.0.0.0/0", "allow")], src_outbound)
    return reach(t.inventory(), Q(W(ids["web"], ids["web_sg"]), W(ids["model"], ids["model_sg"]), port)), ids


ALLOW_ALL = [(100, "-1", None, "0.0.0.0/0", "allow")]


def test_nacl_first_match_wins_in_rule_number_order():
    deny_first, _ = _acl_case([(90, "6", (8080, 8080), "10.20.1.0/24", "deny"), *ALLOW_ALL], ALLOW_ALL)
    assert not deny_first["reachable"] and kinds(deny_first) == {"network_acl"}
    assert "rule 90 denies" in deny_first["blocked_by"][0]["reason"]
    allow_first, _ = _acl_case([*ALLOW_ALL, (110, "6", (8080, 8080), "10.20.1.0/24", "deny")], ALLOW_ALL)
    assert allow_first["reachable"]


def test_nacl_implicit_deny():
    r, _ = _acl_case([(100, "6", (443, 443), "0.0.0.0/0", "allow")], ALLOW_ALL)
    assert not r["reachable"] and "final * rule" in r["blocked_by"][0]["reason"]


def test_nacl_return_traffic_needs_ephemeral_ports():
    only_8080_out = [(100, "6", (8080, 8080), "0.0.0.0/0", "allow")]
    r, ids = _acl_case(ALLOW_ALL, only_8080_out)
    assert not r["reachable"] and kinds(r) == {"network_acl"}
    assert "replies" in r["blocked_by"][0]["reason"] and "1024-65535" in r["blocked_by"][0]["reason"]
    r2, _ = _acl_case(ALLOW_ALL, [(100, "6", (1024, 65535), "10.20.1.0/24", "allow")])
    assert r2["reachable"]
    # the source subnet's outbound ACL is checked too
    r3, ids = _acl_case(ALLOW_ALL, ALLOW_ALL, src_outbound=[(100, "6", (443, 443), "0.0.0.0/0", "allow")])
    assert not r3["reachable"] and kinds(r3) == {"network_acl"}


def test_nacl_partial_deny_leaves_the_rest_of_the_subnet():
    t, ids = two_tier()
    t.nacl(ids["vpc"], (ids["model"],), [(90, "-1", None, "10.20.1.0/25", "deny"), *ALLOW_ALL], ALLOW_ALL)
    low = t.eni(ids["web"], (ids["web_sg"],), "10.20.1.10")
    high = t.eni(ids["web"], (ids["web_sg"],), "10.20.1.200")
    inv = t.inventory()
    dst = W(ids["model"], ids["model_sg"])
    assert not reach(inv, Q({"eni": low}, dst))["reachable"]
    assert reach(inv, Q({"eni": high}, dst))["reachable"]
    assert reach(inv, Q(W(ids["web"], ids["web_sg"]), dst))["reachable"]  # some address of the subnet


def test_nacl_does_not_apply_inside_one_subnet():
    t, ids = two_tier()
    t.nacl(ids["vpc"], (ids["model"],), [], [])
    peer_sg = t.sg(ids["vpc"], "peer")
    t.allow_in(peer_sg, "tcp", 8080, 8080, cidrs=["10.20.2.0/24"])
    inv = t.inventory()
    assert reach(inv, Q(W(ids["model"], ids["model_sg"]), W(ids["model"], peer_sg)))["reachable"]
    r = reach(inv, Q(W(ids["web"], ids["web_sg"]), W(ids["model"], ids["model_sg"])))
    assert not r["reachable"] and kinds(r) == {"network_acl"}


# ------------------------------------------------------------------------------------------- IPv6


def test_ipv6_internet_path_via_internet_gateway():
    t, ids = two_tier(ipv6=True)
    t.route(ids["rt"], "::/0", ids["igw"])
    sg = t.sg(ids["vpc"], "v6")
    t.allow_in(sg, "tcp", 443, 443, cidrs6=["::/0"])
    inv = t.inventory()
    r = reach(inv, Q(INTERNET, W(ids["web"], sg), 443))
    assert r["reachable"] and r["family"] == "ipv6"
    assert reach(inv, Q({"ip": "2001:db8::9"}, W(ids["web"], sg), 443))["reachable"]
    # an IPv4-only rule does not admit IPv6 sources, and vice versa
    assert not reach(inv, Q({"ip": "2001:db8::9"}, W(ids["web"], ids["web_sg"]), 443))["reachable"]


def test_egress_only_gateway_admits_nothing_inbound():
    t, ids = two_tier(ipv6=True)
    eigw = t.eigw(ids["vpc"])
    rt = t.route_table(ids["vpc"], (ids["model"],))
    t.route(rt, "::/0", eigw)
    sg = t.sg(ids["vpc"], "v6")
    t.allow_in(sg, "tcp", 443, 443, cidrs6=["::/0"])
    r = reach(t.inventory(), Q({"ip": "2001:db8::9"}, W(ids["model"], sg), 443))
    assert not r["reachable"] and "route_table" in kinds(r)
    assert any("egress-only" in b["reason"] for b in r["blocked_by"])


def test_ipv6_between_workloads_uses_ipv6_rules():
    t, ids = two_tier(ipv6=True)
    sg = t.sg(ids["vpc"], "v6only")
    t.allow_in(sg, "tcp", 9000, 9000, cidrs6=["2600:1f18:aaaa:bb01::/64"])
    r = reach(t.inventory(), Q(W(ids["web"], ids["web_sg"]), W(ids["model"], sg), 9000))
    assert r["reachable"] and r["family"] == "ipv6"


# ------------------------------------------------------------------------------------------- peering


def _three_vpcs():
    t = Topo()
    a, b, c = t.vpc("10.1.0.0/16"), t.vpc("10.2.0.0/16"), t.vpc("10.3.0.0/16")
    sa, sb, sc = t.subnet(a, "10.1.1.0/24"), t.subnet(b, "10.2.1.0/24"), t.subnet(c, "10.3.1.0/24")
    sgs = {}
    for v, name in ((a, "a"), (b, "b"), (c, "c")):
        sgs[name] = t.sg(v, name)
        t.allow_in(sgs[name], "tcp", 8080, 8080, cidrs=["10.0.0.0/8"])
    return t, {"a": a, "b": b, "c": c, "sa": sa, "sb": sb, "sc": sc, **{f"sg_{k}": v for k, v in sgs.items()}}


def test_peering_reachable_with_routes_on_both_sides():
    t, i = _three_vpcs()
    pcx = t.peering(i["a"], i["b"])
    t.route(t.main_rt[i["a"]], "10.2.0.0/16", pcx)
    t.route(t.main_rt[i["b"]], "10.1.0.0/16", pcx)
    r = reach(t.inventory(), Q(W(i["sa"], i["sg_a"]), W(i["sb"], i["sg_b"])))
    assert r["reachable"] and any(h["kind"] == "route_table" and pcx in h["detail"] for h in r["path"])


def test_peering_without_the_return_route_is_blocked_on_the_far_side():
    t, i = _three_vpcs()
    pcx = t.peering(i["a"], i["b"])
    t.route(t.main_rt[i["a"]], "10.2.0.0/16", pcx)
    r = reach(t.inventory(), Q(W(i["sa"], i["sg_a"]), W(i["sb"], i["sg_b"])))
    assert not r["reachable"] and components(r) == {t.main_rt[i["b"]]}


def test_peering_pending_is_blocked():
    t, i = _three_vpcs()
    pcx = t.peering(i["a"], i["b"], status="pending-acceptance")
    t.route(t.main_rt[i["a"]], "10.2.0.0/16", pcx)
    t.route(t.main_rt[i["b"]], "10.1.0.0/16", pcx)
    r = reach(t.inventory(), Q(W(i["sa"], i["sg_a"]), W(i["sb"], i["sg_b"])))
    assert not r["reachable"] and "vpc_peering" in kinds(r) and pcx in components(r)


def test_peering_is_not_transitive():
    t, i = _three_vpcs()
    ab = t.peering(i["a"], i["b"])
    bc = t.peering(i["b"], i["c"])
    t.route(t.main_rt[i["a"]], "10.2.0.0/16", ab)
    t.route(t.main_rt[i["a"]], "10.3.0.0/16", ab)  # "via B": peering does not forward
    t.route(t.main_rt[i["b"]], "10.1.0.0/16", ab)
    t.route(t.main_rt[i["b"]], "10.3.0.0/16", bc)
    t.route(t.main_rt[i["c"]], "10.2.0.0/16", bc)
    t.route(t.main_rt[i["c"]], "10.1.0.0/16", bc)
    inv = t.inventory()
    assert reach(inv, Q(W(i["sa"], i["sg_a"]), W(i["sb"], i["sg_b"])))["reachable"]
    assert reach(inv, Q(W(i["sb"], i["sg_b"]), W(i["sc"], i["sg_c"])))["reachable"]
    r = reach(inv, Q(W(i["sa"], i["sg_a"]), W(i["sc"], i["sg_c"])))
    assert not r["reachable"] and "vpc_peering" in kinds(r)
    assert any("not transitive" in b["reason"] for b in r["blocked_by"])


def test_cross_account_peering_needs_the_org_inventory():
    home, member = Topo("111111111111"), Topo("222222222222")
    a = home.vpc("10.1.0.0/16")
    b = member.vpc("10.2.0.0/16")
    sa, sb = home.subnet(a, "10.1.1.0/24"), member.subnet(b, "10.2.1.0/24")
    sga, sgb = home.sg(a, "a"), member.sg(b, "b")
    member.allow_in(sgb, "tcp", 8080, 8080, cidrs=["10.1.0.0/16"])
    pcx = home.peering(a, b, owner_b="222222222222", cidr_b="10.2.0.0/16")
    member.recs["vpc_peering_connections"] = [dict(home.recs["vpc_peering_connections"][0])]
    home.route(home.main_rt[a], "10.2.0.0/16", pcx)
    member.route(member.main_rt[b], "10.1.0.0/16", pcx)
    q = Q(W(sa, sga), W(sb, sgb))
    with pytest.raises(UnknownComponent):
        reach(home.inventory(), q)
    assert build_model(home.inventory()).foreign_vpcs == (b,)
    both = org(home, member)
    assert reach(both, q)["reachable"]
    member.recs["route_tables"][0]["Routes"] = member.recs["route_tables"][0]["Routes"][:1]
    r = reach(org(home, member), q)
    assert not r["reachable"] and components(r) == {member.main_rt[b]}


# ------------------------------------------------------------------------------------------- transit gateways


def _tgw_case(propagate_b: bool = True, blackhole: bool = False, associate_a: bool = True):
    t, i = _three_vpcs()
    tgw = t.tgw()
    at_a, at_b = t.tgw_attach(tgw, i["a"]), t.tgw_attach(tgw, i["b"])
    routes = (("10.2.0.0/16", None, "blackhole"),) if blackhole else ()
    t.tgw_table(tgw, (at_a, at_b) if associate_a else (at_b,),
                (at_a, at_b) if propagate_b else (at_a,), routes)
    t.route(t.main_rt[i["a"]], "10.0.0.0/8", tgw)
    t.route(t.main_rt[i["b"]], "10.0.0.0/8", tgw)
    return t, i


def test_transit_gateway_with_propagated_routes_is_reachable():
    t, i = _tgw_case()
    r = reach(t.inventory(), Q(W(i["sa"], i["sg_a"]), W(i["sb"], i["sg_b"])))
    assert r["reachable"] and any("propagated" in h["detail"] for h in r["path"])


@pytest.mark.parametrize("case", [{"propagate_b": False}, {"blackhole": True}, {"associate_a": False}])
def test_transit_gateway_blocks(case):
    t, i = _tgw_case(**case)
    r = reach(t.inventory(), Q(W(i["sa"], i["sg_a"]), W(i["sb"], i["sg_b"])))
    assert not r["reachable"] and "transit_gateway" in kinds(r)


def test_static_route_without_attachment_is_inferred():
    t, i = _three_vpcs()
    tgw = t.tgw()
    at_a, at_b = t.tgw_attach(tgw, i["a"]), t.tgw_attach(tgw, i["b"])
    t.tgw_table(tgw, (at_a, at_b), (), (("10.2.0.0/16", None, "active"), ("10.1.0.0/16", None, "active")))
    t.route(t.main_rt[i["a"]], "10.2.0.0/16", tgw)
    t.route(t.main_rt[i["b"]], "10.1.0.0/16", tgw)
    assert reach(t.inventory(), Q(W(i["sa"], i["sg_a"]), W(i["sb"], i["sg_b"])))["reachable"]


def test_unconnected_vpcs():
    t, i = _three_vpcs()
    r = reach(t.inventory(), Q(W(i["sa"], i["sg_a"]), W(i["sb"], i["sg_b"])))
    assert {"vpc_peering", "route_table"} <= kinds(r)


# ------------------------------------------------------------------------------------------- endpoints, SageMaker


def test_gateway_endpoint_reachable_only_from_associated_route_tables():
    t, ids = two_tier()
    vpce = t.gateway_endpoint(ids["vpc"], "com.amazonaws.us-east-1.s3", (ids["rt"],))
    inv = t.inventory()
    assert reach(inv, Q(W(ids["web"], ids["web_sg"]), {"vpc_endpoint": vpce}, 443))["reachable"]
    r = reach(inv, Q(W(ids["model"], ids["model_sg"]), {"vpc_endpoint": vpce}, 443))
    assert not r["reachable"] and kinds(r) == {"route_table"}
    r = reach(inv, Q(INTERNET, {"vpc_endpoint": vpce}, 443))
    assert not r["reachable"] and kinds(r) == {"vpc_endpoint"}


def test_gateway_endpoint_policy_that_allows_nothing_blocks():
    t, ids = two_tier()
    deny = {"Statement": [{"Effect": "Deny", "Principal": "*", "Action": "*", "Resource": "*"}]}
    vpce = t.gateway_endpoint(ids["vpc"], "com.amazonaws.us-east-1.s3", (ids["rt"],), policy=deny)
    r = reach(t.inventory(), Q(W(ids["web"], ids["web_sg"]), {"vpc_endpoint": vpce}, 443))
    assert not r["reachable"] and kinds(r) == {"vpc_endpoint"}


def test_interface_endpoint_uses_its_subnets_and_groups():
    t, ids = two_tier()
    ep_sg = t.sg(ids["vpc"], "endpoint")
    t.allow_in(ep_sg, "tcp", 443, 443, cidrs=["10.20.1.0/24"])
    vpce = t.interface_endpoint(ids["vpc"], "com.amazonaws.us-east-1.sagemaker.runtime", (ids["model"],), (ep_sg,))
    inv = t.inventory()
    r = reach(inv, Q(W(ids["web"], ids["web_sg"]), {"vpc_endpoint": vpce}, 443))
    assert r["reachable"] and any("private DNS on" in h["detail"] for h in r["path"])
    other = t.subnet(ids["vpc"], "10.20.9.0/24")
    r = reach(t.inventory(), Q(W(other, ids["web_sg"]), {"vpc_endpoint": vpce}, 443))
    assert not r["reachable"] and components(r) == {ep_sg}


def test_sagemaker_endpoint_reachable_if_any_subnet_is():
    t, ids = two_tier()
    second = t.subnet(ids["vpc"], "10.20.3.0/24")
    t.nacl(ids["vpc"], (ids["model"],), [], [])  # first placement closed
    t.sagemaker_endpoint("fraud", (ids["model"], second), (ids["model_sg"],))
    r = reach(t.inventory(), Q(W(ids["web"], ids["web_sg"]), {"sagemaker_endpoint": "fraud"}))
    assert r["reachable"] and r["placements"] == sorted([ids["model"], second])
    assert any(h["kind"] == "sagemaker_endpoint" for h in r["path"])
    r = reach(t.inventory(), Q(INTERNET, {"sagemaker_endpoint": "fraud"}))
    assert not r["reachable"] and "no_public_address" in kinds(r)


def test_sagemaker_endpoint_without_vpc_config_is_not_in_a_vpc():
    t, ids = two_tier()
    t.sagemaker_endpoint("public-model")
    r = reach(t.inventory(), Q(W(ids["web"], ids["web_sg"]), {"sagemaker_endpoint": "public-model"}))
    assert r["reachable"] is False and r["in_vpc"] is False
    assert any("no VpcConfig" in n for n in r["notes"])
    e = exposure(t.inventory(), {"sagemaker_endpoint": "public-model"})
    assert e["in_vpc"] is False and "not in any VPC" in e["summary"][0]


# ------------------------------------------------------------------------------------------- errors


@pytest.mark.parametrize("dst", [{"subnet": "subnet-0000000000000dead", "security_groups": []},
                                 {"eni": "eni-0000000000000dead"}, {"vpc_endpoint": "vpce-0000000000000dead"},
                                 {"sagemaker_endpoint": "nope"}])
def test_unknown_ids_are_typed_errors_naming_the_id(dst):
    t, ids = two_tier()
    with pytest.raises(NotFound) as err:
        reach(t.inventory(), Q(W(ids["web"], ids["web_sg"]), dst))
    assert next(iter(dst.values())) in str(err.value) or "dead" in str(err.value)


@pytest.mark.parametrize("query", [
    "not json", [], {"from": {"internet": True}}, {"from": {"internet": True}, "to": {"eni": "x"}, "port": "80"},
    {"from": {"internet": True}, "to": {"eni": "x"}, "port": 80, "protocol": "icmp"},
    {"from": {"carrier": 1}, "to": {"eni": "x"}, "port": 80}, {"from": {}, "to": {}, "port": 1, "extra": 1}])
def test_malformed_queries_are_input_errors(query):
    t, _ids = two_tier()
    with pytest.raises(InputError):
        reach(t.inventory(), query)


def test_collection_errors_make_the_engine_refuse():
    inv = AccountInventory(account_id="111111111111", region="us-east-1",
                           errors={"ec2": "InternalError: boom"})
    with pytest.raises(EvaluationError):
        reach(inv, Q(INTERNET, {"eni": "eni-1"}))


def test_unreadable_sagemaker_inventory_is_an_evaluation_error_not_unknown():
    from dataclasses import replace

    t, ids = two_tier()
    inv = replace(t.inventory(), errors={"sagemaker": "ThrottlingException: slow down"})
    with pytest.raises(EvaluationError):
        reach(inv, Q(W(ids["web"], ids["web_sg"]), {"sagemaker_endpoint": "fraud"}))


# ------------------------------------------------------------------------------------------- exposure


def test_exposure_names_the_only_subnet_and_port():
    t, ids = two_tier()
    t.subnet(ids["vpc"], "10.20.3.0/24")
    e = exposure(t.inventory(), W(ids["model"], ids["model_sg"]))
    assert e["internet"]["reachable"] is False
    assert e["placements"][0]["private"] is True
    assert [s["subnet"] for s in e["subnets"]] == [ids["web"]]
    assert e["subnets"][0]["ports"] == [{"protocol": "tcp", "from": 8080, "to": 8080, "family": "ipv4",
                                         "any_workload": True, "requires_security_groups": []}]
    web = exposure(t.inventory(), W(ids["web"], ids["web_sg"]), port=443)
    assert web["internet"]["reachable"] and web["internet"]["ports"][0]["sources"] == ["0.0.0.0/0"]
    assert web["placements"][0]["private"] is False


def test_exposure_reports_security_group_requirements():
    t, ids = two_tier()
    app_sg = t.sg(ids["vpc"], "app")
    ref = t.sg(ids["vpc"], "ref")
    t.allow_in(ref, "tcp", 8080, 8080, groups=[app_sg])
    e = exposure(t.inventory(), W(ids["model"], ref), port=8080)
    subnets = {s["subnet"]: s for s in e["subnets"]}
    assert set(subnets) == {ids["web"], ids["model"]}
    assert subnets[ids["web"]]["ports"][0]["requires_security_groups"] == [app_sg]


def test_exposure_port_ranges_merge():
    t, ids = two_tier()
    t.allow_in(ids["web_sg"], "tcp", 8000, 8100, cidrs=["0.0.0.0/0"])
    e = exposure(t.inventory(), W(ids["web"], ids["web_sg"]), protocol="tcp")
    ports = [(p["from"], p["to"]) for p in e["internet"]["ports"]]
    assert ports == [(443, 443), (8000, 8100)]


# ------------------------------------------------------------------------------------------- probe


def test_probe_accept_writes_both_directions_on_both_interfaces():
    t, ids = two_tier()
    t.flow_log(ids["vpc"], "/vpc/flows")
    res = probe(t.inventory(), Q(W(ids["web"], ids["web_sg"]), W(ids["model"], ids["model_sg"])), now=1_700_000_000)
    assert res.action == "ACCEPT" and res.reachable
    assert len(res.records) == 4 and {r.action for r in res.records} == {"ACCEPT"}
    fields = res.records[0].message.split()
    assert len(fields) == 14 and fields[0] == "2" and fields[1] == "111111111111"
    assert fields[6] == "8080" and fields[7] == "6" and fields[12] == "ACCEPT" and fields[13] == "OK"
    assert all(r.log_group == "/vpc/flows" and r.log_stream == r.interface_id for r in res.records)
    assert AddrSet.of_cidrs(4, ["10.20.1.0/24"]).contains_address(int(__import__("ipaddress").ip_address(fields[3])))


def test_probe_reject_by_security_group_is_logged_at_the_destination():
    t, ids = two_tier()
    t.flow_log(ids["model"], "/vpc/model", traffic="REJECT")
    other = t.subnet(ids["vpc"], "10.20.7.0/24")
    res = probe(t.inventory(), Q(W(other, ids["web_sg"]), W(ids["model"], ids["model_sg"])), now=1_700_000_000)
    assert res.action == "REJECT"
    assert [r.action for r in res.records] == ["REJECT"]
    assert res.records[0].direction == "ingress"


def test_probe_from_the_internet_with_eni_and_custom_format():
    t, ids = two_tier()
    eni = t.eni(ids["web"], (ids["web_sg"],), "10.20.1.25", public_ip="54.9.9.9")
    t.flow_log(eni, "/vpc/eni", fmt="${version} ${vpc-id} ${interface-id} ${srcaddr} ${dstaddr} ${action}")
    res = probe(t.inventory(), Q({"ip": "198.51.100.7"}, {"eni": eni}, 443), now=1_700_000_000)
    assert res.action == "ACCEPT"
    first = res.records[0].message.split()
    assert first == ["3", ids["vpc"], eni, "198.51.100.7", "10.20.1.25", "ACCEPT"]


def test_probe_without_flow_logs_says_so():
    t, ids = two_tier()
    res = probe(t.inventory(), Q(INTERNET, W(ids["web"], ids["web_sg"]), 443))
    assert res.records == () and any("no flow log" in n for n in res.notes)


def test_text_rendering_lists_blockers():
    t, ids = two_tier()
    out = text(reach(t.inventory(), Q(INTERNET, W(ids["model"], ids["model_sg"]))))
    assert out.startswith("NOT REACHABLE") and "Blocked by 3 component(s)" in out
