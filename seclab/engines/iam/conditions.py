"""Condition operators, compiled once per statement and evaluated against an authoritative request context.

Semantics, all from the IAM User Guide (reference_policies_elements_condition_operators.html,
reference_policies_multi-value-conditions.html, reference_policies_variables.html):
- Several operators, and several keys under one operator, are ANDed; several values for one key are ORed.
  A negated operator (StringNotEquals, NotIpAddress, ArnNotLike, ...) is true when the context value matches
  *none* of the policy values.
- A key absent from the context makes a positive operator false and a negated operator true; `...IfExists` makes
  any operator true when the key is absent. `Null: true` is true when the key is absent.
- Condition key names are case-insensitive; values are case-sensitive except in `...IgnoreCase` and Bool.
- `ForAllValues:` is true when every context value matches (true for an absent key or an empty value set);
  `ForAnyValue:` is true when at least one does (false for an absent key or an empty set). The docs count an
  empty string as a null data set for these operators too.
- A multivalued context value (a JSON list) compared without a set operator never matches: "multivalued
  condition keys require set operators" (the AWS-confirmed behaviour also used by iam-simulate).
- Policy variables are resolved in String and Arn operators only; an unresolved variable matches nothing.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import operator as op
import re
from collections.abc import Callable, Mapping
from datetime import datetime, timezone
from typing import Union

from seclab.engines.iam.errors import PolicyError
from seclab.engines.iam.patterns import GlobSet, Template, glob_match, has_variables, parse_template
from seclab.engines.iam.policy import ConditionSpec

ContextValue = Union[str, list[str]]
Context = Mapping[str, ContextValue]

_NEGATED = {
    "StringNotEquals": "StringEquals",
    "StringNotEqualsIgnoreCase": "StringEqualsIgnoreCase",
    "StringNotLike": "StringLike",
    "NumericNotEquals": "NumericEquals",
    "DateNotEquals": "DateEquals",
    "NotIpAddress": "IpAddress",
    "ArnNotEquals": "ArnEquals",
    "ArnNotLike": "ArnLike",
}
_COMPARE: dict[str, Callable[[float, float], bool]] = {
    "Equals": op.eq,
    "LessThan": op.lt,
    "LessThanEquals": op.le,
    "GreaterThan": op.gt,
    "GreaterThanEquals": op.ge,
}
_EPOCH_RE = re.compile(r"^-?\d+(\.\d+)?$")
_NUMBER_RE = re.compile(r"^\s*[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?\s*$")


def parse_number(text: str) -> float | None:
    if not _NUMBER_RE.match(text):
        return None
    return float(text)


def parse_date(text: str) -> float | None:
    """Epoch seconds for an ISO 8601 date/time (W3C profile) or an epoch-seconds string; None if neither."""
    s = text.strip()
    if not s:
        return None
    if _EPOCH_RE.match(s):
        return float(s)
    try:
        dt = datetime.fromisoformat(s[:-1] + "+00:00" if s.endswith(("Z", "z")) else s)
    except ValueError:
        return None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    return dt.timestamp()


def _split_arn(value: str) -> list[str] | None:
    if not value.startswith("arn:"):
        return None
    parts = value.split(":", 5)
    return parts if len(parts) == 6 else None


def arn_like(pattern: str, value: str) -> bool:
    """ArnLike/ArnEquals: each of the six colon-separated components is matched separately with wildcards."""
    vparts = _split_arn(value)
    if vparts is None:
        return False
    pparts = pattern.split(":", 5)
    if len(pparts) != 6:
        # Fewer than six components ("*", "arn:aws:s3:::*"): only a whole-string wildcard match can apply.
        return glob_match(pattern, value)
    return all(glob_match(p, v) for p, v in zip(pparts, vparts, strict=True))


class CompiledCondition:
    """One operator/key pair ready to evaluate. `key` is lower-cased for the case-insensitive context lookup."""

    __slots__ = ("spec", "key", "base", "set_op", "if_exists", "negated", "_match")

    def __init__(self, spec: ConditionSpec, variables: bool, policy: str, path: str) -> None:
        self.spec = spec
        self.key = spec.key.lower()
        self.base = spec.base
        self.set_op = spec.set_operator
        self.if_exists = spec.if_exists
        self.negated = spec.base in _NEGATED
        positive = _NEGATED.get(spec.base, spec.base)
        where = f"{path}.Condition.{spec.operator}.{spec.key}"
        self._match: Callable[[str, Context], bool] = (
            _never if spec.base == "Null" else _build_matcher(positive, spec.values, variables, policy, where)
        )

    def evaluate(self, ctx: Context) -> bool:
        value = ctx.get(self.key)
        if self.base == "Null":
            present = value is not None and value != []
            return any((v.lower() == "true") != present for v in self.spec.values)
        if self.set_op is None:
            if value is None or value == []:
                return self.if_exists or self.negated
            if isinstance(value, list):
                return False  # a multivalued key needs ForAllValues/ForAnyValue
            return self._match(value, ctx) != self.negated
        if value is None:
            return self.if_exists or self.set_op == "ForAllValues"
        values = value if isinstance(value, list) else ([] if value == "" else [value])
        if not values:
            return self.set_op == "ForAllValues"
        if self.set_op == "ForAllValues":
            return all(self._match(v, ctx) != self.negated for v in values)
        return any(self._match(v, ctx) != self.negated for v in values)


def _never(_value: str, _ctx: Context) -> bool:
    return False


def _build_matcher(
    base: str, values: tuple[str, ...], variables: bool, policy: str, where: str
) -> Callable[[str, Context], bool]:
    """A function (context value, context) -> does the value match ANY policy value (before negation)."""
    if base in ("StringEquals", "StringEqualsIgnoreCase", "StringLike", "ArnEquals", "ArnLike"):
        templates = tuple(parse_template(v) for v in values if variables and has_variables(v))
        static = tuple(v for v in values if not (variables and has_variables(v)))
        if base == "StringEquals":
            return _string_equals(frozenset(static), templates, ignore_case=False)
        if base == "StringEqualsIgnoreCase":
            return _string_equals(frozenset(v.lower() for v in static), templates, ignore_case=True)
        if base == "StringLike":
            return _string_like(GlobSet(static) if static else None, templates)
        return _arn_like(static, templates)
    if base.startswith("Numeric"):
        cmp = _COMPARE[base[len("Numeric") :]]
        numbers = []
        for v in values:
            n = parse_number(v)
            if n is None:
                raise PolicyError(f"{v!r} is not a number", policy=policy, path=where)
            numbers.append(n)
        return _ordered(tuple(numbers), cmp, parse_number)
    if base.startswith("Date"):
        cmp = _COMPARE[base[len("Date") :]]
        dates = []
        for v in values:
            d = parse_date(v)
            if d is None:
                raise PolicyError(
                    f"{v!r} is not an ISO 8601 date/time or epoch seconds", policy=policy, path=where
                )
            dates.append(d)
        return _ordered(tuple(dates), cmp, parse_date)
    if base == "Bool":
        bools = set()
        for v in values:
            if v.lower() not in ("true", "false"):
                raise PolicyError(f"Bool takes true or false, got {v!r}", policy=policy, path=where)
            bools.add(v.lower())
        frozen = frozenset(bools)
        return lambda x, _ctx: x.lower() in frozen
    if base == "BinaryEquals":
        decoded = frozenset(_b64(v) for v in values)
        return lambda x, _ctx: _b64(x) in decoded
    if base == "IpAddress":
        nets = []
        for v in values:
            try:
                nets.append(ipaddress.ip_network(v.strip(), strict=False))
            except ValueError:
                raise PolicyError(f"{v!r} is not an IP address or CIDR block", policy=policy, path=where) from None
        return _ip_match(tuple(nets))
    raise AssertionError(f"no matcher for {base}")  # split_operator only admits known operators


def _string_equals(
    static: frozenset[str], templates: tuple[Template, ...], ignore_case: bool
) -> Callable[[str, Context], bool]:
    if not templates:
        if ignore_case:
            return lambda x, _ctx: x.lower() in static
        return lambda x, _ctx: x in static

    def match(x: str, ctx: Context) -> bool:
        probe = x.lower() if ignore_case else x
        if probe in static:
            return True
        for t in templates:
            text = t.resolve_text(ctx)
            if text is not None and (text.lower() if ignore_case else text) == probe:
                return True
        return False

    return match


def _string_like(static: GlobSet | None, templates: tuple[Template, ...]) -> Callable[[str, Context], bool]:
    if not templates:
        assert static is not None
        return lambda x, _ctx: static.match(x)

    def match(x: str, ctx: Context) -> bool:
        if static is not None and static.match(x):
            return True
        for t in templates:
            rx = t.resolve_regex(ctx)
            if rx is not None and rx.fullmatch(x):
                return True
        return False

    return match


def _arn_like(static: tuple[str, ...], templates: tuple[Template, ...]) -> Callable[[str, Context], bool]:
    def match(x: str, ctx: Context) -> bool:
        for p in static:
            if arn_like(p, x):
                return True
        for t in templates:
            text = t.resolve_text(ctx)
            if text is not None and arn_like(text, x):
                return True
        return False

    return match


def _ordered(
    values: tuple[float, ...], cmp: Callable[[float, float], bool], parse: Callable[[str], float | None]
) -> Callable[[str, Context], bool]:
    def match(x: str, _ctx: Context) -> bool:
        n = parse(x)
        if n is None:
            return False
        return any(cmp(n, v) for v in values)

    return match


def _ip_match(nets: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]) -> Callable[[str, Context], bool]:
    def match(x: str, _ctx: Context) -> bool:
        try:
            addr = ipaddress.ip_address(x.strip())
        except ValueError:
            return False
        return any(addr.version == n.version and addr in n for n in nets)

    return match


def _b64(text: str) -> bytes | str:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return text
