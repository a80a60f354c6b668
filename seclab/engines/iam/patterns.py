"""Wildcard patterns (`*`, `?`) and policy variables (`${aws:username}`, `${key, 'default'}`, `${*}`).

Why here and precompiled: matching is the inner loop of every decision (the benchmark target is 50,000 decisions
per second), so each Action/Resource list is compiled once into an exact-set / prefix-tuple / regex matcher, and
regexes for resolved variable patterns are cached by their text.

Semantics (IAM User Guide, "Resource" and "Variables" pages):
- `*` matches any run of characters, including `/` and `:`; `?` matches exactly one character.
- A variable is replaced by the request-context value of its key (keys are case-insensitive). The replaced text is
  literal: a `*` inside a user name does not become a wildcard. `${*}`, `${?}` and `${$}` stand for the literal
  characters. `${key, 'default'}` uses the default when the key is absent.
- A variable whose key is absent and has no default makes the whole pattern match nothing (the docs: "the
  resource that includes a policy variable with no value will not match any resource"; string operators
  "do not match", negated ones therefore do).
- A context key holding a list (a multivalued key) cannot be used as a variable; it counts as absent.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Union

ContextValue = Union[str, list[str]]

_VAR_RE = re.compile(r"\$\{([^}]*)\}")
_VAR_BODY_RE = re.compile(r"^\s*([^,'\s]+)\s*(?:,\s*'([^']*)'\s*)?$")
_SPECIALS = {"*": "*", "?": "?", "$": "$"}


def glob_to_regex(text: str) -> str:
    """Regex source (no anchors) for an IAM wildcard pattern."""
    out: list[str] = []
    for ch in text:
        if ch == "*":
            out.append(".*")
        elif ch == "?":
            out.append(".")
        else:
            out.append(re.escape(ch))
    return "".join(out)


@lru_cache(maxsize=8192)
def compiled_regex(source: str, ignore_case: bool = False) -> re.Pattern[str]:
    return re.compile(source, re.DOTALL | (re.IGNORECASE if ignore_case else 0))


@lru_cache(maxsize=8192)
def glob_regex(pattern: str, ignore_case: bool = False) -> re.Pattern[str]:
    return compiled_regex(glob_to_regex(pattern), ignore_case)


def glob_match(pattern: str, value: str, ignore_case: bool = False) -> bool:
    if pattern == "*":
        return True
    if "*" not in pattern and "?" not in pattern:
        return pattern.lower() == value.lower() if ignore_case else pattern == value
    return glob_regex(pattern, ignore_case).fullmatch(value) is not None


class GlobSet:
    """Matches a string against a list of wildcard patterns with the cheapest test for each pattern."""

    __slots__ = ("all", "exact", "prefixes", "regex", "ignore_case")

    def __init__(self, patterns: Iterable[str], ignore_case: bool = False) -> None:
        self.ignore_case = ignore_case
        self.all = False
        exact: set[str] = set()
        prefixes: list[str] = []
        general: list[str] = []
        for p in patterns:
            if ignore_case:
                p = p.lower()
            if p == "*":
                self.all = True
            elif "*" not in p and "?" not in p:
                exact.add(p)
            elif p.endswith("*") and "*" not in p[:-1] and "?" not in p:
                prefixes.append(p[:-1])
            else:
                general.append(glob_to_regex(p))
        self.exact = frozenset(exact)
        self.prefixes = tuple(prefixes)
        self.regex = compiled_regex("|".join(f"(?:{g})" for g in general)) if general else None

    def match(self, value: str) -> bool:
        """`value` must already be lower-cased when the set ignores case (the caller does it once per request)."""
        if self.all or value in self.exact:
            return True
        if self.prefixes and value.startswith(self.prefixes):
            return True
        return self.regex is not None and self.regex.fullmatch(value) is not None


# --- policy variables -------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Var:
    key: str  # lower-cased
    default: str | None


Token = Union[str, Var]  # a str token is policy text (wildcards keep their meaning); specials are Var-free str


@dataclass(frozen=True, slots=True)
class Template:
    """A policy string containing variables, split into text and variables once at compile time."""

    tokens: tuple[tuple[bool, Token], ...]  # (is_literal, token): literal text never acts as a wildcard
    _regexes: dict[tuple[str | None, ...], re.Pattern[str] | None] = field(default_factory=dict, compare=False)

    def resolve(self, ctx: Mapping[str, ContextValue]) -> list[tuple[bool, str]] | None:
        """[(is_literal, text)] with every variable replaced, or None when a variable has no value."""
        parts: list[tuple[bool, str]] = []
        for literal, tok in self.tokens:
            if isinstance(tok, Var):
                value = ctx.get(tok.key)
                if isinstance(value, list):
                    value = value[0] if len(value) == 1 else None
                if value is None:
                    if tok.default is None:
                        return None
                    value = tok.default
                parts.append((True, value))
            else:
                parts.append((literal, tok))
        return parts

    def resolve_text(self, ctx: Mapping[str, ContextValue]) -> str | None:
        parts = self.resolve(ctx)
        return None if parts is None else "".join(t for _, t in parts)

    def resolve_regex(self, ctx: Mapping[str, ContextValue], ignore_case: bool = False) -> re.Pattern[str] | None:
        key = (str(ignore_case),) + tuple(
            _scalar_or_none(ctx.get(tok.key)) for _, tok in self.tokens if isinstance(tok, Var)
        )
        if key in self._regexes:
            return self._regexes[key]
        parts = self.resolve(ctx)
        rx = None
        if parts is not None:
            source = "".join(re.escape(t) if lit else glob_to_regex(t) for lit, t in parts)
            rx = compiled_regex(source, ignore_case)
        if len(self._regexes) >= 1024:
            self._regexes.clear()
        self._regexes[key] = rx
        return rx


def _scalar_or_none(value: ContextValue | None) -> str | None:
    if isinstance(value, list):
        return value[0] if len(value) == 1 else None
    return value


def has_variables(text: str) -> bool:
    return "${" in text and _VAR_RE.search(text) is not None


def parse_template(text: str) -> Template:
    tokens: list[tuple[bool, Token]] = []
    pos = 0
    for m in _VAR_RE.finditer(text):
        if m.start() > pos:
            tokens.append((False, text[pos : m.start()]))
        body = m.group(1)
        stripped = body.strip()
        if stripped in _SPECIALS:
            tokens.append((True, _SPECIALS[stripped]))
        else:
            vm = _VAR_BODY_RE.match(body)
            if vm is None:
                tokens.append((False, m.group(0)))  # not a variable AWS would recognise: keep the text as written
            else:
                tokens.append((True, Var(vm.group(1).lower(), vm.group(2))))
        pos = m.end()
    if pos < len(text):
        tokens.append((False, text[pos:]))
    return Template(tuple(tokens))
