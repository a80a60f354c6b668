"""Inventory records for IAM-engine tests, in the AWS API's own shapes (GetAccountAuthorizationDetails,
Organizations, Identity Center), so the engine reads exactly what the collector would hand it."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from seclab.inventory.model import (
    S3,
    AccountInventory,
    Bucket,
    Iam,
    IdentityCenter,
    Key,
    Kms,
    Organization,
    OrgInventory,
)

V = "2012-10-17"


def doc(*statements: dict[str, Any]) -> dict[str, Any]:
    return {"Version": V, "Statement": list(statements)}


def allow(action: Any, resource: Any = "*", **extra: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


def deny(action: Any, resource: Any = "*", **extra: Any) -> dict[str, Any]:
    return {"Effect": "Deny", "Action": action, "Resource": resource, **extra}


def trust(principal: Any, **extra: Any) -> dict[str, Any]:
    return doc({"Effect": "Allow", "Principal": principal, "Action": "sts:AssumeRole", **extra})


def role(account: str, name: str, trust_doc: Mapping[str, Any], *, inline: Mapping[str, Any] | None = None,
         managed: Iterable[str] = (), boundary: str | None = None, path: str = "/") -> dict[str, Any]:
    rec: dict[str, Any] = {
        "Path": path,
        "RoleName": name,
        "RoleId": f"AROA{abs(hash((account, name))) % 10**12:012d}",
        "Arn": f"arn:aws:iam::{account}:role{path}{name}",
        "AssumeRolePolicyDocument": trust_doc,
        "RolePolicyList": [{"PolicyName": k, "PolicyDocument": v} for k, v in (inline or {}).items()],
        "AttachedManagedPolicies": [{"PolicyName": a.rsplit("/", 1)[-1], "PolicyArn": a} for a in managed],
        "Tags": [],
    }
    if boundary:
        rec["PermissionsBoundary"] = {"PermissionsBoundaryType": "Policy", "PermissionsBoundaryArn": boundary}
    return rec


def user(account: str, name: str, *, inline: Mapping[str, Any] | None = None, managed: Iterable[str] = (),
         groups: Iterable[str] = (), boundary: str | None = None) -> dict[str, Any]:
    rec: dict[str, Any] = {
        "Path": "/",
        "UserName": name,
        "Arn": f"arn:aws:iam::{account}:user/{name}",
        "UserPolicyList": [{"PolicyName": k, "PolicyDocument": v} for k, v in (inline or {}).items()],
        "AttachedManagedPolicies": [{"PolicyName": a.rsplit("/", 1)[-1], "PolicyArn": a} for a in managed],
        "GroupList": list(groups),
    }
    if boundary:
        rec["PermissionsBoundary"] = {"PermissionsBoundaryType": "Policy", "PermissionsBoundaryArn": boundary}
    return rec


def group(account: str, name: str, *, inline: Mapping[str, Any] | None = None,
          managed: Iterable[str] = ()) -> dict[str, Any]:
    return {
        "GroupName": name,
        "Arn": f"arn:aws:iam::{account}:group/{name}",
        "GroupPolicyList": [{"PolicyName": k, "PolicyDocument": v} for k, v in (inline or {}).items()],
        "AttachedManagedPolicies": [{"PolicyName": a.rsplit("/", 1)[-1], "PolicyArn": a} for a in managed],
    }


def managed(arn: str, document: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
    return arn, {"PolicyName": arn.rsplit("/", 1)[-1], "Arn": arn, "DefaultVersionId": "v1", "Document": document}


def bucket(account: str, name: str, policy: Mapping[str, Any] | None = None) -> Bucket:
    return Bucket(name=name, arn=f"arn:aws:s3:::{name}", region="us-east-1", policy=policy, encryption=None,
                  public_access_block=None, versioning=None, ownership=None, logging=None, objects=())


def key(account: str, key_id: str, policy: Mapping[str, Any] | None) -> Key:
    arn = f"arn:aws:kms:us-east-1:{account}:key/{key_id}"
    return Key(metadata={"KeyId": key_id, "Arn": arn, "KeyManager": "CUSTOMER"}, policy=policy,
               rotation_enabled=True, aliases=(), grants=())


def account(account_id: str, *, roles: Iterable[dict[str, Any]] = (), users: Iterable[dict[str, Any]] = (),
            groups: Iterable[dict[str, Any]] = (), policies: Iterable[tuple[str, dict[str, Any]]] = (),
            buckets: Iterable[Bucket] = (), keys: Iterable[Key] = (), organization: Organization | None = None,
            identity_center: IdentityCenter | None = None) -> AccountInventory:
    return AccountInventory(
        account_id=account_id,
        region="us-east-1",
        iam=Iam(users=tuple(users), groups=tuple(groups), roles=tuple(roles), policies=dict(policies)),
        s3=S3(buckets=tuple(buckets)),
        kms=Kms(keys=tuple(keys)),
        organizations=organization,
        identity_center=identity_center,
    )


FULL_SCP = {"Version": V, "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
FULL_RCP = {"Version": V, "Statement": [{"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"}]}


def organization(management: str, accounts: Mapping[str, tuple[str, str]], ous: Mapping[str, str],
                 scps: Iterable[tuple[str, Mapping[str, Any], Iterable[str]]] = (),
                 rcps: Iterable[tuple[str, Mapping[str, Any], Iterable[str]]] = (),
                 enabled: Iterable[str] = ("SERVICE_CONTROL_POLICY",)) -> Organization:
    """accounts: id -> (name, parent id); ous: ou id -> parent id. FullAWSAccess (and RCPFullAWSAccess) are
    attached to every node like AWS does; `scps`/`rcps` add (name, document, target ids)."""
    root = "r-root"
    nodes = [root, *ous, *accounts]
    policies: list[dict[str, Any]] = [
        {"Id": "p-FullAWSAccess", "Name": "FullAWSAccess", "Type": "SERVICE_CONTROL_POLICY", "AwsManaged": True,
         "Content": FULL_SCP, "Targets": [{"TargetId": n} for n in nodes]},
        {"Id": "p-RCPFullAWSAccess", "Name": "RCPFullAWSAccess", "Type": "RESOURCE_CONTROL_POLICY",
         "AwsManaged": True, "Content": FULL_RCP, "Targets": [{"TargetId": n} for n in nodes]},
    ]
    for i, (name, content, targets) in enumerate(scps):
        policies.append({"Id": f"p-scp{i}", "Name": name, "Type": "SERVICE_CONTROL_POLICY", "Content": content,
                         "Targets": [{"TargetId": t} for t in targets]})
    for i, (name, content, targets) in enumerate(rcps):
        policies.append({"Id": f"p-rcp{i}", "Name": name, "Type": "RESOURCE_CONTROL_POLICY", "Content": content,
                         "Targets": [{"TargetId": t} for t in targets]})
    return Organization(
        organization={"Id": "o-exampleorg", "MasterAccountId": management, "FeatureSet": "ALL"},
        roots=({"Id": root, "Name": "Root", "PolicyTypes": [{"Type": t, "Status": "ENABLED"} for t in enabled]},),
        ous=tuple({"Id": ou, "Name": ou, "ParentId": parent} for ou, parent in ous.items()),
        accounts=tuple({"Id": a, "Name": name, "ParentId": parent} for a, (name, parent) in accounts.items()),
        policies=tuple(policies),
    )


def org_inventory(management: AccountInventory, members: Iterable[AccountInventory]) -> OrgInventory:
    return OrgInventory(management=management, members={m.account_id: m for m in members})
