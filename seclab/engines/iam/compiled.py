"""Statements compiled for fast matching, and groups of them (all identity policies, one SCP level, ...).

Why: a decision touches every statement of every policy that applies; compiling Action/Resource lists into
set/prefix/regex matchers and conditions into closures once per PolicySet, and caching which statements name an
action, keeps a decision in the tens of microseconds (benchmarks/bench_iam.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from seclab.engines.iam.conditions import CompiledCondition, Context
from seclab.engines.iam.errors import PolicyError
from seclab.engines.iam.patterns import GlobSet, Template, has_variables, parse_template
from seclab.engines.iam.policy import Policy, PrincipalSpec, Statement
from seclab.engines.iam.principals import Caller, PrincipalKind, normalise_aws_principal

PolicyKind = Literal["identity", "resource", "scp", "rcp", "boundary", "session", "endpoint"]
Grant = Literal["direct", "role", "account"]

_CACHE_LIMIT = 4096
_BY_CALLER = object()  # sentinel: the grant depends on who is calling


class CompiledPrincipal:
    """A Principal/NotPrincipal element in comparable form."""

    __slots__ = ("star", "aws", "service", "federated", "canonical")

    def __init__(self, spec: PrincipalSpec) -> None:
        self.star = spec.star
        self.aws = frozenset(normalise_aws_principal(v) for v in spec.aws)
        self.service = frozenset(v.lower() for v in spec.service)
        self.federated = frozenset(v for v in spec.federated) | frozenset(v.lower() for v in spec.federated)
        self.canonical = frozenset(spec.canonical_user)

    def grant(self, caller: Caller) -> Grant | None:
        """How this element names the caller: directly, through its role, through its account, or not at all."""
        if self.star:
            return "direct"
        kind = caller.kind
        aws = self.aws
        if kind is PrincipalKind.ROLE_SESSION:
            if caller.arn in aws:
                return "direct"
            if caller.role_arn in aws:
                return "role"
        elif kind is PrincipalKind.USER:
            if caller.arn in aws:
                return "direct"
        elif kind is PrincipalKind.ROLE:
            if caller.arn in aws:
                return "role"
        elif kind is PrincipalKind.FEDERATED_USER:
            if caller.arn in aws:
                return "direct"
            if caller.federating_user_arn in aws:
                return "role"
        elif kind is PrincipalKind.SERVICE:
            name = caller.arn.lower()
            return "direct" if (name in self.service or name in self.federated) else None
        elif kind is PrincipalKind.FEDERATED:
            return "direct" if caller.arn in self.federated else None
        elif kind is PrincipalKind.ANONYMOUS:
            return None
        if caller.layers and caller.layers[0] in aws:
            return "account"
        return None

    def _listed(self, layer: str) -> bool:
        return layer in self.aws or layer in self.service or layer in self.federated

    def grant_not(self, caller: Caller) -> Grant | None:
        """How a NotPrincipal element covers the caller: it applies to every identity it does not list.

        The caller is checked identity by identity, account first, then role, then session (IAM User Guide,
        NotPrincipal: "AWS might validate the account first, then the role, and then the assumed-role user"), so
        a NotPrincipal that lists Bob but not Bob's account still covers Bob through his account. For an Allow the
        strongest unlisted identity says what kind of grant it is.
        """
        if self.star:
            return None
        layers = caller.layers
        if not layers:
            return "direct"  # anonymous callers cannot be listed
        if not self._listed(layers[-1]):
            if caller.kind is PrincipalKind.ROLE:
                return "role"
            if caller.kind is PrincipalKind.ROOT:
                return "account"
            return "direct"
        if caller.kind is PrincipalKind.ROLE_SESSION and not self._listed(layers[1]):
            return "role"
        if caller.layers[0].startswith("acct:") and not self._listed(layers[0]):
            return "account"
        return None


class CompiledStatement:
    __slots__ = (
        "statement",
        "allow",
        "label",
        "name",
        "_actions",
        "_negate_actions",
        "_resources",
        "_resource_templates",
        "_negate_resources",
        "_any_resource",
        "principal",
        "not_principal",
        "conditions",
        "_resource_policy",
        "_fixed_grant",
    )

    def __init__(self, statement: Statement, policy: Policy, label: str, kind: PolicyKind) -> None:
        self.statement = statement
        self.allow = statement.effect == "Allow"
        self.label = label
        self.name = policy.name
        path = f"Statement[{statement.index}]"
        _check_kind(statement, kind, label, path)
        action_list = statement.action if statement.action is not None else statement.not_action
        assert action_list is not None
        self._actions = GlobSet(action_list, ignore_case=True)
        self._negate_actions = statement.action is None
        resources = statement.resource if statement.resource is not None else statement.not_resource
        self._any_resource = resources is None
        variables = policy.variables_enabled
        static = [r for r in resources or () if not (variables and has_variables(r))]
        self._resources = GlobSet(static)
        self._resource_templates: tuple[Template, ...] = tuple(
            parse_template(r) for r in resources or () if variables and has_variables(r)
        )
        self._negate_resources = statement.resource is None and statement.not_resource is not None
        principal = statement.principal
        if principal is None and statement.not_principal is None and kind in ("rcp", "endpoint"):
            principal = PrincipalSpec(star=True)  # RCPs only admit "*"; endpoint policies default to everyone
        self.principal = CompiledPrincipal(principal) if principal is not None else None
        self.not_principal = CompiledPrincipal(statement.not_principal) if statement.not_principal else None
        self._resource_policy = kind == "resource"
        # Statements without Principal/NotPrincipal always or never apply; only the others need the caller.
        if self.principal is None and self.not_principal is None:
            self._fixed_grant: Grant | None | object = None if self._resource_policy else "direct"
        else:
            self._fixed_grant = _BY_CALLER
        self.conditions = tuple(CompiledCondition(c, variables, label, path) for c in statement.conditions)

    @property
    def ref(self) -> str | int:
        return self.statement.ref

    def matches_action(self, action_lower: str) -> bool:
        return self._actions.match(action_lower) != self._negate_actions

    def matches_resource(self, resource: str, ctx: Context) -> bool:
        if self._any_resource:
            return True
        hit = self._resources.match(resource)
        if not hit:
            for t in self._resource_templates:
                rx = t.resolve_regex(ctx)
                if rx is not None and rx.fullmatch(resource):
                    hit = True
                    break
        return hit != self._negate_resources

    def match(self, resource: str, ctx: Context, caller: Caller, has_boundary: bool) -> Grant | None:
        """Resource, principal and conditions in one call (the action was matched by the group's cache):
        how the statement covers the request, or None. The hot path of every decision."""
        if not self._any_resource:
            rs = self._resources
            hit = (
                rs.all
                or resource in rs.exact
                or (bool(rs.prefixes) and resource.startswith(rs.prefixes))
                or (rs.regex is not None and rs.regex.fullmatch(resource) is not None)
            )
            if not hit and self._resource_templates:
                for t in self._resource_templates:
                    rx = t.resolve_regex(ctx)
                    if rx is not None and rx.fullmatch(resource):
                        hit = True
                        break
            if hit == self._negate_resources:
                return None
        g = self._fixed_grant
        if g is _BY_CALLER:
            g = self.applies_to(caller, has_boundary)
        if g is None:
            return None
        for c in self.conditions:
            if not c.evaluate(ctx):
                return None
        return g  # type: ignore[return-value]

    def matches_conditions(self, ctx: Context) -> bool:
        for c in self.conditions:
            if not c.evaluate(ctx):
                return False
        return True

    def applies_to(self, caller: Caller, has_boundary: bool) -> Grant | None:
        """Whether the statement's Principal/NotPrincipal covers the caller (and how, for an Allow).

        Statements without either element (identity policies, SCPs, boundaries, session policies) apply to the
        caller the policy is attached to. In a resource policy such a statement names nobody and never applies.
        """
        if self.principal is not None:
            return self.principal.grant(caller)
        if self.not_principal is not None:
            if not self.allow and has_boundary and caller.has_identity_policies:
                # "The NotPrincipal element with a Deny effect will always deny any IAM principal that has a
                # permissions boundary policy attached" (IAM User Guide, permissions boundaries).
                return "direct"
            return self.not_principal.grant_not(caller)
        return None if self._resource_policy else "direct"

    def describe(self) -> Mapping[str, Any]:
        return self.statement.raw


def _check_kind(statement: Statement, kind: PolicyKind, label: str, path: str) -> None:
    has_principal = statement.principal is not None or statement.not_principal is not None
    if kind in ("identity", "boundary", "session", "scp") and has_principal:
        element = "Principal" if statement.principal is not None else "NotPrincipal"
        what = {"identity": "an identity-based policy", "boundary": "a permissions boundary",
                "session": "a session policy", "scp": "a service control policy"}[kind]
        raise PolicyError(
            f"{element} is not allowed in {what}",
            policy=label,
            path=f"{path}.{element}",
            hint="Principal belongs in resource-based policies (bucket, key, trust policies); an identity policy "
            "applies to the identity it is attached to.",
        )
    if kind in ("identity", "boundary", "session") and statement.resource is None and statement.not_resource is None:
        raise PolicyError(
            "the statement has neither Resource nor NotResource", policy=label, path=path,
            hint='Identity-based policies must say which resources a statement covers (use "*" for all).',
        )


class CompiledGroup:
    """Statements of one or more policies that are evaluated together (e.g. all identity policies, one SCP level).

    `label` names the group in feedback ("identity", "scp[1]"); each statement keeps its policy's own label.
    """

    __slots__ = ("label", "kind", "statements", "empty", "_cache")

    def __init__(self, label: str, kind: PolicyKind, policies: list[tuple[str, Policy]]) -> None:
        self.label = label
        self.kind = kind
        stmts: list[CompiledStatement] = []
        for plabel, policy in policies:
            for s in policy.statements:
                stmts.append(CompiledStatement(s, policy, plabel, kind))
        self.statements = tuple(stmts)
        self.empty = not policies
        self._cache: dict[str, tuple[tuple[CompiledStatement, ...], tuple[CompiledStatement, ...]]] = {}

    def candidates(self, action_lower: str) -> tuple[tuple[CompiledStatement, ...], tuple[CompiledStatement, ...]]:
        """(denies, allows) whose Action/NotAction matches the action; cached per action."""
        hit = self._cache.get(action_lower)
        if hit is None:
            denies: list[CompiledStatement] = []
            allows: list[CompiledStatement] = []
            for s in self.statements:
                if s.matches_action(action_lower):
                    (allows if s.allow else denies).append(s)
            hit = (tuple(denies), tuple(allows))
            if len(self._cache) >= _CACHE_LIMIT:
                self._cache.clear()
            self._cache[action_lower] = hit
        return hit
