"""The encryption report: every resource of an account (or a learner's whole estate), at rest and in transit.

Contract (issue 5, `seclab crypto report`): {"resources": [{"arn", "type", "at_rest": {"encrypted", "key_arn",
"key_kind", "key_state"}, "in_transit": {"tls_enforced"}, ...}]}. The four at-rest fields mean the same for every
type: `key_arn` is always the key's ARN however the resource named it; `key_kind` is customer_managed | aws_managed
| aws_owned | none; `key_state` the key's KMS state ("NotFound" for a key that does not exist, None when unknown or
not applicable). A resource that keeps data in several places (a training job's volume and its S3 output) lists
each in "stores" with the same four fields, and its top-level at_rest is its WEAKEST store (findings.strength),
so a check reading only the top level never over-credits a resource; "weakest_store" names it. Resources with
nothing at rest (load balancers, endpoints) carry at_rest fields all None; tls_enforced is None where TLS is not
something the resource configures. Each object of a bucket is its own resource (type AWS::S3::Object, ARN
arn:aws:s3:::bucket/key) for key migrations. KMS keys are resources too (AWS::KMS::Key), with their key policy
analysis and the stores that use them.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from seclab.errors import NotFound
from seclab.inventory.model import AccountInventory, OrgInventory

from . import services, transit
from .keypolicy import analyze_key_policy
from .keys import resolve_key
from .principals import Principal, inventory_principals
from .s3 import bucket_resources

# the inventory sections each part of the report reads; a failed one is reported, never silently empty
SECTIONS = ("iam", "kms", "s3", "sagemaker", "ecr", "logs", "cloudtrail", "ec2", "elbv2", "acm")


def _key_resources(inv: AccountInventory, known: Mapping[str, AccountInventory],
                   principals: list[Principal] | None) -> list[dict[str, Any]]:
    """One AWS::KMS::Key resource per key; customer-managed keys get a key policy analysis unless principals
    is None (analysis switched off)."""
    out = []
    analyze_policies = principals is not None
    for key in inv.kms.keys:
        info = resolve_key(inv, key.arn, accounts=known)
        policy = None
        if analyze_policies and info.key_kind == "customer_managed":
            policy = analyze_key_policy(inv, key, known_accounts=list(known), principals=principals)
        findings = [f.to_dict() for f in info.findings] + (policy["findings"] if policy else [])
        out.append({
            "arn": key.arn,
            "type": "AWS::KMS::Key",
            "account": inv.account_id,
            "name": (info.aliases[0] if info.aliases else key.key_id),
            "at_rest": info.at_rest(),
            "in_transit": {"tls_enforced": None},
            "key": info.to_dict(),
            "policy": policy,
            "used_by": [],
            "objects_using": 0,
            "findings": findings,
        })
    return out


def _link_key_users(resources: list[dict[str, Any]]) -> None:
    """Fill each key's used_by with the stores (resource ARN + store name) whose key_arn is that key; objects are
    only counted (objects_using), a bucket can hold thousands."""
    keys = {r["arn"]: r for r in resources if r["type"] == "AWS::KMS::Key"}
    for r in resources:
        if r["type"] == "AWS::KMS::Key":
            continue
        if r["type"] == "AWS::S3::Object":
            k = keys.get(str(r["at_rest"].get("key_arn")))
            if k is not None:
                k["objects_using"] += 1
            continue
        stores = r.get("stores") or [{"name": None, "at_rest": r["at_rest"]}]
        for s in stores:
            k = keys.get(str(s["at_rest"].get("key_arn")))
            if k is not None:
                k["used_by"].append({"arn": r["arn"], "type": r["type"], "store": s["name"]})


def account_resources(inv: AccountInventory, known: Mapping[str, AccountInventory] | None = None, *,
                      now: datetime | None = None, analyze_policies: bool = True) -> list[dict[str, Any]]:
    """Every resource of one account. `known`: inventories of the other accounts (cross-account keys, buckets)."""
    known = dict(known or {})
    known.setdefault(inv.account_id, inv)
    principals = inventory_principals(inv)
    res: list[dict[str, Any]] = _key_resources(inv, known, principals if analyze_policies else None)
    for bucket in inv.s3.buckets:
        res += bucket_resources(inv, bucket, known=known, principals=principals)
    sm = inv.sagemaker
    res += [services.training_job(inv, j, known) for j in sm.training_jobs]
    res += [services.processing_job(inv, j, known) for j in sm.processing_jobs]
    res += [services.model(inv, m, known) for m in sm.models]
    res += [services.endpoint_config(inv, c, known) for c in sm.endpoint_configs]
    res += [services.endpoint(inv, e, known) for e in sm.endpoints]
    res += [services.notebook_instance(inv, n, known) for n in sm.notebook_instances]
    res += [services.ecr_repository(inv, r, known) for r in inv.ecr.repositories]
    res += [services.log_group(inv, g, known) for g in inv.logs.log_groups]
    res += [services.trail(inv, t, known) for t in inv.cloudtrail.trails]
    ebs = services.ebs_default(inv, known)
    if ebs is not None:
        res.append(ebs)
    res += [transit.load_balancer(inv, lb, now) for lb in inv.elbv2.load_balancers]
    res += [e for e in (transit.vpc_endpoint(inv, ep) for ep in inv.ec2.vpc_endpoints) if e is not None]
    _link_key_users(res)
    return res


def report(inventory: AccountInventory | OrgInventory, *, accounts: Mapping[str, AccountInventory] | None = None,
           only_account: str | None = None, now: datetime | None = None,
           analyze_policies: bool = True) -> dict[str, Any]:
    """The `seclab crypto report` document for an account or a whole estate (OrgInventory: every account).

    `accounts` adds other accounts' inventories for resolving cross-account keys; `only_account` reports one
    account of an estate while still resolving references into the others. Collection failures of the sections
    the report reads are listed in "errors" (a check must treat them as ERROR)."""
    if isinstance(inventory, OrgInventory):
        known: dict[str, AccountInventory] = inventory.accounts()
    else:
        known = {inventory.account_id: inventory}
    for acct, inv in (accounts or {}).items():
        known.setdefault(acct, inv)
    if only_account is not None and only_account not in known:
        raise NotFound(f"account {only_account} is not in the inventory", f"Accounts: {', '.join(known)}.")
    targets = [known[only_account]] if only_account is not None else (
        list(inventory.accounts().values()) if isinstance(inventory, OrgInventory) else [inventory])
    resources: list[dict[str, Any]] = []
    errors: list[dict[str, str]] = []
    for inv in targets:
        resources += account_resources(inv, known, now=now, analyze_policies=analyze_policies)
        for msg in inv.failed(*SECTIONS):
            section, _, text = msg.partition(": ")
            errors.append({"account": inv.account_id, "section": section, "message": text})
    return {"accounts": [i.account_id for i in targets], "resources": resources, "errors": errors}
