"""Hand-built inventories for the encryption engine's pure tests (records in the AWS API's own shapes)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from seclab.inventory.model import AccountInventory, Bucket, Iam, Key, Kms, S3

ACCT = "111122223333"
OTHER = "444455556666"
REGION = "us-east-1"


def key_arn(key_id: str, account: str = ACCT) -> str:
    return f"arn:aws:kms:{REGION}:{account}:key/{key_id}"


def default_policy(account: str = ACCT) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": [{
        "Sid": "Enable IAM User Permissions", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{account}:root"},
        "Action": "kms:*", "Resource": "*"}]}


def key(key_id: str, *, state: str = "Enabled", manager: str = "CUSTOMER", account: str = ACCT,
        aliases: tuple[str, ...] = (), policy: Any = "default", rotation: bool | None = True,
        grants: tuple[dict[str, Any], ...] = (), spec: str = "SYMMETRIC_DEFAULT",
        usage: str = "ENCRYPT_DECRYPT") -> Key:
    meta: dict[str, Any] = {"KeyId": key_id, "Arn": key_arn(key_id, account), "AWSAccountId": account,
                            "KeyState": state, "Enabled": state == "Enabled", "KeyManager": manager,
                            "KeySpec": spec, "KeyUsage": usage}
    if state == "PendingDeletion":
        meta["DeletionDate"] = "2030-01-01T00:00:00+00:00"
    return Key(metadata=meta, policy=default_policy(account) if policy == "default" else policy,
               rotation_enabled=rotation, aliases=aliases, grants=grants)


def alias(name: str, target: str | None, account: str = ACCT) -> dict[str, Any]:
    rec: dict[str, Any] = {"AliasName": name, "AliasArn": f"arn:aws:kms:{REGION}:{account}:{name}"}
    if target:
        rec["TargetKeyId"] = target
    return rec


def bucket(name: str, *, algorithm: str | None = None, key_ref: str | None = None, bucket_key: bool = False,
           policy: Any = None, objects: tuple[dict[str, Any], ...] = ()) -> Bucket:
    enc = None
    if algorithm:
        sse: dict[str, Any] = {"SSEAlgorithm": algorithm}
        if key_ref:
            sse["KMSMasterKeyID"] = key_ref
        enc = {"Rules": [{"ApplyServerSideEncryptionByDefault": sse, "BucketKeyEnabled": bucket_key}]}
    return Bucket(name=name, arn=f"arn:aws:s3:::{name}", region=REGION, policy=policy, encryption=enc,
                  public_access_block=None, versioning=None, ownership=None, logging=None, objects=objects)


def inventory(*, keys: tuple[Key, ...] = (), aliases: tuple[dict[str, Any], ...] = (),
              buckets: tuple[Bucket, ...] = (), account: str = ACCT, **sections: Any) -> AccountInventory:
    all_aliases = list(aliases)
    for k in keys:
        for a in k.aliases:
            if not any(x["AliasName"] == a for x in all_aliases):
                all_aliases.append(alias(a, k.key_id, account))
    inv = AccountInventory(account_id=account, region=REGION, kms=Kms(keys=keys, aliases=tuple(all_aliases)),
                           s3=S3(buckets=buckets), iam=sections.pop("iam", Iam()))
    return replace(inv, **sections) if sections else inv


def tls_deny(bucket_name: str, *, action: Any = "s3:*", resource: Any = None, operator: str = "Bool",
             value: str = "false", effect: str = "Deny", principal: Any = "*") -> dict[str, Any]:
    """A one-statement bucket policy about aws:SecureTransport (default: the correct DenyInsecureTransport)."""
    res = resource if resource is not None else [f"arn:aws:s3:::{bucket_name}", f"arn:aws:s3:::{bucket_name}/*"]
    return {"Version": "2012-10-17", "Statement": [{
        "Sid": "TLS", "Effect": effect, "Principal": principal, "Action": action, "Resource": res,
        "Condition": {operator: {"aws:SecureTransport": value}}}]}
