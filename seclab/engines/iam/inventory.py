"""From inventory records (GetAccountAuthorizationDetails, Organizations, Identity Center) to PolicySets.

Why: graders should never assemble policy lists by hand: a principal's effective identity policies are its inline
policies, its attached managed policies (documents from iam.policies) and, for users, its groups' policies; its
boundary is a managed policy; its SCPs come from the organization tree of its account. Getting any of these
wrong silently changes every verdict, so it lives in one place, and a managed policy whose document the inventory
lacks is reported (`PrincipalPolicies.missing`) rather than dropped.
"""

from __future__ import annotations

import json
import re
import urllib.parse
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Union

from seclab.engines.iam.errors import PolicyError
from seclab.engines.iam.evaluator import PolicySet
from seclab.engines.iam.policy import Policy, parse_policy
from seclab.errors import NotFound
from seclab.inventory.model import AccountInventory, IdentityCenter, Organization, OrgInventory

Inventory = Union[AccountInventory, OrgInventory]

_ARN_ACCOUNT_RE = re.compile(r"^arn:[^:]+:[^:]+:[^:]*:(\d{12}):")
_SESSION_RE = re.compile(r"^arn:([^:]+):sts::(\d{12}):assumed-role/([^/]+)/")

# Fallback documents for a few AWS managed policies, used only when no inventory holds their document (e.g. a
# permission set attaches AdministratorAccess but no IAM principal does). Copied from the policies' published
# versions; seclab never fetches them.
BUILTIN_MANAGED: dict[str, dict[str, Any]] = {
    "arn:aws:iam::aws:policy/AdministratorAccess": {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}],
    },
    "arn:aws:iam::aws:policy/PowerUserAccess": {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "NotAction": ["iam:*", "organizations:*", "account:*"], "Resource": "*"},
            {
                "Effect": "Allow",
                "Action": [
                    "account:GetAccountInformation",
                    "account:GetPrimaryEmail",
                    "account:ListRegions",
                    "iam:CreateServiceLinkedRole",
                    "iam:DeleteServiceLinkedRole",
                    "iam:ListRoles",
                    "organizations:DescribeOrganization",
                ],
                "Resource": "*",
            },
        ],
    },
    "arn:aws:iam::aws:policy/AmazonS3FullAccess": {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": ["s3:*", "s3-object-lambda:*"], "Resource": "*"}],
    },
    "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess": {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": ["s3:Get*", "s3:List*", "s3:Describe*", "s3-object-lambda:Get*", "s3-object-lambda:List*"],
                "Resource": "*",
            }
        ],
    },
}


@dataclass(frozen=True)
class PrincipalPolicies:
    """A principal's policies as the inventory records them, with names for evidence."""

    arn: str
    kind: str  # "role" | "user"
    name: str
    account: str
    record: Mapping[str, Any]
    identity: tuple[Policy, ...]
    boundary: tuple[Policy, ...]
    attached_managed: tuple[str, ...]  # managed policy ARNs attached directly (and through groups, for users)
    missing: tuple[str, ...] = ()  # managed policy ARNs whose document the inventory does not hold
    scp: tuple[tuple[Policy, ...], ...] = ()
    management_account: str | None = None

    def policy_set(self, **extra: Any) -> PolicySet:
        return PolicySet(
            identity=self.identity,
            boundary=self.boundary,
            scp=self.scp,
            management_account=self.management_account,
            **extra,
        )


def document(raw: Any, name: str) -> Mapping[str, Any]:
    """A policy document from an inventory record: a dict, JSON text, or URL-encoded JSON (raw IAM API form)."""
    if isinstance(raw, Mapping):
        return raw
    if isinstance(raw, str):
        text = raw
        if text.lstrip().startswith("%7B") or text.lstrip().startswith("%7b"):
            text = urllib.parse.unquote(text)
        try:
            doc = json.loads(text)
        except json.JSONDecodeError as exc:
            raise PolicyError(f"invalid JSON: {exc.msg}", policy=name, line=exc.lineno, column=exc.colno) from None
        if isinstance(doc, Mapping):
            return doc
    raise PolicyError("the inventory holds no readable policy document", policy=name)


def account_of(arn: str) -> str | None:
    m = _ARN_ACCOUNT_RE.match(arn)
    return m.group(1) if m else None


def accounts_of(inventory: Inventory) -> dict[str, AccountInventory]:
    if isinstance(inventory, OrgInventory):
        return inventory.accounts()
    return {inventory.account_id: inventory}


def organization_of(inventory: Inventory) -> Organization | None:
    if isinstance(inventory, OrgInventory):
        return inventory.management.organizations
    return inventory.organizations


def account_inventory(inventory: Inventory, account_id: str) -> AccountInventory:
    accounts = accounts_of(inventory)
    if account_id not in accounts:
        raise NotFound(f"account {account_id} is not in the inventory",
                       f"Accounts collected: {', '.join(sorted(accounts))}.")
    return accounts[account_id]


def managed_document(inventory: Inventory, policy_arn: str, prefer: str | None = None) -> Mapping[str, Any] | None:
    """The default-version document of a managed policy, looked up in `prefer`'s account first, then anywhere."""
    accounts = accounts_of(inventory)
    order = ([accounts[prefer]] if prefer in accounts else []) + [a for k, a in accounts.items() if k != prefer]
    for inv in order:
        rec = inv.iam.policies.get(policy_arn)
        if rec is None:
            continue
        if rec.get("Document") is not None:
            return document(rec["Document"], policy_arn)
        for v in rec.get("PolicyVersionList") or ():
            if v.get("IsDefaultVersion") and v.get("Document") is not None:
                return document(v["Document"], policy_arn)
    return BUILTIN_MANAGED.get(policy_arn)


def find_principal(inventory: Inventory, principal: str) -> tuple[AccountInventory, Mapping[str, Any], str]:
    """(account inventory, IAM record, "role"|"user") for a role/user ARN, a role-session ARN, or a bare name."""
    accounts = accounts_of(inventory)
    m = _SESSION_RE.match(principal)
    if m:
        acct_id, role_name = m.group(2), m.group(3)
        inv = account_inventory(inventory, acct_id)
        rec = inv.iam.role(role_name)
        if rec is None:
            raise NotFound(f"role {role_name} (behind session {principal}) is not in account {acct_id}'s inventory")
        return inv, rec, "role"
    acct = account_of(principal)
    candidates = [accounts[acct]] if acct in accounts else ([] if acct else list(accounts.values()))
    for inv in candidates:
        rec = inv.iam.role(principal)
        if rec is not None:
            return inv, rec, "role"
        rec = inv.iam.user(principal)
        if rec is not None:
            return inv, rec, "user"
    raise NotFound(f"no IAM role or user {principal} in the inventory",
                   "Give the role or user ARN (or name) as the inventory lists it.")


def load_principal(inventory: Inventory, principal: str) -> PrincipalPolicies:
    """A principal's identity policies (inline + managed, plus group policies for users), boundary and SCPs."""
    inv, rec, kind = find_principal(inventory, principal)
    name = str(rec.get("RoleName") if kind == "role" else rec.get("UserName"))
    arn = str(rec.get("Arn"))
    identity: list[Policy] = []
    missing: list[str] = []
    attached: list[str] = []
    inline_key = "RolePolicyList" if kind == "role" else "UserPolicyList"
    for p in rec.get(inline_key) or ():
        pname = f"{kind}/{name}: inline {p.get('PolicyName')}"
        identity.append(parse_policy(document(p.get("PolicyDocument"), pname), name=pname))
    managed = [m.get("PolicyArn") for m in rec.get("AttachedManagedPolicies") or () if m.get("PolicyArn")]
    if kind == "user":
        for gname in rec.get("GroupList") or ():
            group = next((g for g in inv.iam.groups if g.get("GroupName") == gname), None)
            if group is None:
                missing.append(f"group {gname}")
                continue
            for p in group.get("GroupPolicyList") or ():
                pname = f"group/{gname}: inline {p.get('PolicyName')}"
                identity.append(parse_policy(document(p.get("PolicyDocument"), pname), name=pname))
            managed += [m.get("PolicyArn") for m in group.get("AttachedManagedPolicies") or () if m.get("PolicyArn")]
    for parn in dict.fromkeys(managed):
        attached.append(parn)
        doc = managed_document(inventory, parn, prefer=inv.account_id)
        if doc is None:
            missing.append(parn)
            continue
        identity.append(parse_policy(doc, name=parn))
    boundary: list[Policy] = []
    pb = (rec.get("PermissionsBoundary") or {}).get("PermissionsBoundaryArn")
    if pb:
        doc = managed_document(inventory, pb, prefer=inv.account_id)
        if doc is None:
            missing.append(pb)
            # An unreadable boundary must not widen access: a boundary that allows nothing is the safe reading.
            boundary.append(parse_policy({"Version": "2012-10-17", "Statement": []}, name=f"{pb} (not collected)"))
        else:
            boundary.append(parse_policy(doc, name=pb))
    scp, mgmt = organization_levels(inventory, inv.account_id, "SERVICE_CONTROL_POLICY")
    return PrincipalPolicies(
        arn=arn, kind=kind, name=name, account=inv.account_id, record=rec, identity=tuple(identity),
        boundary=tuple(boundary), attached_managed=tuple(attached), missing=tuple(missing), scp=scp,
        management_account=mgmt,
    )


def organization_levels(
    inventory: Inventory, account_id: str, policy_type: str
) -> tuple[tuple[tuple[Policy, ...], ...], str | None]:
    """The SCP or RCP levels (root -> OUs -> account) that bind `account_id`, and the management account id.

    Levels exist only when the policy type is enabled on the root (Organizations enforces nothing otherwise). A
    level without any attached policy cannot exist in AWS (the last policy cannot be detached); a simulator may
    produce one, and it is skipped rather than read as "deny everything".
    """
    org = organization_of(inventory)
    if org is None:
        return (), None
    desc = org.organization.get("Organization", org.organization)
    mgmt = desc.get("MasterAccountId") or desc.get("ManagementAccountId")
    if mgmt is None and isinstance(inventory, OrgInventory):
        mgmt = inventory.management.account_id
    enabled = True
    for root in org.roots:
        types = root.get("PolicyTypes")
        if types is not None:
            enabled = any(t.get("Type") == policy_type and t.get("Status") == "ENABLED" for t in types)
    if not enabled:
        return (), mgmt
    known = {str(a.get("Id")) for a in org.accounts}
    if account_id not in known and account_id != mgmt:
        return (), mgmt
    levels: list[tuple[Policy, ...]] = []
    for target in org.parent_chain(account_id):
        level = []
        for p in org.policies:
            if p.get("Type") != policy_type:
                continue
            if any(t.get("TargetId") == target for t in p.get("Targets") or ()):
                pname = f"{p.get('Name') or p.get('Id')} ({p.get('Id')})"
                level.append(parse_policy(document(p.get("Content"), pname), name=pname))
        if level:
            levels.append(tuple(level))
    return tuple(levels), mgmt


def principal_policies(inventory: Inventory, principal_arn: str, *, session: Sequence[Any] = ()) -> PolicySet:
    """The PolicySet of a principal's side of a request: identity policies, boundary, SCPs, management account.

    Add the resource side with `dataclasses.replace(ps, resource=..., rcp=...)` or `resource_side()`.
    """
    pp = load_principal(inventory, principal_arn)
    return pp.policy_set(session=tuple(session))


@dataclass(frozen=True)
class ResourceSide:
    """The policies that sit on a resource: its resource-based policy (if the service has them) and its RCPs."""

    resource_arn: str
    account: str | None
    policies: tuple[Policy, ...]
    rcp: tuple[tuple[Policy, ...], ...]
    known: bool  # False when the inventory does not hold this resource (its policy is then unknown)
    notes: tuple[str, ...] = field(default_factory=tuple)


def resource_side(inventory: Inventory, resource_arn: str, action: str | None = None,
                  account: str | None = None) -> ResourceSide:
    """Find the resource-based policy of `resource_arn` in the inventory (bucket, key, role trust, repository)."""
    accounts = accounts_of(inventory)
    acct = account or account_of(resource_arn)
    notes: list[str] = []
    policies: list[Policy] = []
    known = False
    if resource_arn.startswith("arn:aws:s3:::") or re.match(r"^arn:[^:]+:s3:::", resource_arn):
        bucket = resource_arn.split(":::", 1)[1].split("/", 1)[0]
        for inv in accounts.values():
            b = inv.s3.bucket(bucket)
            if b is not None:
                acct = inv.account_id
                known = True
                if b.policy:
                    policies.append(parse_policy(document(b.policy, f"bucket policy of {bucket}"),
                                                 name=f"bucket policy of {bucket}"))
                break
    elif acct in accounts:
        inv = accounts[acct]
        if ":kms:" in resource_arn and ":key/" in resource_arn:
            for k in inv.kms.keys:
                if k.arn == resource_arn:
                    known = True
                    if k.policy:
                        policies.append(parse_policy(document(k.policy, f"key policy of {k.key_id}"),
                                                     name=f"key policy of {k.key_id}"))
                    break
        elif ":iam::" in resource_arn and ":role/" in resource_arn:
            rec = inv.iam.role(resource_arn)
            if rec is not None:
                known = True
                if (action or "sts:").lower().startswith("sts:") and rec.get("AssumeRolePolicyDocument"):
                    name = f"trust policy of {rec.get('RoleName')}"
                    policies.append(parse_policy(document(rec["AssumeRolePolicyDocument"], name), name=name))
        elif ":ecr:" in resource_arn and ":repository/" in resource_arn:
            for r in inv.ecr.repositories:
                if r.get("repositoryArn") == resource_arn:
                    known = True
                    if r.get("Policy"):
                        name = f"repository policy of {r.get('repositoryName')}"
                        policies.append(parse_policy(document(r["Policy"], name), name=name))
                    break
        else:
            known = True  # a resource type without resource-based policies
    if not known:
        notes.append(f"{resource_arn} is not in the inventory; its resource-based policy (if any) is unknown")
    rcp: tuple[tuple[Policy, ...], ...] = ()
    if acct:
        rcp, _ = organization_levels(inventory, acct, "RESOURCE_CONTROL_POLICY")
    return ResourceSide(resource_arn, acct, tuple(policies), rcp, known, tuple(notes))


def account_names(inventory: Inventory) -> dict[str, str]:
    """Account id -> the organization's account name, for readable paths ("bu2/DataScientist")."""
    org = organization_of(inventory)
    names: dict[str, str] = {}
    if org is not None:
        for a in org.accounts:
            if a.get("Id") and a.get("Name"):
                names[str(a["Id"])] = str(a["Name"])
    return names


def identity_center(inventory: Inventory) -> IdentityCenter | None:
    if isinstance(inventory, OrgInventory):
        if inventory.management.identity_center is not None:
            return inventory.management.identity_center
        for inv in inventory.members.values():
            if inv.identity_center is not None:
                return inv.identity_center
        return None
    return inventory.identity_center

