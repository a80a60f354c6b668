"""Key policy analysis: who administers a KMS key, who can use it, and how, judged with the IAM evaluator.

Why by evaluation: a key policy's meaning depends on the principals' own IAM policies (the default "Enable IAM
User Permissions" statement hands the decision to IAM), on conditions (kms:ViaService, kms:CallerAccount) and on
Deny statements. Reading the text would call a key "limited to SageMaker" when an Allow elsewhere opens it again.
So every question is a set of concrete requests: each role and user of the account with its real identity
policies, plus the account root, an arbitrary principal of the account whose IAM policies allow everything, and a
principal in another account. The simulator itself enforces none of this (moto-feasibility §1.4).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from seclab.inventory.model import AccountInventory, Key

from .findings import Finding
from .principals import EvaluationFailed, Principal, context_for, decide, inventory_principals, probes

# Changing the key's policy, state, aliases, tags or grants: what "administering" a key means (the key
# administrators statement of the KMS default key policy: kms:Create*, Describe*, Enable*, List*, Put*, Update*,
# Revoke*, Disable*, Get*, Delete*, TagResource, UntagResource, ScheduleKeyDeletion, CancelKeyDeletion), read-only
# actions left out.
ADMIN_ACTIONS: tuple[str, ...] = (
    "kms:PutKeyPolicy", "kms:DisableKey", "kms:EnableKey", "kms:ScheduleKeyDeletion", "kms:CancelKeyDeletion",
    "kms:DisableKeyRotation", "kms:EnableKeyRotation", "kms:CreateAlias", "kms:UpdateAlias", "kms:DeleteAlias",
    "kms:UpdateKeyDescription", "kms:RevokeGrant", "kms:TagResource", "kms:UntagResource",
)
# Cryptographic use (the key users statement) plus CreateGrant, which lets a principal hand use on to others.
USE_ACTIONS: tuple[str, ...] = (
    "kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey", "kms:GenerateDataKeyWithoutPlaintext",
    "kms:ReEncryptFrom", "kms:ReEncryptTo", "kms:CreateGrant",
)
_CRYPTO_ACTIONS = frozenset(a for a in USE_ACTIONS if a != "kms:CreateGrant")
# grant operations that hand over use of the key (GenerateDataKeyPair*, ReEncrypt*, CreateGrant included)
_GRANT_USE_PREFIXES = ("kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey", "kms:ReEncrypt", "kms:CreateGrant")


@dataclass(frozen=True)
class _Verdicts:
    admin: tuple[str, ...]
    direct: tuple[str, ...]
    via: Mapping[str, tuple[str, ...]]  # service endpoint -> use actions allowed only through it

    @property
    def uses(self) -> bool:
        return bool(self.direct) or any(self.via.values())

    @property
    def crypto_direct(self) -> tuple[str, ...]:
        return tuple(a for a in self.direct if a in _CRYPTO_ACTIONS)

    @property
    def crypto(self) -> bool:
        """Cryptographic use (not just CreateGrant, which the usual key-administrator statement's kms:Create*
        also allows): what separation of duties and "limited to services" are about."""
        return bool(self.crypto_direct) or any(a in _CRYPTO_ACTIONS for acts in self.via.values() for a in acts)


def _via_candidates(policy: Any, region: str) -> list[str]:
    """kms:ViaService values worth trying: the ones the policy names (a wildcard becomes this region). Only a
    choice of requests: the evaluator decides what they do."""
    found: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, Mapping):
            for k, v in node.items():
                if isinstance(k, str) and k.lower() == "kms:viaservice":
                    for val in v if isinstance(v, list) else [v]:
                        if isinstance(val, str) and val:
                            found.add(re.sub(r"[*?]", lambda m: region if m.group() == "*" else "x", val))
                else:
                    walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)

    walk(policy)
    return sorted(found)


def _named_accounts(policy: Any, own: str) -> list[str]:
    """Other accounts the key policy names (12-digit ids anywhere in it): each gets a probe principal, so a grant
    to a partner account is seen even though the generic external probe is a different account."""
    found: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, Mapping):
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)
        elif isinstance(node, str):
            found.update(re.findall(r"(?<!\d)(\d{12})(?!\d)", node))

    walk(policy)
    found.discard(own)
    return sorted(found)


def _key_context(p: Principal, via: str | None, action: str) -> dict[str, Any]:
    extra: dict[str, Any] = {}
    if p.kind != "anonymous":
        extra["kms:CallerAccount"] = p.account
    if via:
        extra["kms:ViaService"] = via
        extra["aws:ViaAWSService"] = "true"
        if action == "kms:CreateGrant":
            extra["kms:GrantIsForAWSResource"] = "true"
    else:
        extra["aws:ViaAWSService"] = "false"
    return context_for(p, extra=extra)


def _verdicts(p: Principal, key_arn: str, account: str, policy: Any, vias: Sequence[str]) -> _Verdicts:
    def allowed(action: str, via: str | None = None) -> bool:
        return decide(p, action, key_arn, account, _key_context(p, via, action), policy) == "allow"

    admin = tuple(a for a in ADMIN_ACTIONS if allowed(a))
    direct = tuple(a for a in USE_ACTIONS if allowed(a))
    via: dict[str, tuple[str, ...]] = {}
    for svc in vias:
        only_via = tuple(a for a in USE_ACTIONS if a not in direct and allowed(a, svc))
        if only_via:
            via[svc] = only_via
    return _Verdicts(admin, direct, via)


def _grants(key: Key, account: str) -> tuple[list[dict[str, Any]], list[Finding]]:
    out: list[dict[str, Any]] = []
    findings: list[Finding] = []
    for g in key.grants:
        grantee = str(g.get("GranteePrincipal") or "")
        ops = [str(o) for o in g.get("Operations") or []]
        m = re.match(r"arn:[^:]*:(?:iam|sts)::(\d{12}):", grantee)
        grantee_account = m.group(1) if m else (grantee if re.fullmatch(r"\d{12}", grantee) else None)
        external = grantee_account is not None and grantee_account != account
        out.append({"grant_id": g.get("GrantId"), "name": g.get("Name"), "grantee": grantee,
                    "retiring_principal": g.get("RetiringPrincipal"), "operations": ops,
                    "constraints": g.get("Constraints"), "external": external})
        prefixed = [o if o.startswith("kms:") else f"kms:{o}" for o in ops]
        if external and any(o.startswith(_GRANT_USE_PREFIXES) for o in prefixed):
            findings.append(Finding("key_grant_external", "high",
                                    f"Grant {g.get('GrantId')} on key {key.arn} lets {grantee}, outside the "
                                    f"account, use it ({', '.join(ops)})."))
    return out, findings


def analyze_key_policy(inventory: AccountInventory, key: Key, *, known_accounts: Iterable[str] = (),
                       principals: Sequence[Principal] | None = None) -> dict[str, Any]:
    """Who administers and who uses `key`, by evaluating requests with the IAM engine (see module docstring).

    Returns a JSON-ready dict: administrators, users (direct / only through named services / by grant),
    root_delegates_to_iam, separation_of_duties, use_limited_to_services, external_can_use, grants, findings.
    An unreadable policy or an evaluator failure yields an "evaluation_error" finding and None verdicts.
    """
    arn, account = key.arn, inventory.account_id
    result: dict[str, Any] = {
        "key_arn": arn, "policy_present": key.policy is not None, "administrators": [], "users": [],
        "root_can_administer": None, "root_delegates_to_iam": None, "open_to_account_without_iam": None,
        "separation_of_duties": None, "admins_who_can_use": [], "admins_who_can_grant": [],
        "use_limited_to_services": None,
        "via_services": [], "external_can_use": None, "external_accounts_with_use": [],
        "external_can_administer": None, "anonymous_can_use": None, "grants": [], "findings": [],
    }
    findings: list[Finding] = []
    grants, grant_findings = _grants(key, account)
    result["grants"] = grants
    if key.policy is None or not isinstance(key.policy, Mapping):
        findings.append(Finding("evaluation_error", "error",
                                f"The key policy of {arn} could not be read, so who can use it is unknown."))
        result["findings"] = [f.to_dict() for f in findings + grant_findings]
        return result
    vias = _via_candidates(key.policy, inventory.region)
    probe = probes(inventory, known_accounts)
    concrete = list(principals) if principals is not None else inventory_principals(inventory)
    bare = Principal(arn=f"arn:aws:iam::{account}:role/seclab-probe-no-permissions", account=account,
                     kind="probe_account", name="seclab-probe-no-permissions")
    try:
        v_root = _verdicts(probe["root"], arn, account, key.policy, vias)
        v_any = _verdicts(probe["account"], arn, account, key.policy, vias)
        v_bare = _verdicts(bare, arn, account, key.policy, vias)
        externals = [probe["external"], *(
            Principal(arn=f"arn:aws:iam::{a}:role/seclab-probe-external", account=a, kind="probe_external",
                      name="seclab-probe-external", identity=probe["external"].identity)
            for a in _named_accounts(key.policy, account))]
        v_exts = [(p, _verdicts(p, arn, account, key.policy, vias)) for p in externals]
        v_ext = _Verdicts(admin=tuple(sorted({a for _, v in v_exts for a in v.admin})),
                          direct=tuple(sorted({a for _, v in v_exts for a in v.direct})),
                          via={s: a for _, v in v_exts for s, a in v.via.items()})
        v_anon = _verdicts(probe["anonymous"], arn, account, key.policy, vias)
        per = [(p, _verdicts(p, arn, account, key.policy, vias)) for p in concrete]
    except EvaluationFailed as exc:
        findings.append(Finding("evaluation_error", "error",
                                f"The key policy of {arn} could not be evaluated: {exc}."))
        result["findings"] = [f.to_dict() for f in findings + grant_findings]
        return result

    admins = [{"principal": p.arn, "kind": p.kind, "actions": list(v.admin)} for p, v in per if v.admin]
    users = [{"principal": p.arn, "kind": p.kind, "direct": list(v.direct),
              "via_services": {s: list(a) for s, a in v.via.items()}, "by_grant": []} for p, v in per if v.uses]
    by_user = {u["principal"]: u for u in users}
    for g in grants:
        ops = [o if o.startswith("kms:") else f"kms:{o}" for o in g["operations"]]
        entry = by_user.get(g["grantee"])
        if entry is None:
            entry = {"principal": g["grantee"], "kind": "grantee", "direct": [], "via_services": {}, "by_grant": []}
            users.append(entry)
            by_user[g["grantee"]] = entry
        entry["by_grant"] = sorted(set(entry["by_grant"]) | set(ops))
    admin_arns = {a["principal"] for a in admins}
    crypto_users = {p.arn for p, v in per if v.crypto}
    crypto_users |= {g["grantee"] for g in grants
                     if any((o if o.startswith("kms:") else f"kms:{o}") in _CRYPTO_ACTIONS for o in g["operations"])}
    both = sorted(admin_arns & crypto_users)
    granting_admins = sorted(p.arn for p, v in per if v.admin and "kms:CreateGrant" in v.direct
                             and p.arn not in crypto_users)
    everyone_uses = [v for v in (v_any, *(v for _, v in per)) if v.crypto]
    result.update({
        "administrators": admins,
        "users": users,
        "root_can_administer": "kms:PutKeyPolicy" in v_root.admin,
        "root_delegates_to_iam": bool(v_any.admin or v_any.uses) and not (v_bare.admin or v_bare.uses),
        "open_to_account_without_iam": bool(v_bare.uses),
        "separation_of_duties": not both,
        "admins_who_can_use": both,
        "admins_who_can_grant": granting_admins,
        "via_services": sorted({s for v in everyone_uses for s in v.via}),
        "use_limited_to_services": (all(not v.crypto_direct for v in everyone_uses) if everyone_uses else None),
        "external_can_use": v_ext.uses,
        "external_accounts_with_use": sorted({p.account for p, v in v_exts if v.uses}),
        "external_can_administer": bool(v_ext.admin),
        "anonymous_can_use": v_anon.uses,
        "any_principal_in_account": {"administer": list(v_any.admin), "direct": list(v_any.direct),
                                     "via_services": {s: list(a) for s, a in v_any.via.items()}},
    })
    if "kms:PutKeyPolicy" not in v_root.admin:
        findings.append(Finding("key_root_locked_out", "medium",
                                f"The policy of key {arn} does not let the account root change it: if the "
                                "principals it names are deleted, nobody can manage the key any more."))
    if granting_admins:
        findings.append(Finding("key_admins_can_grant", "info",
                                f"{', '.join(granting_admins)} can create grants on key {arn} (kms:Create* includes "
                                "kms:CreateGrant): an administrator could grant itself use of the key."))
    if v_bare.uses:
        findings.append(Finding("key_open_in_account", "high",
                                f"Key {arn} can be used by any principal in account {account}, even one whose IAM "
                                "policies grant nothing: the key policy itself opens it."))
    if v_ext.uses or v_anon.uses:
        accounts = sorted({p.account for p, v in v_exts if v.uses})
        who = ("anyone, without credentials" if v_anon.uses
               else f"principals in other accounts ({', '.join(accounts)})")
        findings.append(Finding("key_external_use", "high", f"The policy of key {arn} lets {who} use it."))
    if v_ext.admin:
        findings.append(Finding("key_external_admin", "high",
                                f"The policy of key {arn} lets principals in other accounts administer it."))
    if both:
        findings.append(Finding("key_no_separation_of_duties", "medium",
                                f"{', '.join(both)} can both administer and use key {arn}: separate the key "
                                "administrators from the principals that encrypt and decrypt."))
    result["findings"] = [f.to_dict() for f in findings + grant_findings]
    return result
