"""Property tests of the network engine on hand-built models: monotonicity (widening an allow never removes
reachability, adding a deny never adds any) and the set algebra, route choice and NACL order against brute force."""

from __future__ import annotations

import copy
import ipaddress

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from net_builders import INTERNET, Q, W, two_tier
from seclab.engines.net import reach
from seclab.engines.net.addrs import AddrSet
from seclab.engines.net.model import AclEntry, NetworkAcl, Route, _lpm
from seclab.engines.net.reach import nacl_allowed

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

CIDRS = ["0.0.0.0/0", "10.0.0.0/8", "10.20.0.0/16", "10.20.1.0/24", "10.20.1.0/25", "10.20.1.128/25",
         "10.20.3.0/24", "198.51.100.0/24", "203.0.113.0/24"]
PORTS = [22, 443, 1024, 8080, 40000, 65535]

rule = st.tuples(st.sampled_from(["tcp", "udp", "-1"]), st.sampled_from(PORTS), st.integers(0, 3000),
                 st.sampled_from(CIDRS))
acl_entry = st.tuples(st.integers(1, 200), st.sampled_from(["6", "17", "-1"]), st.sampled_from(PORTS),
                      st.integers(0, 40000), st.sampled_from(CIDRS), st.sampled_from(["allow", "deny"]))


def _world(sg_rules, inbound, outbound, src_outbound):
    t, ids = two_tier()
    t.nat(ids["web"])
    third = t.subnet(ids["vpc"], "10.20.3.0/24", public=True)
    ids["third"] = third
    sg = t.sg(ids["vpc"], "dst")
    for proto, lo, span, cidr in sg_rules:
        t.allow_in(sg, proto, lo, min(65535, lo + span), cidrs=[cidr])
    ids["sg"] = sg
    ids["eni"] = t.eni(ids["web"], (ids["web_sg"],), "10.20.1.77", public_ip="54.3.3.3")

    def entries(lst):
        seen, out = set(), []
        for num, proto, lo, span, cidr, action in lst:
            if num in seen:
                continue
            seen.add(num)
            out.append((num, proto, (lo, min(65535, lo + span)) if proto != "-1" else None, cidr, action))
        return out

    t.nacl(ids["vpc"], (ids["model"],), entries(inbound), entries(outbound))
    t.nacl(ids["vpc"], (ids["web"],), [(100, "-1", None, "0.0.0.0/0", "allow")], entries(src_outbound))
    return t, ids


SOURCES = ["internet", "ip", "web", "third", "eni"]


def _query(ids, source, port, proto):
    src = {"internet": INTERNET, "ip": {"ip": "198.51.100.9"}, "web": W(ids["web"], ids["web_sg"]),
           "third": W(ids["third"], ids["web_sg"]), "eni": {"eni": ids["eni"]}}[source]
    return Q(src, W(ids["model"], ids["sg"]), port, proto)


world = st.tuples(st.lists(rule, max_size=4), st.lists(acl_entry, max_size=5), st.lists(acl_entry, max_size=5),
                  st.lists(acl_entry, max_size=3))
query = st.tuples(st.sampled_from(SOURCES), st.sampled_from(PORTS + [8081]), st.sampled_from(["tcp", "udp"]))


@SETTINGS
@given(world, query, st.data())
def test_widening_a_security_group_rule_never_removes_reachability(w, q, data):
    sg_rules, inbound, outbound, src_out = w
    if not sg_rules:
        sg_rules = [("tcp", 8080, 0, "10.20.1.0/24")]
    t, ids = _world(sg_rules, inbound, outbound, src_out)
    before = reach(t.inventory(), _query(ids, *q))["reachable"]
    i = data.draw(st.integers(0, len(sg_rules) - 1))
    proto, lo, span, cidr = sg_rules[i]
    how = data.draw(st.sampled_from(["ports", "cidr", "protocol"]))
    if how == "ports":
        widened = (proto, max(0, lo - data.draw(st.integers(0, 9000))), span + data.draw(st.integers(0, 60000)),
                   cidr)
    elif how == "cidr":
        net = ipaddress.ip_network(cidr)
        widened = (proto, lo, span, str(net.supernet(new_prefix=max(0, net.prefixlen - data.draw(st.integers(0, 16))))))
    else:
        widened = ("-1", lo, span, cidr)
    rules2 = list(sg_rules)
    rules2[i] = widened
    t2, ids2 = _world(rules2, inbound, outbound, src_out)
    after = reach(t2.inventory(), _query(ids2, *q))["reachable"]
    assert not (before and not after), (sg_rules, widened, q)


@SETTINGS
@given(world, query, acl_entry, st.sampled_from(["dst_in", "dst_out", "src_out"]))
def test_adding_a_lower_numbered_nacl_deny_never_adds_reachability(w, q, extra, where):
    sg_rules, inbound, outbound, src_out = w
    t, ids = _world(sg_rules or [("-1", 0, 0, "0.0.0.0/0")], inbound, outbound, src_out)
    before = reach(t.inventory(), _query(ids, *q))["reachable"]
    lists = {"dst_in": list(inbound), "dst_out": list(outbound), "src_out": list(src_out)}
    lowest = min([e[0] for e in lists[where]] + [201])
    _num, proto, lo, span, cidr, _action = extra
    lists[where].insert(0, (max(0, lowest - 1) or 1, proto, lo, span, cidr, "deny"))
    if lowest <= 1:  # no room below: renumber the rest upwards
        lists[where] = [lists[where][0]] + [(n + 1, *rest) for n, *rest in lists[where][1:]]
    t2, ids2 = _world(sg_rules or [("-1", 0, 0, "0.0.0.0/0")], lists["dst_in"], lists["dst_out"], lists["src_out"])
    after = reach(t2.inventory(), _query(ids2, *q))["reachable"]
    assert not (after and not before), (extra, where, q)


# ------------------------------------------------------------------------------------------- brute-force oracles

small_ranges = st.lists(st.tuples(st.integers(0, 60), st.integers(0, 8)).map(lambda x: (x[0], x[0] + x[1])),
                        max_size=5)


def _members(s: AddrSet) -> set[int]:
    return {v for lo, hi in s.ranges for v in range(lo, hi + 1)}


def _norm(ranges):
    return AddrSet.of_ranges(4, ranges)


@settings(max_examples=300, deadline=None)
@given(small_ranges, small_ranges)
def test_address_set_algebra_matches_python_sets(a, b):
    x, y = _norm(a), _norm(b)
    xs = {v for lo, hi in a for v in range(lo, hi + 1)}
    ys = {v for lo, hi in b for v in range(lo, hi + 1)}
    assert _members(x) == xs
    assert _members(x.union(y)) == xs | ys
    assert _members(x.intersect(y)) == xs & ys
    assert _members(x.subtract(y)) == xs - ys
    assert x.contains_set(x.intersect(y)) and (x.contains_set(y) == (ys <= xs))
    # canonical: sorted, disjoint and never adjacent
    assert all(r[1] + 1 < q[0] for r, q in zip(x.ranges, x.ranges[1:], strict=False))


prefix = st.tuples(st.integers(0, 255), st.integers(0, 255), st.integers(8, 28))


@settings(max_examples=200, deadline=None)
@given(st.lists(prefix, min_size=1, max_size=8, unique_by=lambda p: p), st.integers(0, 255), st.integers(0, 255))
def test_longest_prefix_match_matches_brute_force(prefixes, b, c):
    routes = []
    seen = set()
    for i, (x, y, plen) in enumerate(prefixes):
        net = ipaddress.ip_network(f"10.{x}.{y}.0/{plen}", strict=False)
        if str(net) in seen:
            continue
        seen.add(str(net))
        routes.append(Route(str(net), 4, "local", f"t{i}", "active", AddrSet.of_network(net)))
    addr = ipaddress.ip_address(f"10.{b}.{c}.1")
    expect = max((r for r in routes if addr in ipaddress.ip_network(r.destination)),
                 key=lambda r: ipaddress.ip_network(r.destination).prefixlen, default=None)
    got = [r for won, r in _lpm(routes, 4) if won.contains_address(int(addr))]
    assert got == ([expect] if expect else [])


acl_rule = st.tuples(st.integers(1, 50), st.sampled_from(["6", "17", "-1"]), st.integers(0, 100), st.integers(0, 50),
                     st.sampled_from(["10.0.0.0/8", "10.1.0.0/16", "10.1.2.0/24", "0.0.0.0/0"]), st.booleans())


@settings(max_examples=300, deadline=None)
@given(st.lists(acl_rule, max_size=6, unique_by=lambda r: r[0]), st.sampled_from(["tcp", "udp"]),
       st.integers(0, 160), st.sampled_from(["10.1.2.3", "10.1.9.9", "10.200.0.1", "192.168.1.1"]))
def test_nacl_first_match_matches_brute_force(rules, proto, port, addr):
    from seclab.engines.net.model import norm_protocol

    entries = tuple(sorted((AclEntry(n, False, allow, norm_protocol(p), None if p == "-1" else lo,
                                     None if p == "-1" else lo + span, cidr,
                                     AddrSet.of_network(ipaddress.ip_network(cidr)))
                            for n, p, lo, span, cidr, allow in rules), key=lambda e: e.number))
    acl = NetworkAcl("acl-x", "1", "vpc-x", False, (), entries, ())
    a = ipaddress.ip_address(addr)
    expect = False
    for e in entries:
        pr = e.port_range(proto)
        if pr and pr[0] <= port <= pr[1] and a in ipaddress.ip_network(e.cidr):
            expect = e.allow
            break
    allowed, _ = nacl_allowed(acl, False, AddrSet.of_address(a), proto, (port, port))
    assert bool(allowed) == expect


def test_world_builder_is_not_shared_between_examples():
    t1, ids1 = _world([("tcp", 8080, 0, "10.20.1.0/24")], [], [], [])
    snapshot = copy.deepcopy(t1.recs)
    _world([("tcp", 22, 0, "0.0.0.0/0")], [], [], [])
    assert t1.recs == snapshot and reach(t1.inventory(), _query(ids1, "web", 8080, "tcp"))["reachable"] is False
