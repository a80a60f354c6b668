"""Who the encryption engine asks about, and how it asks the IAM evaluator.

Why: a key policy or a bucket policy is judged by its effect on real requests, not by its text (a Deny limited to
GetObject or to one resource reads like a TLS rule and is not one). The engine therefore builds concrete requests
and hands them to `seclab.engines.iam.evaluate`: for the principals the inventory holds (roles and users, with
their own identity policies and permission boundaries) and for a few probes: the account root, an arbitrary
principal in the account whose IAM policies allow everything (does the resource policy delegate to IAM?), a
principal in another account (cross-account reach) and an anonymous caller.

The IAM request-case contract says the context is authoritative (the evaluator infers no keys), so every request
carries the keys AWS itself would supply: aws:PrincipalArn, aws:PrincipalAccount, aws:PrincipalType,
aws:SecureTransport, aws:username for users, principal tags, and kms:CallerAccount for KMS.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from seclab.inventory.model import AccountInventory

ALLOW_ALL: dict[str, Any] = {
    "Version": "2012-10-17",
    "Statement": [{"Sid": "SeclabProbeAllowsEverything", "Effect": "Allow", "Action": "*", "Resource": "*"}],
}
EXTERNAL_ACCOUNTS = ("999999999999", "888888888888", "777777777777")
ANONYMOUS_ARN = "*"


class EvaluationFailed(Exception):
    """The IAM evaluator could not judge a request (malformed policy, engine missing): the caller reports an
    evaluation_error finding, which checks turn into ERROR."""


@dataclass(frozen=True)
class Principal:
    """A caller to evaluate: its ARN, account, kind and the identity-side policies that apply to it."""

    arn: str
    account: str
    kind: str  # "role" | "user" | "root" | "probe_account" | "probe_external" | "anonymous"
    name: str
    identity: tuple[Any, ...] = ()
    boundary: tuple[Any, ...] = ()
    tags: Mapping[str, str] = field(default_factory=dict)

    @property
    def label(self) -> str:
        return {
            "root": f"the account root ({self.account})",
            "probe_account": f"any principal in account {self.account} that IAM allows",
            "probe_external": f"a principal in another account ({self.account})",
            "anonymous": "an anonymous caller",
        }.get(self.kind, self.arn)


def _docs(policies: Iterable[Mapping[str, Any]], key: str) -> list[Any]:
    return [p.get(key) for p in policies if p.get(key) is not None]


def _managed(inv: AccountInventory, attached: Iterable[Mapping[str, Any]]) -> list[Any]:
    out = []
    for a in attached:
        rec = inv.iam.policies.get(str(a.get("PolicyArn")))
        if rec and rec.get("Document") is not None:
            out.append(rec["Document"])
    return out


def _boundary(inv: AccountInventory, rec: Mapping[str, Any]) -> tuple[Any, ...]:
    arn = (rec.get("PermissionsBoundary") or {}).get("PermissionsBoundaryArn")
    if not arn:
        return ()
    doc = (inv.iam.policies.get(str(arn)) or {}).get("Document")
    # a boundary that cannot be read allows nothing: safer than silently dropping it
    return (doc if doc is not None else {"Version": "2012-10-17", "Statement": []},)


def _tags(rec: Mapping[str, Any]) -> dict[str, str]:
    return {str(t.get("Key")): str(t.get("Value")) for t in rec.get("Tags") or [] if t.get("Key")}


def inventory_principals(inv: AccountInventory) -> list[Principal]:
    """Every role and user of the account with its identity policies (inline, managed, groups') and boundary."""
    out: list[Principal] = []
    for role in inv.iam.roles:
        identity = _docs(role.get("RolePolicyList") or [], "PolicyDocument")
        identity += _managed(inv, role.get("AttachedManagedPolicies") or [])
        out.append(Principal(arn=str(role.get("Arn")), account=inv.account_id, kind="role",
                             name=str(role.get("RoleName")), identity=tuple(identity),
                             boundary=_boundary(inv, role), tags=_tags(role)))
    groups = {str(g.get("GroupName")): g for g in inv.iam.groups}
    for user in inv.iam.users:
        identity = _docs(user.get("UserPolicyList") or [], "PolicyDocument")
        identity += _managed(inv, user.get("AttachedManagedPolicies") or [])
        for gname in user.get("GroupList") or []:
            g = groups.get(str(gname))
            if g is not None:
                identity += _docs(g.get("GroupPolicyList") or [], "PolicyDocument")
                identity += _managed(inv, g.get("AttachedManagedPolicies") or [])
        out.append(Principal(arn=str(user.get("Arn")), account=inv.account_id, kind="user",
                             name=str(user.get("UserName")), identity=tuple(identity),
                             boundary=_boundary(inv, user), tags=_tags(user)))
    return out


def external_account(inv: AccountInventory, known: Iterable[str] = ()) -> str:
    """An account id that is neither this account nor any known one."""
    taken = {inv.account_id, *known}
    return next(a for a in EXTERNAL_ACCOUNTS if a not in taken)


def probes(inv: AccountInventory, known_accounts: Iterable[str] = ()) -> dict[str, Principal]:
    """The synthetic callers: root, any in-account principal IAM allows, an external principal, anonymous."""
    acct = inv.account_id
    ext = external_account(inv, known_accounts)
    return {
        "root": Principal(arn=f"arn:aws:iam::{acct}:root", account=acct, kind="root", name="root",
                          identity=(ALLOW_ALL,)),
        "account": Principal(arn=f"arn:aws:iam::{acct}:role/seclab-probe-any-principal", account=acct,
                             kind="probe_account", name="seclab-probe-any-principal", identity=(ALLOW_ALL,)),
        "external": Principal(arn=f"arn:aws:iam::{ext}:role/seclab-probe-external", account=ext,
                              kind="probe_external", name="seclab-probe-external", identity=(ALLOW_ALL,)),
        "anonymous": Principal(arn=ANONYMOUS_ARN, account="", kind="anonymous", name="anonymous"),
    }


def context_for(p: Principal, *, secure: bool = True, org_id: str | None = None,
                extra: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The request context AWS would build for a call by `p` (global keys only; the caller adds service keys)."""
    ctx: dict[str, Any] = {"aws:SecureTransport": "true" if secure else "false"}
    if p.kind != "anonymous":
        ptype = {"role": "AssumedRole", "user": "User", "root": "Account"}.get(p.kind, "AssumedRole")
        ctx.update({"aws:PrincipalArn": p.arn, "aws:PrincipalAccount": p.account, "aws:PrincipalType": ptype,
                    "aws:PrincipalIsAWSService": "false"})
        if p.kind == "user":
            ctx["aws:username"] = p.name
        for k, v in p.tags.items():
            ctx[f"aws:PrincipalTag/{k}"] = v
        if org_id and p.kind not in ("probe_external",):
            ctx["aws:PrincipalOrgID"] = org_id
    else:
        ctx["aws:PrincipalType"] = "Anonymous"
    if extra:
        ctx.update(extra)
    return ctx


# A PolicySet compiles its policies once, on first use: the same (principal, resource policy) pair is asked many
# questions, so keep its PolicySet. Keyed by identity; the entry holds both objects so an id is never reused.
_CACHE_SIZE = 2048
_POLICY_SETS: dict[tuple[int, int], tuple[Principal, Any, Any]] = {}


def decide(p: Principal, action: str, resource: str, resource_account: str, context: Mapping[str, Any],
           resource_policy: Any | None) -> str:
    """One request through the IAM evaluator: "allow" | "explicit_deny" | "implicit_deny".

    `resource_policy` None means the resource has no policy (for KMS the evaluator then finds nothing granting use).
    Raises EvaluationFailed when the evaluator cannot judge it.
    """
    try:
        from seclab.engines.iam import PolicySet, Request, evaluate
    except ImportError as exc:  # the IAM engine is a sibling part; without it nothing here can be judged
        raise EvaluationFailed(f"the IAM evaluator is not available ({exc})") from exc
    key = (id(p), id(resource_policy))
    hit = _POLICY_SETS.get(key)
    if hit is None or hit[0] is not p or hit[1] is not resource_policy:
        if len(_POLICY_SETS) > _CACHE_SIZE:
            _POLICY_SETS.clear()
        try:
            ps = PolicySet(identity=list(p.identity),
                           resource=[resource_policy] if resource_policy is not None else [],
                           boundary=list(p.boundary))
        except Exception as exc:  # noqa: BLE001 - a policy the evaluator refuses cannot be judged
            raise EvaluationFailed(f"{type(exc).__name__}: {exc}") from exc
        hit = (p, resource_policy, ps)
        _POLICY_SETS[key] = hit
    try:
        decision = evaluate(Request(p.arn, p.account, action, resource, resource_account, dict(context)), hit[2])
    except Exception as exc:  # noqa: BLE001 - any evaluator failure is "could not evaluate", reported, never PASS
        raise EvaluationFailed(f"{type(exc).__name__}: {exc}") from exc
    verdict = str(getattr(decision, "decision", decision))
    if verdict not in ("allow", "explicit_deny", "implicit_deny"):
        raise EvaluationFailed(f"the IAM evaluator answered {verdict!r}")
    return verdict
