"""Parsing IAM policy documents into typed, immutable statements.

Why a parser of our own: the evaluator's answer is only as good as its reading of the document, and a learner's
malformed policy must be reported precisely (which policy, which element, which line) rather than half-read.
Parsing is strict about structure (unknown elements, wrong types, both Action and NotAction) and faithful about
content: values are kept exactly as written, so evidence shown to a learner is their own text.

The grammar follows https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_grammar.html:
a document is {Version?, Id?, Statement}; Statement is one object or a list; each statement has Sid?, Effect,
exactly one of Action/NotAction, at most one of Resource/NotResource, at most one of Principal/NotPrincipal and
an optional Condition block {operator: {key: value | [values]}}.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from seclab.engines.iam.errors import PolicyError

VERSION_2012 = "2012-10-17"
VERSION_2008 = "2008-10-17"

_DOC_KEYS = ("Version", "Id", "Statement")
_STATEMENT_KEYS = (
    "Sid",
    "Effect",
    "Principal",
    "NotPrincipal",
    "Action",
    "NotAction",
    "Resource",
    "NotResource",
    "Condition",
)
_PRINCIPAL_KEYS = ("AWS", "Service", "Federated", "CanonicalUser")

# Canonical spelling of every base condition operator, keyed by its lower-case form.
BASE_OPERATORS: dict[str, str] = {
    name.lower(): name
    for name in (
        "StringEquals",
        "StringNotEquals",
        "StringEqualsIgnoreCase",
        "StringNotEqualsIgnoreCase",
        "StringLike",
        "StringNotLike",
        "NumericEquals",
        "NumericNotEquals",
        "NumericLessThan",
        "NumericLessThanEquals",
        "NumericGreaterThan",
        "NumericGreaterThanEquals",
        "DateEquals",
        "DateNotEquals",
        "DateLessThan",
        "DateLessThanEquals",
        "DateGreaterThan",
        "DateGreaterThanEquals",
        "Bool",
        "BinaryEquals",
        "IpAddress",
        "NotIpAddress",
        "ArnEquals",
        "ArnLike",
        "ArnNotEquals",
        "ArnNotLike",
        "Null",
    )
}
_SET_OPERATORS = {"forallvalues": "ForAllValues", "foranyvalue": "ForAnyValue"}


@dataclass(frozen=True, slots=True)
class PrincipalSpec:
    """A Principal or NotPrincipal element. `star` is true for "*" and for {"AWS": "*"} (AWS treats them alike)."""

    star: bool
    aws: tuple[str, ...] = ()
    service: tuple[str, ...] = ()
    federated: tuple[str, ...] = ()
    canonical_user: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ConditionSpec:
    """One operator/key pair of a Condition block, e.g. ForAnyValue:StringLikeIfExists on aws:TagKeys."""

    operator: str  # as written
    base: str  # canonical base operator, e.g. "StringLike"
    set_operator: str | None  # "ForAllValues" | "ForAnyValue" | None
    if_exists: bool
    key: str  # as written; matching is case-insensitive
    values: tuple[str, ...]  # booleans and numbers written as JSON literals become their JSON text


@dataclass(frozen=True, slots=True)
class Statement:
    index: int
    sid: str | None
    effect: str  # "Allow" | "Deny"
    action: tuple[str, ...] | None
    not_action: tuple[str, ...] | None
    resource: tuple[str, ...] | None
    not_resource: tuple[str, ...] | None
    principal: PrincipalSpec | None
    not_principal: PrincipalSpec | None
    conditions: tuple[ConditionSpec, ...]
    raw: Mapping[str, Any]

    @property
    def ref(self) -> str | int:
        """How feedback names the statement: its Sid when it has one, else its index."""
        return self.sid if self.sid else self.index


@dataclass(frozen=True, slots=True)
class Policy:
    """A parsed policy document. `name` is how errors and evidence refer to it (a label, a name or an ARN)."""

    name: str
    version: str | None
    id: str | None
    statements: tuple[Statement, ...]
    document: Mapping[str, Any]

    @property
    def variables_enabled(self) -> bool:
        """Policy variables exist only in language version 2012-10-17; without Version the default is 2008-10-17.

        https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_variables.html
        """
        return self.version == VERSION_2012


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise _DuplicateKey(key)
        out[key] = value
    return out


class _DuplicateKey(ValueError):
    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def load_document(doc: Any, name: str = "policy") -> Mapping[str, Any]:
    """A policy document as a mapping: JSON text is parsed (with line/column on error), mappings pass through."""
    if isinstance(doc, (bytes, bytearray)):
        try:
            doc = doc.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise PolicyError(f"not UTF-8 text ({exc.reason})", policy=name) from None
    if isinstance(doc, str):
        try:
            parsed = json.loads(doc, object_pairs_hook=_no_duplicates)
        except json.JSONDecodeError as exc:
            raise PolicyError(f"invalid JSON: {exc.msg}", policy=name, line=exc.lineno, column=exc.colno) from None
        except _DuplicateKey as exc:
            raise PolicyError(
                f"duplicate key {exc.key!r}", policy=name, hint="Each element may appear once per object."
            ) from None
        except RecursionError:
            raise PolicyError("the document is nested too deeply", policy=name) from None
        doc = parsed
    if not isinstance(doc, Mapping):
        raise PolicyError(f"a policy document must be a JSON object, not {_type_name(doc)}", policy=name)
    return doc


def parse_policy(doc: Any, name: str = "policy") -> Policy:
    """Parse a policy given as a dict, JSON text or an already parsed Policy (returned renamed if needed)."""
    if isinstance(doc, Policy):
        return doc
    document = load_document(doc, name)
    for key in document:
        if key not in _DOC_KEYS:
            raise PolicyError(_unknown(key, _DOC_KEYS, "top-level element"), policy=name, path=str(key))
    version = document.get("Version")
    if version is not None and version not in (VERSION_2012, VERSION_2008):
        raise PolicyError(
            f"Version must be {VERSION_2012!r} or {VERSION_2008!r}, got {version!r}", policy=name, path="Version"
        )
    pid = document.get("Id")
    if pid is not None and not isinstance(pid, str):
        raise PolicyError(f"Id must be a string, not {_type_name(pid)}", policy=name, path="Id")
    if "Statement" not in document:
        raise PolicyError("the policy has no Statement element", policy=name)
    raw_statements = document["Statement"]
    if isinstance(raw_statements, Mapping):
        items: Sequence[Any] = [raw_statements]
        single = True
    elif isinstance(raw_statements, list):
        items = raw_statements
        single = False
    else:
        raise PolicyError(
            f"Statement must be an object or a list of objects, not {_type_name(raw_statements)}",
            policy=name,
            path="Statement",
        )
    statements = tuple(
        _parse_statement(item, i, name, "Statement" if single else f"Statement[{i}]") for i, item in enumerate(items)
    )
    return Policy(name=name, version=version, id=pid, statements=statements, document=document)


def _parse_statement(raw: Any, index: int, name: str, path: str) -> Statement:
    if not isinstance(raw, Mapping):
        raise PolicyError(f"a statement must be an object, not {_type_name(raw)}", policy=name, path=path)
    for key in raw:
        if key not in _STATEMENT_KEYS:
            raise PolicyError(_unknown(key, _STATEMENT_KEYS, "statement element"), policy=name, path=f"{path}.{key}")
    sid = raw.get("Sid")
    if sid is not None and not isinstance(sid, str):
        raise PolicyError(f"Sid must be a string, not {_type_name(sid)}", policy=name, path=f"{path}.Sid")
    effect = raw.get("Effect")
    if effect not in ("Allow", "Deny"):
        problem = "Effect is missing" if effect is None else f"Effect must be \"Allow\" or \"Deny\", got {effect!r}"
        raise PolicyError(problem, policy=name, path=f"{path}.Effect")
    for a, b in (("Action", "NotAction"), ("Resource", "NotResource"), ("Principal", "NotPrincipal")):
        if a in raw and b in raw:
            raise PolicyError(f"a statement may have {a} or {b}, not both", policy=name, path=path)
    if "Action" not in raw and "NotAction" not in raw:
        raise PolicyError("the statement has neither Action nor NotAction", policy=name, path=path)
    action = _actions(raw, "Action", name, path)
    not_action = _actions(raw, "NotAction", name, path)
    resource = _strings(raw, "Resource", name, path)
    not_resource = _strings(raw, "NotResource", name, path)
    principal = _principal(raw, "Principal", name, path)
    not_principal = _principal(raw, "NotPrincipal", name, path)
    conditions = _conditions(raw.get("Condition"), name, f"{path}.Condition") if "Condition" in raw else ()
    return Statement(
        index=index,
        sid=sid or None,
        effect=effect,
        action=action,
        not_action=not_action,
        resource=resource,
        not_resource=not_resource,
        principal=principal,
        not_principal=not_principal,
        conditions=conditions,
        raw=raw,
    )


def _strings(raw: Mapping[str, Any], key: str, name: str, path: str) -> tuple[str, ...] | None:
    if key not in raw:
        return None
    value = raw[key]
    where = f"{path}.{key}"
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list):
        if not value:
            raise PolicyError(f"{key} must not be an empty list", policy=name, path=where)
        for i, item in enumerate(value):
            if not isinstance(item, str):
                raise PolicyError(
                    f"{key} entries must be strings, not {_type_name(item)}", policy=name, path=f"{where}[{i}]"
                )
        return tuple(value)
    raise PolicyError(f"{key} must be a string or a list of strings, not {_type_name(value)}", policy=name, path=where)


def _actions(raw: Mapping[str, Any], key: str, name: str, path: str) -> tuple[str, ...] | None:
    values = _strings(raw, key, name, path)
    if values is None:
        return None
    for i, value in enumerate(values):
        if value != "*" and ":" not in value:
            where = f"{path}.{key}" if len(values) == 1 and isinstance(raw[key], str) else f"{path}.{key}[{i}]"
            raise PolicyError(
                f"action {value!r} has no service prefix (expected service:Action, e.g. s3:GetObject)",
                policy=name,
                path=where,
            )
    return values


def _principal(raw: Mapping[str, Any], key: str, name: str, path: str) -> PrincipalSpec | None:
    if key not in raw:
        return None
    value = raw[key]
    where = f"{path}.{key}"
    if value == "*":
        return PrincipalSpec(star=True)
    if isinstance(value, str):
        # Not in the grammar, but AWS stores a bare ARN string as {"AWS": ARN}; read it that way.
        value = {"AWS": value}
    if not isinstance(value, Mapping):
        raise PolicyError(
            f'{key} must be "*" or an object such as {{"AWS": "arn:..."}}, not {_type_name(value)}',
            policy=name,
            path=where,
        )
    if not value:
        raise PolicyError(f"{key} names no principal", policy=name, path=where)
    groups: dict[str, tuple[str, ...]] = {}
    for ptype in value:
        if ptype not in _PRINCIPAL_KEYS:
            raise PolicyError(_unknown(ptype, _PRINCIPAL_KEYS, "principal type"), policy=name, path=f"{where}.{ptype}")
        values = _strings(value, ptype, name, where)
        assert values is not None
        groups[ptype] = values
    aws = groups.get("AWS", ())
    return PrincipalSpec(
        star="*" in aws,
        aws=tuple(v for v in aws if v != "*"),
        service=groups.get("Service", ()),
        federated=groups.get("Federated", ()),
        canonical_user=groups.get("CanonicalUser", ()),
    )


def split_operator(operator: str) -> tuple[str | None, str, bool] | None:
    """("ForAnyValue", "StringLike", True) for "ForAnyValue:StringLikeIfExists"; None for an unknown operator."""
    set_op: str | None = None
    base = operator
    if ":" in operator:
        prefix, _, base = operator.partition(":")
        set_op = _SET_OPERATORS.get(prefix.lower())
        if set_op is None:
            return None
    lower = base.lower()
    if lower in BASE_OPERATORS:
        return set_op, BASE_OPERATORS[lower], False
    if lower.endswith("ifexists") and lower[: -len("ifexists")] in BASE_OPERATORS:
        canonical = BASE_OPERATORS[lower[: -len("ifexists")]]
        if canonical == "Null":
            return None
        return set_op, canonical, True
    return None


def _condition_value(value: Any, name: str, where: str) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            raise PolicyError("condition values must be finite numbers", policy=name, path=where)
        return json.dumps(value)
    raise PolicyError(
        f"condition values must be strings, numbers or booleans, not {_type_name(value)}", policy=name, path=where
    )


def _conditions(block: Any, name: str, path: str) -> tuple[ConditionSpec, ...]:
    if not isinstance(block, Mapping):
        raise PolicyError(
            f"Condition must be an object {{operator: {{key: value}}}}, not {_type_name(block)}", policy=name, path=path
        )
    out: list[ConditionSpec] = []
    for operator, pairs in block.items():
        where = f"{path}.{operator}"
        parts = split_operator(str(operator))
        if parts is None:
            raise PolicyError(
                f"unknown condition operator {operator!r}",
                policy=name,
                path=where,
                hint="Operators: https://docs.aws.amazon.com/IAM/latest/UserGuide/"
                "reference_policies_elements_condition_operators.html",
            )
        set_op, base, if_exists = parts
        if not isinstance(pairs, Mapping):
            raise PolicyError(
                f"{operator} must map condition keys to values, not {_type_name(pairs)}", policy=name, path=where
            )
        if not pairs:
            raise PolicyError(f"{operator} has no condition key", policy=name, path=where)
        for key, raw_values in pairs.items():
            kwhere = f"{where}.{key}"
            if not key:
                raise PolicyError("a condition key must not be empty", policy=name, path=kwhere)
            if isinstance(raw_values, list):
                if not raw_values:
                    raise PolicyError("a condition key needs at least one value", policy=name, path=kwhere)
                values = tuple(_condition_value(v, name, f"{kwhere}[{i}]") for i, v in enumerate(raw_values))
            else:
                values = (_condition_value(raw_values, name, kwhere),)
            if base == "Null":
                for v in values:
                    if v.lower() not in ("true", "false"):
                        raise PolicyError(f"Null takes true or false, got {v!r}", policy=name, path=kwhere)
            out.append(
                ConditionSpec(
                    operator=str(operator),
                    base=base,
                    set_operator=set_op,
                    if_exists=if_exists,
                    key=str(key),
                    values=values,
                )
            )
    return tuple(out)


def _unknown(key: Any, allowed: Sequence[str], what: str) -> str:
    text = f"unknown {what} {key!r}"
    for a in allowed:
        if isinstance(key, str) and key.lower() == a.lower() and key != a:
            return f"{text}: element names are case-sensitive, did you mean {a!r}?"
    return f"{text} (allowed: {', '.join(allowed)})"


def _type_name(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, Mapping):
        return "an object"
    if isinstance(value, (list, tuple)):
        return "a list"
    return type(value).__name__
