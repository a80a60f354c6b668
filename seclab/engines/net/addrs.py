"""Address sets: unions of inclusive integer ranges, one address family each.

Why ranges and not single addresses: a workload named by "subnet + security groups" has *some* address in the
subnet, and "the internet" is every public address. Security-group rules, NACL entries and routes each admit a set
of addresses; intersecting and subtracting those sets exactly answers "is there any address for which every
component agrees?", and the surviving set is what `exposure` reports as "from which CIDRs". Sets are immutable and
normalised (sorted, disjoint, non-adjacent), so equality is structural.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

_MAX = {4: (1 << 32) - 1, 6: (1 << 128) - 1}


def _normalise(ranges: Iterable[tuple[int, int]]) -> tuple[tuple[int, int], ...]:
    out: list[list[int]] = []
    for lo, hi in sorted(r for r in ranges if r[0] <= r[1]):
        if out and lo <= out[-1][1] + 1:
            if hi > out[-1][1]:
                out[-1][1] = hi
        else:
            out.append([lo, hi])
    return tuple((a, b) for a, b in out)


@dataclass(frozen=True)
class AddrSet:
    """A set of IPv4 (family 4) or IPv6 (family 6) addresses."""

    family: int
    ranges: tuple[tuple[int, int], ...] = ()

    # ------------------------------------------------------------------ construction

    @staticmethod
    def empty(family: int) -> AddrSet:
        return _EMPTY4 if family == 4 else _EMPTY6

    @staticmethod
    def everything(family: int) -> AddrSet:
        return AddrSet(family, ((0, _MAX[family]),))

    @staticmethod
    def of_ranges(family: int, ranges: Iterable[tuple[int, int]]) -> AddrSet:
        """From arbitrary inclusive ranges (the constructor itself expects them normalised)."""
        return AddrSet(family, _normalise(ranges))

    @staticmethod
    def of_network(net: IPNetwork) -> AddrSet:
        return AddrSet(net.version, ((int(net.network_address), int(net.broadcast_address)),))

    @staticmethod
    def of_cidrs(family: int, cidrs: Iterable[str | IPNetwork]) -> AddrSet:
        ranges = []
        for c in cidrs:
            net = c if isinstance(c, (ipaddress.IPv4Network, ipaddress.IPv6Network)) else parse_cidr(c)
            if net is not None and net.version == family:
                ranges.append((int(net.network_address), int(net.broadcast_address)))
        return AddrSet(family, _normalise(ranges))

    @staticmethod
    def of_address(addr: ipaddress.IPv4Address | ipaddress.IPv6Address) -> AddrSet:
        return AddrSet(addr.version, ((int(addr), int(addr)),))

    # ------------------------------------------------------------------ algebra

    def __bool__(self) -> bool:
        return bool(self.ranges)

    def union(self, other: AddrSet) -> AddrSet:
        if not other.ranges:
            return self
        if not self.ranges:
            return other
        return AddrSet(self.family, _normalise(self.ranges + other.ranges))

    def intersect(self, other: AddrSet) -> AddrSet:
        a, b = self.ranges, other.ranges
        if not a or not b:
            return AddrSet.empty(self.family)
        if len(b) == 1:  # the common case: a set meets one CIDR
            lo, hi = b[0]
            if len(a) == 1:
                x, y = max(a[0][0], lo), min(a[0][1], hi)
                return AddrSet(self.family, ((x, y),)) if x <= y else AddrSet.empty(self.family)
            if lo <= a[0][0] and a[-1][1] <= hi:
                return self
        i = j = 0
        out = []
        while i < len(a) and j < len(b):
            lo = max(a[i][0], b[j][0])
            hi = min(a[i][1], b[j][1])
            if lo <= hi:
                out.append((lo, hi))
            if a[i][1] < b[j][1]:
                i += 1
            else:
                j += 1
        return AddrSet(self.family, tuple(out))

    def subtract(self, other: AddrSet) -> AddrSet:
        if not self.ranges or not other.ranges:
            return self
        out = []
        b = other.ranges
        j = 0
        for lo, hi in self.ranges:
            cur = lo
            while j < len(b) and b[j][1] < cur:
                j += 1
            k = j
            while k < len(b) and b[k][0] <= hi:
                if b[k][0] > cur:
                    out.append((cur, b[k][0] - 1))
                cur = max(cur, b[k][1] + 1)
                if cur > hi:
                    break
                k += 1
            if cur <= hi:
                out.append((cur, hi))
        return AddrSet(self.family, tuple(out))

    def contains_set(self, other: AddrSet) -> bool:
        return not other.subtract(self)

    def size(self) -> int:
        return sum(hi - lo + 1 for lo, hi in self.ranges)

    def first(self) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
        if not self.ranges:
            return None
        return ipaddress.ip_address(self.ranges[0][0]) if self.family == 4 else ipaddress.IPv6Address(
            self.ranges[0][0])

    def contains_address(self, value: int) -> bool:
        return any(lo <= value <= hi for lo, hi in self.ranges)

    def cidrs(self, limit: int | None = None) -> list[str]:
        """The set as the fewest CIDR blocks, in address order (the first `limit` of them when given)."""
        out: list[str] = []
        cls = ipaddress.IPv4Address if self.family == 4 else ipaddress.IPv6Address
        for lo, hi in self.ranges:
            for n in ipaddress.summarize_address_range(cls(lo), cls(hi)):
                if limit is not None and len(out) >= limit:
                    return out
                out.append(str(n))
        return out


_EMPTY4 = AddrSet(4, ())
_EMPTY6 = AddrSet(6, ())


def parse_cidr(text: str | None) -> IPNetwork | None:
    """A CIDR from an AWS record, or None when it is absent or malformed (AWS never stores malformed ones)."""
    if not text:
        return None
    try:
        return ipaddress.ip_network(str(text), strict=False)
    except ValueError:
        return None


def parse_address(text: str | None) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    if not text:
        return None
    try:
        return ipaddress.ip_address(str(text))
    except ValueError:
        return None


# Addresses that no host on the internet can use as a source (RFC 6890 special-purpose blocks that are not
# globally reachable). The documentation blocks (192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24) stay in: lab
# queries use them as "some address on the internet".
_NOT_INTERNET_V4 = (
    "0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12",
    "192.0.0.0/24", "192.168.0.0/16", "198.18.0.0/15", "224.0.0.0/3",
)
INTERNET_V4 = AddrSet.everything(4).subtract(AddrSet.of_cidrs(4, _NOT_INTERNET_V4))
INTERNET_V6 = AddrSet.of_cidrs(6, ["2000::/3"])


def internet(family: int) -> AddrSet:
    return INTERNET_V4 if family == 4 else INTERNET_V6


@lru_cache(maxsize=8192)
def describe(addrs: AddrSet, limit: int = 4) -> str:
    """A short human rendering: "any internet address", "10.20.1.0/24", "10.0.0.0/8, ... and more".
    Cached and lazy: explanations render the same few sets over and over, and a set carved out of the internet can
    hold dozens of ranges that nobody reads past the fourth block."""
    if addrs in (INTERNET_V4, INTERNET_V6):
        return "any internet address"
    if addrs == AddrSet.everything(addrs.family):
        return "0.0.0.0/0" if addrs.family == 4 else "::/0"
    if not addrs.ranges:
        return "no address"
    cls = ipaddress.IPv4Address if addrs.family == 4 else ipaddress.IPv6Address
    shown: list[str] = []
    for lo, hi in addrs.ranges:
        for net in ipaddress.summarize_address_range(cls(lo), cls(hi)):
            if len(shown) == limit:
                return ", ".join(shown) + " and more"
            shown.append(str(net))
    return ", ".join(shown)
