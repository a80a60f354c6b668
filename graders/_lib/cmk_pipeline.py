"""Helpers shared by the cmk-pipeline lab's checks (cmk_*): finding the pipeline key, building probe callers and
request contexts, and asking the IAM evaluator.

Why a shared module: the checks judge one scenario from several sides (key policy, bucket policies, endpoint
policy, the training role) and must agree on what "the pipeline key", "inside the perimeter" and "a caller whose
own IAM policies allow everything" mean. This folder has no check.yaml, so the grader does not load it as a check;
each check loads it by path (`load()` in its check.py).

Every judgement here is made by evaluating concrete requests with seclab.engines.iam (through the encryption
engine's `decide`): the simulator enforces no key, bucket or endpoint policy (moto-feasibility §1.3-1.5).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from seclab.engines.crypto import KeyInfo, resolve_key
from seclab.engines.crypto.principals import (
    ALLOW_ALL,
    EvaluationFailed,
    Principal,
    context_for,
    decide,
    inventory_principals,
    probes,
)
from seclab.inventory.model import AccountInventory, Bucket, Key

__all__ = ["ALLOW_ALL", "EvaluationFailed", "Principal", "context_for", "decide", "inventory_principals", "probes"]

SSE_HEADER = "s3:x-amz-server-side-encryption"
SSE_KEY_HEADER = "s3:x-amz-server-side-encryption-aws-kms-key-id"
OTHER_KEY_ID = "00000000-0000-4000-8000-000000000000"
OTHER_VPCE = "vpce-0000000000000000f"
PROBE_OBJECT = "seclab-probe/object.csv"


def listing(items: Sequence[str], limit: int = 4) -> str:
    """'a, b and c' / 'a, b, c, d and 3 more': learner-facing lists stay short."""
    items = list(items)
    if not items:
        return "none"
    if len(items) > limit:
        return f"{', '.join(items[:limit])} and {len(items) - limit} more"
    if len(items) == 1:
        return items[0]
    return f"{', '.join(items[:-1])} and {items[-1]}"


def pipeline_key(inv: AccountInventory, facts: Mapping[str, Any]) -> tuple[Key | None, KeyInfo]:
    """The key the lab's alias points to (the record and the encryption engine's classification)."""
    info = resolve_key(inv, str(facts["key_alias"]))
    record = next((k for k in inv.kms.keys if info.arn and k.arn == info.arn), None)
    return record, info


def usable_cmk(inv: AccountInventory, facts: Mapping[str, Any]) -> Key | None:
    """The pipeline key if the alias names a customer-managed key in the account (its state is judged by
    kms_cmk_alias_enabled alone, so one disabled key does not fail every check)."""
    record, info = pipeline_key(inv, facts)
    if record is None or info.key_kind != "customer_managed":
        return None
    return record


def same_key(inv: AccountInventory, ref: Any, key_arn: str) -> tuple[bool, KeyInfo | None]:
    """Does a key reference (id, ARN, alias, alias ARN) name `key_arn`?"""
    if not ref:
        return False, None
    info = resolve_key(inv, str(ref))
    return bool(info.arn) and info.arn == key_arn, info


def key_label(info: KeyInfo | None, ref: Any) -> str:
    if info is None:
        return "no key"
    if info.key_kind == "aws_managed":
        return f"the AWS-managed key {info.aliases[0] if info.aliases else info.arn}"
    if info.exists is False:
        return f"{ref} (which does not exist)"
    return str(info.arn or ref)


def caller(arn: str, account: str, kind: str = "role", identity: Iterable[Any] = (ALLOW_ALL,),
           name: str | None = None) -> Principal:
    """A probe caller whose own IAM policies allow everything: what it may do is what the resource policy lets
    through (the question a bucket or key policy must answer on its own)."""
    return Principal(arn=arn, account=account, kind=kind, name=name or arn.rsplit("/", 1)[-1],
                     identity=tuple(identity))


def arn_kind(arn: str) -> str:
    return "user" if ":user/" in arn else "role"


def inside(facts: Mapping[str, Any]) -> dict[str, str]:
    """The context keys S3 sees for a request that arrives through the scenario's gateway endpoint."""
    return {"aws:SourceVpce": str(facts["s3_endpoint_id"]), "aws:SourceVpc": str(facts["vpc_id"])}


def bucket_objects(bucket: Bucket) -> dict[str, Mapping[str, Any]]:
    return {str(o.get("Key")): o for o in bucket.objects}


def etag_md5(obj: Mapping[str, Any]) -> str:
    return str(obj.get("ETag") or "").strip('"').lower()


def decision(p: Principal, action: str, resource: str, account: str, context: Mapping[str, Any],
             policy: Any) -> str:
    """One request through the IAM evaluator (EvaluationFailed when it cannot judge)."""
    return decide(p, action, resource, account, context, policy)


def training_jobs(inv: AccountInventory, prefix: str) -> list[Mapping[str, Any]]:
    """The lab's training jobs (name starts with the prefix), newest first (names cannot be reused, so a learner
    who fixes a job runs a new one)."""
    jobs = [j for j in inv.sagemaker.training_jobs if str(j.get("TrainingJobName", "")).startswith(prefix)]
    return sorted(jobs, key=lambda j: (str(j.get("CreationTime") or ""), str(j.get("TrainingJobName"))),
                  reverse=True)


def role_principal(inv: AccountInventory, arn: str) -> Principal | None:
    """A role of the account with its real identity policies and boundary (None if it does not exist)."""
    return next((p for p in inventory_principals(inv) if p.arn == arn), None)


def s3_uri(uri: Any) -> tuple[str, str] | None:
    text = str(uri or "")
    if not text.startswith("s3://"):
        return None
    bucket, _, key = text[5:].partition("/")
    return bucket, key
