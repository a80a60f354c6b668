"""Probes: play one connection attempt through the engine and build the VPC Flow Log records AWS would write.

Why: the simulator stores flow-log configurations but never records traffic, and a learner's habit on AWS is to
check a connection in the flow logs. A probe decides ACCEPT/REJECT per network interface exactly as `reach` does
and lays down, for every flow log on the VPC, subnet or interface involved, the records that interface would show:
the request as it leaves the client, the request as it meets the server (REJECT where a security group or NACL
drops it), and the replies. Nothing is written here (engines are pure); `seclab.effects.flowlogs.write` puts the
records into CloudWatch Logs, one stream per interface, as the flow-log service does.
"""

from __future__ import annotations

import hashlib
import re
import time
import zlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .addrs import AddrSet, parse_address
from .model import PROTO_NUMBER, model_of
from .reach import GatewayTarget, Outside, Place, answer, parse_query

DEFAULT_FORMAT = ("${version} ${account-id} ${interface-id} ${srcaddr} ${dstaddr} ${srcport} ${dstport} "
                  "${protocol} ${packets} ${bytes} ${start} ${end} ${action} ${log-status}")
_FIELD_VERSION = {"vpc-id": 3, "subnet-id": 3, "instance-id": 3, "tcp-flags": 3, "type": 3, "pkt-srcaddr": 3,
                  "pkt-dstaddr": 3, "region": 4, "az-id": 4, "sublocation-type": 4, "sublocation-id": 4,
                  "pkt-src-aws-service": 5, "pkt-dst-aws-service": 5, "flow-direction": 5, "traffic-path": 5}
_PREFERRED_INTERNET = ("198.51.100.7", "203.0.113.7", "192.0.2.7", "2001:db8::7")


@dataclass(frozen=True)
class FlowLogRecord:
    """One flow-log event to write: where (account, log group, stream = interface id) and what (the line)."""

    flow_log_id: str
    account: str
    log_group: str
    log_stream: str
    timestamp_ms: int
    message: str
    action: str
    interface_id: str
    direction: str  # ingress | egress

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass(frozen=True)
class ProbeResult:
    """The outcome of one probe: the `reach` answer, the overall action and the records to write."""

    query: Mapping[str, Any]
    reachable: bool
    action: str  # ACCEPT | REJECT
    answer: Mapping[str, Any]
    interfaces: tuple[Mapping[str, Any], ...]
    records: tuple[FlowLogRecord, ...]
    notes: tuple[str, ...] = field(default=())

    def to_dict(self) -> dict[str, Any]:
        return {"reachable": self.reachable, "action": self.action, "interfaces": [dict(i) for i in self.interfaces],
                "records": [r.to_dict() for r in self.records], "notes": list(self.notes),
                "answer": dict(self.answer)}


def synthetic_eni_id(subnet_id: str) -> str:
    """A stable interface id for a workload known only by its subnet (same subnet, same id, every run)."""
    return "eni-" + hashlib.sha256(subnet_id.encode()).hexdigest()[:17]


def _pick(addrs: AddrSet, preferred: list[str]) -> str | None:
    for text in preferred:
        a = parse_address(text)
        if a is not None and a.version == addrs.family and addrs.contains_address(int(a)):
            return str(a)
    first = addrs.first()
    return str(first) if first is not None else None


def _subnet_address(place: Place, family: int, seed: str) -> list[str]:
    """Preferred addresses for a workload known by subnet: a stable one (not the 4 AWS reserves at the start)."""
    nets = [place.subnet.cidr4] if family == 4 and place.subnet.cidr4 else list(place.subnet.cidrs6)
    out = []
    for net in nets:
        if net is None:
            continue
        size = net.num_addresses
        offset = 4 + (zlib.crc32(seed.encode()) % max(1, min(size - 5, 1 << 20))) if size > 8 else 1
        out.append(str(net.network_address + offset))
    return out


def _end_address(end: Any, family: int, addrs: AddrSet) -> str:
    if isinstance(end, Outside):
        return _pick(addrs, list(_PREFERRED_INTERNET)) or ("198.51.100.7" if family == 4 else "2001:db8::7")
    if isinstance(end, Place):
        preferred = []
        if end.eni is not None:
            preferred += [end.eni.private_ip or ""] if family == 4 else list(end.eni.ipv6)
        preferred += _subnet_address(end, family, end.subnet.id)
        picked = _pick(addrs, preferred) or _pick(end.addrs(family), preferred)
        return picked or (preferred[0] if preferred else "0.0.0.0")
    if isinstance(end, GatewayTarget):
        return _pick(addrs, []) or "52.216.0.1"
    return "0.0.0.0"


def _interface(end: Any) -> tuple[str, bool] | None:
    """(interface id, synthetic?) for a workload end; None for the internet and for gateway endpoints."""
    if isinstance(end, Place):
        if end.eni is not None:
            return end.eni.id, False
        return synthetic_eni_id(end.subnet.id), True
    return None


def _render(fmt: str | None, values: Mapping[str, Any]) -> str:
    fields = re.findall(r"\$\{([a-z0-9-]+)\}", fmt or DEFAULT_FORMAT) or re.findall(
        r"\$\{([a-z0-9-]+)\}", DEFAULT_FORMAT)
    version = max([2] + [_FIELD_VERSION.get(f, 2) for f in fields])
    vals = dict(values, version=version)
    return " ".join(str(vals.get(f, "-")) for f in fields)


def probe(inventory: Any, query: Any, now: float | None = None) -> ProbeResult:
    """Decide ACCEPT/REJECT for one connection attempt and build the flow-log records of every interface on the
    way (see the module docstring). `now` (epoch seconds) fixes the records' times, for reproducible tests."""
    model = model_of(inventory)
    q = parse_query(query)
    ans, cand = answer(model, q)
    qdict = {"from": dict(q.src), "to": dict(q.dst), "port": q.port, "protocol": q.protocol}
    if cand is None:
        return ProbeResult(qdict, False, "REJECT", ans, (), (), tuple(ans.get("notes", [])))
    end = int(now if now is not None else time.time())
    start = end - 4
    fam = cand.family
    src_ip = _end_address(cand.src, fam, cand.src_addrs)
    dst_ip = _end_address(cand.dst, fam, cand.dst_addrs)
    proto = PROTO_NUMBER.get(q.protocol, 6)
    dport = q.port if q.port is not None else 0
    sport = 49152 + zlib.crc32(f"{src_ip}>{dst_ip}:{dport}/{q.protocol}".encode()) % 16384

    st = cand.stages
    src_out = st.get("src_out", True)
    arrives = src_out and st.get("delivered", True)
    dst_in = arrives and st.get("dst_in", True)
    reply_out = dst_in and st.get("dst_out", True)
    reply_back = reply_out and st.get("returned", True)
    src_in = reply_back and st.get("src_in", True)
    full = src_in and cand.reachable

    def size(accepted_full: bool, reply: bool) -> tuple[int, int]:
        if accepted_full:
            return (4, 1240) if reply else (5, 420)
        return (3, 180)  # a SYN (or its reply) retried and never answered

    # (end, direction, srcaddr, dstaddr, srcport, dstport, action, is the reply)
    legs: list[tuple[Any, str, str, str, int, int, str, bool]] = []
    src_if, dst_if = _interface(cand.src), _interface(cand.dst)
    if src_if:
        legs.append((cand.src, "egress", src_ip, dst_ip, sport, dport, "ACCEPT" if src_out else "REJECT", False))
        if reply_back:
            legs.append((cand.src, "ingress", dst_ip, src_ip, dport, sport, "ACCEPT" if src_in else "REJECT", True))
    if dst_if and arrives:
        legs.append((cand.dst, "ingress", src_ip, dst_ip, sport, dport, "ACCEPT" if dst_in else "REJECT", False))
        if dst_in:
            legs.append((cand.dst, "egress", dst_ip, src_ip, dport, sport, "ACCEPT" if reply_out else "REJECT", True))

    interfaces = []
    records: list[FlowLogRecord] = []
    notes: list[str] = []
    for end_obj, label in ((cand.src, "source"), (cand.dst, "destination")):
        iface = _interface(end_obj)
        if iface is None:
            continue
        assert isinstance(end_obj, Place)
        logs = model.flow_logs_for([iface[0], end_obj.subnet.id, end_obj.vpc.id])
        interfaces.append({"role": label, "interface_id": iface[0], "synthetic": iface[1],
                           "subnet": end_obj.subnet.id, "vpc": end_obj.vpc.id,
                           "address": src_ip if label == "source" else dst_ip,
                           "flow_logs": [f.id for f in logs]})
        if not logs:
            notes.append(f"no flow log covers {iface[0]} ({end_obj.subnet.id}, {end_obj.vpc.id}): nothing is "
                         f"recorded for the {label}")
        for fl in logs:
            if fl.destination_type != "cloud-watch-logs" or not fl.log_group:
                notes.append(f"flow log {fl.id} delivers to {fl.destination_type}; seclab writes only CloudWatch "
                             f"Logs records")
                continue
            for leg_end, direction, s_ip, d_ip, sp, dp, action, is_reply in legs:
                if leg_end is not end_obj:
                    continue
                if fl.traffic_type not in ("ALL", action):
                    continue
                packets, nbytes = size(full, is_reply)
                values = {
                    "account-id": end_obj.subnet.account, "interface-id": iface[0], "srcaddr": s_ip,
                    "dstaddr": d_ip, "srcport": sp, "dstport": dp, "protocol": proto, "packets": packets,
                    "bytes": nbytes, "start": start, "end": end, "action": action, "log-status": "OK",
                    "vpc-id": end_obj.vpc.id, "subnet-id": end_obj.subnet.id, "instance-id": "-",
                    "tcp-flags": 2 if not full else 19, "type": f"IPv{fam}", "pkt-srcaddr": s_ip,
                    "pkt-dstaddr": d_ip, "region": model.region, "az-id": "-", "flow-direction": direction,
                    "traffic-path": "-", "pkt-src-aws-service": "-", "pkt-dst-aws-service": "-",
                    "sublocation-type": "-", "sublocation-id": "-",
                }
                records.append(FlowLogRecord(fl.id, fl.account, fl.log_group, iface[0], end * 1000,
                                             _render(fl.log_format, values), action, iface[0], direction))
    return ProbeResult(qdict, bool(ans["reachable"]), "ACCEPT" if ans["reachable"] else "REJECT", ans,
                       tuple(interfaces), tuple(records), tuple(notes))
