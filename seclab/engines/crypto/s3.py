"""S3: default encryption, each object's actual encryption, and what the bucket policy really enforces.

Why evaluate the policy: "DenyInsecureTransport" and "DenyUnEncryptedObjectUploads" are easy to get subtly wrong
(a Deny on GetObject only, on the bucket ARN but not its objects, an Allow with the condition instead of a Deny,
a key condition that any key satisfies) and the simulator enforces neither (moto-feasibility §1.3b: it treats
every condition but StringEquals as a match). So the engine asks the IAM evaluator about concrete requests:
representative actions on the bucket and on an object, over plain HTTP, by an arbitrary principal of the account,
the account root, every role and user of the account, a principal of another account and an anonymous caller (all
allowed everything by IAM, so only the bucket policy's explicit Deny can refuse them); and PutObject requests with
and without the encryption headers.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

from seclab.inventory.model import AccountInventory, Bucket

from .findings import KEY_LEVEL_CODES, Finding
from .keys import KeyInfo, aws_managed_key, aws_owned, resolve_key
from .principals import ALLOW_ALL, EvaluationFailed, Principal, context_for, decide, inventory_principals, probes

PROBE_OBJECT = "seclab-probe/object.bin"
WRONG_KEY_ID = "00000000-0000-4000-8000-000000000000"
SSE_HEADER = "s3:x-amz-server-side-encryption"
SSE_KEY_HEADER = "s3:x-amz-server-side-encryption-aws-kms-key-id"
# (action, "bucket" | "object", extra context): a request of each kind a client makes, read and write, data and
# configuration. PutObject twice, with and without an encryption header, so a TLS rule that also tests the header
# is caught.
TLS_REQUESTS: tuple[tuple[str, str, Mapping[str, str]], ...] = (
    ("s3:GetObject", "object", {}),
    ("s3:PutObject", "object", {}),
    ("s3:PutObject", "object", {SSE_HEADER: "aws:kms"}),
    ("s3:DeleteObject", "object", {}),
    ("s3:ListBucket", "bucket", {}),
    ("s3:GetBucketPolicy", "bucket", {}),
    ("s3:PutBucketPolicy", "bucket", {}),
    ("s3:GetEncryptionConfiguration", "bucket", {}),
)
_LABELS = {"AES256": "SSE-S3", "aws:kms": "SSE-KMS", "aws:kms:dsse": "DSSE-KMS"}


def _sse_key(inventory: AccountInventory, algorithm: str | None, key_ref: str | None,
             known: Mapping[str, AccountInventory] | None) -> KeyInfo:
    if algorithm in ("aws:kms", "aws:kms:dsse"):
        if key_ref:
            return resolve_key(inventory, key_ref, accounts=known)
        # SSE-KMS without a key id uses the account's AWS-managed key for S3 (PutObject / PutBucketEncryption docs)
        return aws_managed_key(inventory, "s3")
    return aws_owned("s3", "SSE-S3: S3 encrypts it with keys S3 owns")


def default_encryption(inventory: AccountInventory, bucket: Bucket,
                       known: Mapping[str, AccountInventory] | None = None) -> tuple[KeyInfo, dict[str, Any]]:
    """The bucket's default encryption: the key new objects get, and the configuration's details.

    A bucket without a configuration still encrypts new objects with SSE-S3 (S3's default since 2023-01-05).
    """
    rules = (bucket.encryption or {}).get("Rules") or []
    rule = rules[0] if rules else {}
    sse = rule.get("ApplyServerSideEncryptionByDefault") or {}
    algorithm = sse.get("SSEAlgorithm")
    key_ref = sse.get("KMSMasterKeyID")
    info = _sse_key(inventory, algorithm, key_ref, known)
    detail = {
        "algorithm": algorithm or "AES256",
        "encryption": _LABELS.get(str(algorithm or "AES256"), str(algorithm)),
        "key_ref": key_ref,
        "bucket_key_enabled": bool(rule.get("BucketKeyEnabled")) if rules else False,
        "service_default": not rules,
    }
    return info, detail


def _alias_finding(bucket: Bucket, key_ref: str | None) -> list[Finding]:
    if key_ref and (key_ref.startswith("alias/") or ":alias/" in key_ref):
        return [Finding("bucket_key_named_by_alias", "low",
                        f"Bucket {bucket.name} names its default key by alias ({key_ref}): KMS resolves an alias in "
                        "the uploader's account, so another account's uploads could be encrypted with its own key. "
                        "Name the key by its ARN.")]
    return []


def tls_enforcement(inventory: AccountInventory, bucket: Bucket, *, known_accounts: Sequence[str] = (),
                    principals: Sequence[Principal] | None = None) -> dict[str, Any]:
    """Does the bucket policy refuse every request made without TLS? True only if each probe request (every
    action in TLS_REQUESTS, on the bucket and on an object, by every principal) is an explicit Deny.

    Returns {"tls_enforced": bool | None, "not_denied": [...], "evaluated": n, "findings": [...]}; None when the
    policy could not be evaluated (with an evaluation_error finding)."""
    account = inventory.account_id
    resources = {"bucket": bucket.arn, "object": f"{bucket.arn}/{PROBE_OBJECT}"}
    pr = probes(inventory, known_accounts)
    concrete = principals if principals is not None else inventory_principals(inventory)
    # every caller is allowed everything by IAM: the question is what the bucket policy itself refuses, so only
    # an explicit Deny counts; a role without S3 permissions must not pass for "TLS enforced" (or fail it)
    callers = [pr["account"], pr["root"], pr["external"], pr["anonymous"],
               *(replace(p, identity=(ALLOW_ALL,), boundary=()) for p in concrete)]
    out: dict[str, Any] = {"tls_enforced": False, "not_denied": [], "evaluated": 0, "findings": []}
    if bucket.policy is None:
        out["findings"] = [Finding("bucket_tls_not_enforced", "medium",
                                   f"Bucket {bucket.name} has no bucket policy, so requests over plain HTTP are "
                                   "accepted. Add a Deny for all S3 actions on the bucket and its objects when "
                                   "aws:SecureTransport is false.").to_dict()]
        return out
    if not isinstance(bucket.policy, Mapping):
        out["tls_enforced"] = None
        out["findings"] = [Finding("evaluation_error", "error",
                                   f"The policy of bucket {bucket.name} is not valid JSON: TLS enforcement could not "
                                   "be evaluated.").to_dict()]
        return out
    not_denied: list[dict[str, Any]] = []
    try:
        for p in callers:
            for action, target, extra in TLS_REQUESTS:
                ctx = context_for(p, secure=False, extra=extra)
                verdict = decide(p, action, resources[target], account, ctx, bucket.policy)
                out["evaluated"] += 1
                if verdict != "explicit_deny":
                    not_denied.append({"principal": p.label, "action": action, "resource": resources[target],
                                       "context": dict(extra), "decision": verdict})
    except EvaluationFailed as exc:
        out["tls_enforced"] = None
        out["findings"] = [Finding("evaluation_error", "error",
                                   f"The policy of bucket {bucket.name} could not be evaluated: {exc}.").to_dict()]
        return out
    out["tls_enforced"] = not not_denied
    out["not_denied"] = not_denied[:20]
    if not_denied:
        first = not_denied[0]
        actions = sorted({n["action"] for n in not_denied})
        out["findings"] = [Finding("bucket_tls_not_enforced", "medium",
                                   f"Bucket {bucket.name} does not refuse every request without TLS: for example "
                                   f"{first['action']} on {first['resource']} by {first['principal']} over plain "
                                   f"HTTP is not denied ({len(not_denied)} of {out['evaluated']} probe requests; "
                                   f"actions: {', '.join(actions)}). Deny s3:* on the bucket and bucket/* when "
                                   "aws:SecureTransport is false.").to_dict()]
    return out


def upload_encryption(inventory: AccountInventory, bucket: Bucket, required_key_arn: str | None = None, *,
                      known: Mapping[str, AccountInventory] | None = None,
                      known_accounts: Sequence[str] = ()) -> dict[str, Any]:
    """Does the bucket policy refuse uploads that would not end up encrypted with the required key?

    `required_key_arn` defaults to the bucket's default KMS key. PutObject requests (over TLS, by a principal of the
    account and one of another account, both allowed everything by IAM) are evaluated with: no encryption header
    (lands with the bucket default), SSE-S3, SSE-KMS without a key id (lands with the AWS-managed aws/s3 key),
    SSE-KMS with another key, and SSE-KMS with the required key. `enforced` is True when every request that would
    not use the required key is explicitly denied and the one that does is not; None when there is no required
    key (an SSE-S3 bucket) or the policy could not be evaluated.
    """
    default, _ = default_encryption(inventory, bucket, known)
    required = required_key_arn
    if required is None and default.key_kind in ("customer_managed", "aws_managed") and default.arn:
        required = default.arn
    elif required is not None:
        resolved = resolve_key(inventory, required, accounts=known)
        required = resolved.arn or required
    managed_s3 = aws_managed_key(inventory, "s3").arn
    wrong = f"arn:aws:kms:{inventory.region}:{inventory.account_id}:key/{WRONG_KEY_ID}"
    cases: list[tuple[str, dict[str, str], bool]] = [
        # (name, headers, violates: would the object end up under another key than the required one?)
        ("no_header", {}, default.arn != required),
        ("sse_s3", {SSE_HEADER: "AES256"}, True),
        ("kms_without_key_id", {SSE_HEADER: "aws:kms"}, managed_s3 != required),
        ("kms_other_key", {SSE_HEADER: "aws:kms", SSE_KEY_HEADER: wrong}, True),
    ]
    if required:
        cases.append(("kms_required_key", {SSE_HEADER: "aws:kms", SSE_KEY_HEADER: required}, False))
    result: dict[str, Any] = {"required_key_arn": required, "enforced": None, "probes": {}, "findings": []}
    if bucket.policy is not None and not isinstance(bucket.policy, Mapping):
        result["findings"] = [Finding("evaluation_error", "error",
                                      f"The policy of bucket {bucket.name} is not valid JSON: upload encryption "
                                      "could not be evaluated.").to_dict()]
        return result
    pr = probes(inventory, known_accounts)
    callers = [pr["account"], pr["external"]]
    obj = f"{bucket.arn}/{PROBE_OBJECT}"
    try:
        for name, headers, violates in cases:
            decisions = {p.kind: (decide(p, "s3:PutObject", obj, inventory.account_id,
                                         context_for(p, secure=True, extra=headers), bucket.policy)
                                  if bucket.policy is not None else "no_policy")
                         for p in callers}
            result["probes"][name] = {"headers": headers, "violates_requirement": violates if required else None,
                                      "denied": all(d == "explicit_deny" for d in decisions.values()),
                                      "decisions": decisions}
    except EvaluationFailed as exc:
        result["findings"] = [Finding("evaluation_error", "error",
                                      f"The policy of bucket {bucket.name} could not be evaluated: {exc}.").to_dict()]
        return result
    if not required:
        return result
    leaks = [n for n, pr_ in result["probes"].items() if pr_["violates_requirement"] and not pr_["denied"]]
    refused = "kms_required_key" in result["probes"] and \
        result["probes"]["kms_required_key"]["decisions"].get("probe_account") == "explicit_deny"
    result["enforced"] = not leaks and not refused
    if leaks:
        what = {"no_header": "uploads without an encryption header", "sse_s3": "SSE-S3 (AES256) uploads",
                "kms_without_key_id": "SSE-KMS uploads that name no key (they get the AWS-managed aws/s3 key)",
                "kms_other_key": "SSE-KMS uploads with another key"}
        result["findings"].append(Finding(
            "bucket_upload_encryption_not_enforced", "low",
            f"The policy of bucket {bucket.name} does not refuse {', '.join(what[n] for n in leaks)}: such objects "
            f"would not be encrypted with {required}.").to_dict())
    if refused:
        result["findings"].append(Finding(
            "bucket_upload_required_key_refused", "medium",
            f"The policy of bucket {bucket.name} also refuses uploads encrypted with the required key {required}: "
            "nobody can upload.").to_dict())
    return result


def object_key(inventory: AccountInventory, obj: Mapping[str, Any],
               known: Mapping[str, AccountInventory] | None = None) -> KeyInfo:
    """The key an object is actually encrypted with (its HeadObject SSE fields)."""
    algorithm = obj.get("ServerSideEncryption")
    if algorithm:
        return _sse_key(inventory, str(algorithm), obj.get("SSEKMSKeyId"), known)
    # S3 has encrypted every new object since 2023-01-05: no header recorded means SSE-S3
    return aws_owned("s3", "SSE-S3: S3 encrypts it with keys S3 owns")


def object_resources(inventory: AccountInventory, bucket: Bucket, default: KeyInfo, tls: bool | None,
                     known: Mapping[str, AccountInventory] | None = None) -> list[dict[str, Any]]:
    """One resource per object with its actual encryption (what a key migration must re-encrypt)."""
    out: list[dict[str, Any]] = []
    for obj in bucket.objects:
        algorithm = obj.get("ServerSideEncryption")
        findings: list[Finding] = []
        info = object_key(inventory, obj, known)
        matches = (info.key_kind == default.key_kind and info.arn == default.arn)
        if not matches:
            findings.append(Finding("object_not_default_key", "low",
                                    f"Object s3://{bucket.name}/{obj.get('Key')} is encrypted with "
                                    f"{info.arn or _LABELS.get(str(algorithm or 'AES256'))}, not the bucket's "
                                    f"default ({default.arn or default.key_kind}): copy it onto itself to "
                                    "re-encrypt it."))
        findings += [f for f in info.findings if f.code not in KEY_LEVEL_CODES]
        out.append({
            "arn": f"{bucket.arn}/{obj.get('Key')}",
            "type": "AWS::S3::Object",
            "account": inventory.account_id,
            "bucket": bucket.name,
            "key": obj.get("Key"),
            "at_rest": info.at_rest(),
            "in_transit": {"tls_enforced": tls},
            "encryption": _LABELS.get(str(algorithm or "AES256"), str(algorithm)),
            "key_ref": obj.get("SSEKMSKeyId"),
            "bucket_key_enabled": obj.get("BucketKeyEnabled"),
            "matches_bucket_default": matches,
            "findings": [f.to_dict() for f in findings],
        })
    return out


def bucket_resources(inventory: AccountInventory, bucket: Bucket, *,
                     known: Mapping[str, AccountInventory] | None = None,
                     principals: Sequence[Principal] | None = None) -> list[dict[str, Any]]:
    """The bucket's resource entry followed by one entry per object."""
    known_accounts = list((known or {}).keys())
    info, detail = default_encryption(inventory, bucket, known)
    tls = tls_enforcement(inventory, bucket, known_accounts=known_accounts, principals=principals)
    upload = upload_encryption(inventory, bucket, known=known, known_accounts=known_accounts)
    findings: list[dict[str, Any]] = []
    if detail["service_default"]:
        findings.append(Finding("bucket_default_sse_s3", "info",
                                f"Bucket {bucket.name} has no default encryption configured: S3 encrypts new "
                                "objects with SSE-S3 (keys S3 owns).").to_dict())
    elif info.key_kind == "aws_owned":
        findings.append(Finding("bucket_sse_s3", "info",
                                f"Bucket {bucket.name} uses SSE-S3 (AES256): keys S3 owns, which you cannot "
                                "control, audit or revoke.").to_dict())
    findings += [f.to_dict() for f in _alias_finding(bucket, detail["key_ref"])]
    findings += [f.to_dict() for f in info.findings if f.code not in KEY_LEVEL_CODES]
    if detail["algorithm"] == "aws:kms" and not detail["bucket_key_enabled"]:
        findings.append(Finding("bucket_key_disabled", "info",
                                f"Bucket {bucket.name} uses SSE-KMS without an S3 Bucket Key: every object "
                                "operation calls KMS (cost and request quotas).").to_dict())
    if bucket.objects_truncated:
        findings.append(Finding("objects_truncated", "info",
                                f"Bucket {bucket.name} holds more objects than were read: only the first "
                                f"{len(bucket.objects)} are reported.").to_dict())
    findings += tls["findings"] + upload["findings"]
    entry = {
        "arn": bucket.arn,
        "type": "AWS::S3::Bucket",
        "account": inventory.account_id,
        "name": bucket.name,
        "at_rest": info.at_rest(),
        "in_transit": {"tls_enforced": tls["tls_enforced"], "not_denied": tls["not_denied"],
                       "probe_requests": tls["evaluated"]},
        "default_encryption": detail,
        "upload_encryption_policy": {k: v for k, v in upload.items() if k != "findings"},
        "objects": len(bucket.objects),
        "findings": findings,
    }
    return [entry, *object_resources(inventory, bucket, info, tls["tls_enforced"], known)]


__all__ = [
    "bucket_resources", "default_encryption", "object_key", "object_resources", "tls_enforcement",
    "upload_encryption",
]
