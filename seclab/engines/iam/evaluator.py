"""The authorization decision, as the IAM User Guide documents it.

Sources (the conformance cases in tests/iam/cases cite the page for each rule):
- reference_policies_evaluation-logic.html: explicit deny first; SCPs; resource-based policies and the
  same-account table by principal kind; identity-based policies; boundaries; session policies.
- reference_policies_evaluation-logic-cross-account.html: both the trusted and the trusting account must allow.
- access_policies.html#policies_session, access_policies_boundaries.html: how session policies and boundaries
  limit (or do not limit) resource-policy grants.
- KMS key policies and role trust policies must themselves allow (key-policies.html, id_roles.html).
- Organizations: SCPs bind principals of member accounts (not the management account, not service-linked
  roles); RCPs bind resources of member accounts.

The request context is authoritative: nothing is inferred here (see context.py for the explicit inference layer).
Decisions are "allow", "explicit_deny" or "implicit_deny" plus `decided_by`, the statements (or missing allows)
that decided, so feedback can say "your SCP denies" rather than "access denied".

Documented choices where AWS leaves room (docs/iam-engine notes in the module docstrings):
- `management_account` on PolicySet: when the caller's account is the organization's management account, SCPs are
  skipped; when the resource's account is, RCPs are skipped. Service-linked roles (role path aws-service-role/ or a
  session of an AWSServiceRoleFor* role) skip both.
- `resource_policy_required`: None = detect (kms:* on a key ARN, sts:* on a role ARN); True/False overrides.
- `endpoint`: VPC endpoint policies, a further gate that must allow when the request goes through an endpoint.
- A role ARN used as the caller is treated as a session of that role (its grants by role ARN are limited by the
  boundary and session policy).
- `Principal: "*"` in a same-account resource policy is a direct grant (IAM User Guide, Principal element: "For
  IAM users and role principals within your account, no other permissions are required").
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Union

from seclab.engines.iam.compiled import CompiledGroup, CompiledStatement, Grant, PolicyKind
from seclab.engines.iam.errors import PolicyError, RequestError
from seclab.engines.iam.policy import Policy, parse_policy
from seclab.engines.iam.principals import Caller, PrincipalKind, parse_caller

PolicyInput = Union[Mapping[str, Any], str, Policy]
ContextValue = Union[str, list[str]]

ALLOW = "allow"
EXPLICIT_DENY = "explicit_deny"
IMPLICIT_DENY = "implicit_deny"

_KMS_KEY_RE = re.compile(r"^arn:[^:]+:kms:[^:]*:[^:]*:key/")
_ROLE_RE = re.compile(r"^arn:[^:]+:iam::[^:]*:role/")
_KIND_TEXT = {
    "identity": "identity-based policy",
    "resource": "resource-based policy",
    "scp": "service control policy (SCP)",
    "rcp": "resource control policy (RCP)",
    "boundary": "permissions boundary",
    "session": "session policy",
    "endpoint": "VPC endpoint policy",
}


@dataclass(frozen=True, slots=True)
class Request:
    """One authorization question. `context` keys are case-insensitive; values are strings or lists of strings."""

    principal_arn: str
    principal_account: str | None
    action: str
    resource: str
    resource_account: str | None = None
    context: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class PolicySet:
    """Every policy that applies to a request, by type. Policies are dicts, JSON text or parsed `Policy` objects.

    scp / rcp: one inner list per organization level, root -> OUs -> account; every level must allow.
    `resource` holds the resource-based policy (bucket, key, trust, repository policy); for KMS keys and role
    trust an empty list means "the key/trust policy grants nothing". Treat a PolicySet as immutable: it compiles
    its policies once, on first use.
    """

    identity: Sequence[PolicyInput] = ()
    resource: Sequence[PolicyInput] = ()
    scp: Sequence[Sequence[PolicyInput]] = ()
    rcp: Sequence[Sequence[PolicyInput]] = ()
    boundary: Sequence[PolicyInput] = ()
    session: Sequence[PolicyInput] = ()
    endpoint: Sequence[PolicyInput] = ()
    management_account: str | None = None
    resource_policy_required: bool | None = None

    def __post_init__(self) -> None:
        for name in ("identity", "resource", "boundary", "session", "endpoint"):
            value = getattr(self, name)
            if value.__class__ is tuple:
                continue
            if isinstance(value, (str, Mapping, Policy)):
                raise PolicyError(f"{name} must be a list of policies, not a single policy", policy=name)
            object.__setattr__(self, name, tuple(value))
        for name in ("scp", "rcp"):
            levels = getattr(self, name)
            if isinstance(levels, (str, Mapping, Policy)):
                raise PolicyError(f"{name} must be a list of levels, each a list of policies", policy=name)
            out = []
            for i, level in enumerate(levels):
                if isinstance(level, (str, Mapping, Policy)):
                    raise PolicyError(
                        f"{name}[{i}] must be a list of policies (one list per organization level)", policy=name
                    )
                out.append(tuple(level))
            object.__setattr__(self, name, tuple(out))

    def with_resource(self, resource: Sequence[PolicyInput] = (),
                      rcp: Sequence[Sequence[PolicyInput]] | None = None) -> PolicySet:
        """The same principal side with another resource side (resource-based policy and, if given, RCP levels).

        The principal side's compiled policies are reused, so evaluating one principal against many resources (the
        who-can-reach graph, least-privilege probes) compiles each policy once.
        """
        if isinstance(resource, (str, Mapping, Policy)):
            raise PolicyError("resource must be a list of policies, not a single policy", policy="resource")
        levels = self.rcp if rcp is None else tuple(tuple(level) for level in rcp)
        new = object.__new__(PolicySet)
        fields = dict(self.__dict__)
        fields.pop("_compiled", None)
        fields["resource"] = tuple(resource)
        fields["rcp"] = levels
        new.__dict__.update(fields)
        base = self.compiled()
        cp = object.__new__(CompiledPolicySet)
        for slot in ("identity", "boundary", "session", "endpoint", "scp", "management_account",
                     "resource_policy_required"):
            setattr(cp, slot, getattr(base, slot))
        cp.resource = _group("resource", "resource", fields["resource"])
        cp.rcp = tuple(_group("rcp", f"rcp[{i}]", level) for i, level in enumerate(levels))
        cp._groups = {}
        new.__dict__["_compiled"] = cp
        return new

    def compiled(self) -> CompiledPolicySet:
        cached: CompiledPolicySet | None = self.__dict__.get("_compiled")
        if cached is None:
            cached = CompiledPolicySet(self)
            object.__setattr__(self, "_compiled", cached)
        return cached

    def validate(self) -> None:
        """Parse and compile every policy now, raising PolicyError for the first bad one."""
        self.compiled()


_GROUP_CACHE: dict[tuple[Any, ...], tuple[tuple[PolicyInput, ...], CompiledGroup]] = {}
_GROUP_CACHE_LIMIT = 4096


def _group(kind: PolicyKind, label: str, docs: Sequence[PolicyInput]) -> CompiledGroup:
    """Compile a group, reusing an earlier compilation when every input is immutable (parsed Policy objects or
    JSON text). Graph building evaluates thousands of PolicySets that share the same identity policies; dicts
    are never cached because they can be mutated in place."""
    key: tuple[Any, ...] | None = (kind, label)
    for d in docs:
        if isinstance(d, Policy):
            key = key + (("p", id(d)),) if key is not None else None
        elif isinstance(d, str):
            key = key + (("s", d),) if key is not None else None
        else:
            key = None
            break
    if key is not None:
        hit = _GROUP_CACHE.get(key)
        if hit is not None:
            return hit[1]
    group = CompiledGroup(label, kind, _parse_all(kind, label, docs))
    if key is not None:
        if len(_GROUP_CACHE) >= _GROUP_CACHE_LIMIT:
            _GROUP_CACHE.clear()
        _GROUP_CACHE[key] = (tuple(docs), group)  # holding the inputs keeps their ids unique while cached
    return group


def _parse_all(kind: PolicyKind, label: str, docs: Sequence[PolicyInput]) -> list[tuple[str, Policy]]:
    out = []
    for i, doc in enumerate(docs):
        plabel = f"{label}[{i}]"
        try:
            policy = parse_policy(doc, name=plabel)
        except PolicyError as exc:
            raise (exc.renamed(plabel) if exc.policy != plabel else exc) from None
        out.append((plabel, policy))
    return out


class CompiledPolicySet:
    __slots__ = ("identity", "resource", "boundary", "session", "endpoint", "scp", "rcp", "management_account",
                 "resource_policy_required", "_groups")

    def __init__(self, ps: PolicySet) -> None:
        self.identity = _group("identity", "identity", ps.identity)
        self.resource = _group("resource", "resource", ps.resource)
        self.boundary = _group("boundary", "boundary", ps.boundary)
        self.session = _group("session", "session", ps.session)
        self.endpoint = _group("endpoint", "endpoint", ps.endpoint)
        self.scp = tuple(_group("scp", f"scp[{i}]", level) for i, level in enumerate(ps.scp))
        self.rcp = tuple(_group("rcp", f"rcp[{i}]", level) for i, level in enumerate(ps.rcp))
        self.management_account = ps.management_account
        self.resource_policy_required = ps.resource_policy_required
        self._groups: dict[tuple[bool, bool, bool], tuple[CompiledGroup, ...]] = {}

    def groups(self, iam_caller: bool, scp: bool, rcp: bool) -> tuple[CompiledGroup, ...]:
        """The groups whose Deny statements apply to a caller of this kind, in a fixed order."""
        key = (iam_caller, scp, rcp)
        hit = self._groups.get(key)
        if hit is None:
            out = [self.resource]
            if iam_caller:
                out += [self.identity, self.boundary, self.session]
            if not self.endpoint.empty:
                out.append(self.endpoint)
            if scp:
                out += self.scp
            if rcp:
                out += self.rcp
            hit = self._groups[key] = tuple(out)
        return hit


@dataclass(frozen=True, slots=True)
class Decision:
    decision: str  # "allow" | "explicit_deny" | "implicit_deny"
    decided_by: list[dict[str, Any]]

    @property
    def allowed(self) -> bool:
        return self.decision == ALLOW

    def to_dict(self) -> dict[str, Any]:
        return {"decision": self.decision, "decided_by": self.decided_by}

    def summary(self) -> str:
        """One line for a learner: the decision and the first reason."""
        if not self.decided_by:
            return self.decision
        first = self.decided_by[0]
        where = first.get("policy") or ""
        if first.get("statement") is not None:
            where += f" statement {first['statement']}"
        return f"{self.decision}: {first.get('reason', '')}" + (f" ({where})" if where else "")


def normalise_context(context: Mapping[str, Any] | None) -> dict[str, ContextValue]:
    """Lower-case keys; JSON booleans and numbers become their JSON text; None means absent."""
    if not context:
        return {}
    if not isinstance(context, Mapping):
        raise RequestError("context must be an object mapping condition keys to values")
    try:
        out: dict[str, Any] = {key.lower(): value for key, value in context.items()}
    except AttributeError:
        bad = next(k for k in context if not isinstance(k, str))
        raise RequestError(f"context key {bad!r} is not a string") from None
    for value in out.values():
        if value.__class__ is not str:
            break
    else:
        return out  # the common case: every value is already a string
    fixed: dict[str, ContextValue] = {}
    for key, value in out.items():
        if value is None:
            continue
        if isinstance(value, (list, tuple)):
            fixed[key] = [_scalar(key, v) for v in value]
        else:
            fixed[key] = _scalar(key, value)
    return fixed


def _scalar(key: str, value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, (int, float)):
        return str(value)
    raise RequestError(f"context value for {key} must be a string, number, boolean or a list of them")


def resource_policy_required(action_lower: str, resource: str) -> bool:
    """KMS key policies and role trust policies must themselves allow (IAM evaluation logic, resource-based
    policies: "IAM role trust policies and KMS key policies are exceptions to this logic")."""
    if action_lower.startswith("kms:"):
        return _KMS_KEY_RE.match(resource) is not None
    if action_lower.startswith("sts:"):
        return _ROLE_RE.match(resource) is not None
    return False


def _entry(s: CompiledStatement, reason: str) -> dict[str, Any]:
    e: dict[str, Any] = {"policy": s.label, "statement": s.ref, "effect": "Allow" if s.allow else "Deny",
                         "reason": reason}
    if s.name != s.label:
        e["name"] = s.name
    return e


def _gap(policy: str, reason: str) -> dict[str, Any]:
    return {"policy": policy, "statement": None, "effect": None, "reason": reason}


def evaluate(request: Request, policies: PolicySet) -> Decision:
    """Decide `request` against `policies` exactly as AWS documents it (see the module docstring)."""
    cp = policies.__dict__.get("_compiled") or policies.compiled()
    ctx = normalise_context(request.context)
    pa = ctx.get("aws:principalarn") if ctx else None
    caller = parse_caller(request.principal_arn, request.principal_account or None,
                          pa if pa.__class__ is str else None)
    action = request.action
    if action.__class__ is not str or ":" not in action or action[0] == ":":
        raise RequestError(f"action {action!r} is not service:Action (e.g. s3:GetObject)")
    resource = request.resource
    if resource.__class__ is not str or not resource:
        raise RequestError("the request has no resource (use '*' for actions without a resource)")
    action_l = action.lower()

    if action_l == "sts:getcalleridentity":
        return Decision(ALLOW, [_gap("", "sts:GetCallerIdentity needs no permission and cannot be denied "
                                         "(STS API reference)")])

    res_account = request.resource_account or caller.account
    mgmt = cp.management_account
    iam_caller = caller.has_identity_policies
    # SCPs bind the IAM principals and the root user of member accounts; services, identity providers and
    # anonymous callers have no account whose SCPs could apply.
    scp_applies = (bool(cp.scp) and (iam_caller or caller.kind is PrincipalKind.ROOT) and not caller.service_linked
                   and caller.account != mgmt)
    rcp_applies = bool(cp.rcp) and not caller.service_linked and res_account != mgmt
    has_boundary = iam_caller and not cp.boundary.empty
    has_session = iam_caller and not cp.session.empty
    groups = cp.groups(iam_caller, scp_applies, rcp_applies)

    # 1. Explicit deny anywhere wins.
    denied: list[dict[str, Any]] = []
    for g in groups:
        for s in g.candidates(action_l)[0]:
            if s.match(resource, ctx, caller, has_boundary) is not None:
                denied.append(_entry(s, f"explicit Deny in the {_KIND_TEXT[g.kind]} matches {action} on {resource}"))
    if denied:
        return Decision(EXPLICIT_DENY, denied)
    if caller.kind is PrincipalKind.ROOT and action_l.startswith("sts:assumerole"):
        return Decision(IMPLICIT_DENY, [_gap("identity", "the account root user cannot assume a role (STS "
                                                         "AssumeRole must be called by an IAM user or role)")])
    protected = _protected(action_l, resource) if action_l in _PROTECTED_ACTIONS else None
    if protected:
        return Decision(IMPLICIT_DENY, [_gap("", protected)])

    what = f"{action} on {resource}"

    def first_allow(g: CompiledGroup) -> CompiledStatement | None:
        for s in g.candidates(action_l)[1]:
            if s.match(resource, ctx, caller, has_boundary) is not None:
                return s
        return None

    allowed_by: list[dict[str, Any]] = []
    blocked: list[dict[str, Any]] = []

    # 2-3. Organization guardrails: every RCP level (resource's account) and SCP level (caller's account).
    if rcp_applies:
        for g in cp.rcp:
            s = first_allow(g)
            if s is None:
                blocked.append(_gap(g.label, f"no statement in RCP level {g.label[4:-1]} allows {what}"))
            else:
                allowed_by.append(_entry(s, f"RCP level {g.label[4:-1]} allows {action}"))
    if scp_applies:
        for g in cp.scp:
            s = first_allow(g)
            if s is None:
                blocked.append(_gap(g.label, f"no statement in SCP level {g.label[4:-1]} allows {action}"))
            else:
                allowed_by.append(_entry(s, f"SCP level {g.label[4:-1]} allows {action}"))
    if not cp.endpoint.empty:
        s = first_allow(cp.endpoint)
        if s is None:
            blocked.append(_gap("endpoint", f"the VPC endpoint policy does not allow {what}"))
        else:
            allowed_by.append(_entry(s, f"the VPC endpoint policy allows {action}"))

    # 4. Resource-based policy: the best grant among matching Allow statements.
    grant: Grant | None = None
    grant_stmt: CompiledStatement | None = None
    for s in cp.resource.candidates(action_l)[1]:
        g = s.match(resource, ctx, caller, has_boundary)
        if g is None:
            continue
        if grant is None or _RANK[g] < _RANK[grant]:
            grant, grant_stmt = g, s
            if g == "direct":
                break

    # 5-7. Identity side: identity policies, then the boundary and the session policy that limit them.
    if caller.kind is PrincipalKind.ROOT:
        identity_stmt = None
        identity_ok = True
    elif iam_caller:
        identity_stmt = first_allow(cp.identity)
        identity_ok = identity_stmt is not None
    else:
        identity_stmt = None
        identity_ok = False
    boundary_stmt = first_allow(cp.boundary) if has_boundary else None
    boundary_ok = not has_boundary or boundary_stmt is not None
    session_stmt = first_allow(cp.session) if has_session else None
    session_ok = session_stmt is not None if has_session else caller.kind is not PrincipalKind.FEDERATED_USER

    required = cp.resource_policy_required
    if required is None:
        required = resource_policy_required(action_l, resource)
    same_account = caller.has_identity_policies or caller.kind is PrincipalKind.ROOT
    same_account = same_account and res_account == caller.account

    limits_ok = boundary_ok and session_ok
    identity_path = identity_ok and limits_ok
    if not caller.has_identity_policies and caller.kind is not PrincipalKind.ROOT:
        # Services, web-identity/SAML providers and anonymous callers hold no identity policies: only a
        # resource-based policy naming them (or "*") can allow.
        ok = grant == "direct"
        side: list[dict[str, Any]] = []
        if ok:
            assert grant_stmt is not None
            side.append(_entry(grant_stmt, f"the resource-based policy grants {caller.short()} {action}"))
        else:
            blocked.append(_gap("resource", f"no resource-based policy statement grants {caller.short()} {what}"))
    elif same_account:
        side = []
        if grant == "direct":
            assert grant_stmt is not None
            ok = True
            side.append(_entry(grant_stmt, f"the resource-based policy names the caller itself and grants {action}"
                                           " (not limited by identity policies, boundaries or session policies)"))
        elif grant == "role" and limits_ok:
            assert grant_stmt is not None
            ok = True
            side.append(_entry(grant_stmt, f"the resource-based policy grants the caller's role {action}"))
        elif identity_path and (not required or grant is not None):
            ok = True
            if caller.kind is PrincipalKind.ROOT:
                side.append(_gap("identity", "the account root user has full access to its own account"))
            else:
                assert identity_stmt is not None
                side.append(_entry(identity_stmt, f"the identity-based policy allows {action}"))
            if grant is not None and grant_stmt is not None:
                side.append(_entry(grant_stmt, f"the {_resource_text(action_l, resource)} allows the caller's account"))
        else:
            ok = False
            if required and grant is None:
                blocked.append(_gap("resource", _required_text(action_l, resource)))
            if not identity_ok and grant is None:
                if caller.kind is not PrincipalKind.ROOT:
                    blocked.append(_gap("identity", f"no identity-based or resource-based policy allows {what}"))
            elif grant == "account" and not identity_ok:
                blocked.append(_gap("identity", f"no identity-based policy allows {what} (the resource-based policy "
                                                "grants the account, which delegates to IAM policies)"))
            if (identity_ok or grant == "role") and not boundary_ok:
                blocked.append(_gap("boundary", f"the permissions boundary does not allow {what}"))
            if (identity_ok or grant == "role") and not session_ok:
                blocked.append(_session_gap(caller, cp.session.empty, what))
        if ok:
            if boundary_stmt is not None and grant != "direct":
                side.append(_entry(boundary_stmt, f"the permissions boundary allows {action}"))
            if session_stmt is not None and grant != "direct":
                side.append(_entry(session_stmt, f"the session policy allows {action}"))
    else:
        # Cross-account: the trusted account (identity side) and the trusting account (resource side) must both
        # allow; no grant in the resource policy is "direct" enough to skip the caller's own policies.
        side = []
        ok = identity_path and grant is not None
        if not identity_ok:
            if caller.kind is not PrincipalKind.ROOT:
                blocked.append(_gap("identity", f"no identity-based policy in the caller's account "
                                                f"{caller.account} allows {what} (cross-account access needs both "
                                                "sides)"))
        else:
            if not boundary_ok:
                blocked.append(_gap("boundary", f"the permissions boundary does not allow {what}"))
            if not session_ok:
                blocked.append(_session_gap(caller, cp.session.empty, what))
        if grant is None:
            blocked.append(_gap("resource", _cross_text(action_l, resource, res_account)))
        if ok:
            assert grant_stmt is not None
            if caller.kind is PrincipalKind.ROOT:
                side.append(_gap("identity", "the account root user has full access from its own account"))
            else:
                assert identity_stmt is not None
                side.append(_entry(identity_stmt, f"the identity-based policy allows {action}"))
            if boundary_stmt is not None:
                side.append(_entry(boundary_stmt, f"the permissions boundary allows {action}"))
            if session_stmt is not None:
                side.append(_entry(session_stmt, f"the session policy allows {action}"))
            side.append(_entry(grant_stmt, f"the {_resource_text(action_l, resource)} in account {res_account} "
                                           f"grants the caller {action}"))

    if blocked:
        return Decision(IMPLICIT_DENY, blocked)
    if not ok:  # pragma: no cover - every failing branch above records why
        return Decision(IMPLICIT_DENY, [_gap("", f"nothing allows {what}")])
    return Decision(ALLOW, side + allowed_by)


_RANK = {"direct": 0, "role": 1, "account": 2}

# Resources AWS manages and no customer policy can change (AWS managed policies, Identity Center roles, the
# aws/ alias namespace). Read and list actions on them stay governed by policies.
_AWS_MANAGED_POLICY_RE = re.compile(r"^arn:[^:]+:iam::aws:policy/")
_RESERVED_ROLE_RE = re.compile(r"^arn:[^:]+:iam::\d{12}:role/aws-reserved/")
_AWS_ALIAS_RE = re.compile(r"^arn:[^:]+:kms:[^:]*:[^:]*:alias/aws/")
_POLICY_WRITES = frozenset(
    "iam:" + a.lower() for a in ("CreatePolicy", "CreatePolicyVersion", "DeletePolicy", "DeletePolicyVersion",
                                 "SetDefaultPolicyVersion", "TagPolicy", "UntagPolicy"))
_ROLE_WRITES = frozenset(
    "iam:" + a.lower() for a in ("AttachRolePolicy", "CreateRole", "CreateServiceLinkedRole", "DeleteRole",
                                 "DeleteRolePermissionsBoundary", "DeleteRolePolicy", "DeleteServiceLinkedRole",
                                 "DetachRolePolicy", "PassRole", "PutRolePermissionsBoundary", "PutRolePolicy",
                                 "TagRole", "UntagRole", "UpdateAssumeRolePolicy", "UpdateRole",
                                 "UpdateRoleDescription"))
_ALIAS_WRITES = frozenset({"kms:createalias", "kms:deletealias", "kms:updatealias"})


_PROTECTED_ACTIONS = _POLICY_WRITES | _ROLE_WRITES | _ALIAS_WRITES


def _protected(action_lower: str, resource: str) -> str | None:
    if action_lower not in _PROTECTED_ACTIONS:
        return None
    if action_lower in _POLICY_WRITES and _AWS_MANAGED_POLICY_RE.match(resource):
        return "AWS managed policies cannot be changed by any account (IAM User Guide, AWS managed policies)"
    if action_lower in _ROLE_WRITES and _RESERVED_ROLE_RE.match(resource):
        return ("roles under /aws-reserved/ are managed by IAM Identity Center and cannot be changed or passed "
                "(IAM Identity Center User Guide, permission sets)")
    if action_lower in _ALIAS_WRITES and _AWS_ALIAS_RE.match(resource):
        return "alias names beginning with aws/ are reserved for AWS managed keys (KMS Developer Guide, aliases)"
    return None


def _session_gap(caller: Caller, no_session_policy: bool, what: str) -> dict[str, Any]:
    if caller.kind is PrincipalKind.FEDERATED_USER and no_session_policy:
        return _gap("session", "a federated user session (GetFederationToken) without a session policy has no "
                               "permissions of its own")
    return _gap("session", f"the session policy does not allow {what}")


def _resource_text(action_lower: str, resource: str) -> str:
    if action_lower.startswith("kms:") and _KMS_KEY_RE.match(resource):
        return "key policy"
    if action_lower.startswith("sts:") and _ROLE_RE.match(resource):
        return "role trust policy"
    return "resource-based policy"


def _required_text(action_lower: str, resource: str) -> str:
    if action_lower.startswith("kms:"):
        return ("the KMS key policy does not allow this principal: a key policy must allow, directly or through "
                "the account root, before IAM policies count")
    if action_lower.startswith("sts:"):
        return "the role trust policy does not allow this principal to assume the role"
    return "the resource-based policy, which must allow for this resource, does not allow this principal"


def _cross_text(action_lower: str, resource: str, account: str | None) -> str:
    return (f"the {_resource_text(action_lower, resource)} in account {account} does not grant this principal "
            "(cross-account access needs both sides to allow)")
