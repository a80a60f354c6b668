"""The trail: logging, log file validation, and a customer-managed key whose policy lets CloudTrail encrypt this
trail's logs (a request from the CloudTrail service principal evaluated with the IAM engine)."""

from __future__ import annotations

from seclab.engines.crypto import resolve_key
from seclab.engines.iam import PolicySet, Request, evaluate
from seclab.grading import CheckContext, Finding


def run(ctx: CheckContext) -> Finding:
    inv, facts = ctx.inventory, ctx.facts
    name = str(facts["trail_name"])
    trail = next((t for t in inv.cloudtrail.trails if t.get("Name") == name), None)
    if trail is None:
        others = [str(t.get("Name")) for t in inv.cloudtrail.trails]
        return ctx.fail("no_trail", trail=name, bucket=facts["trail_bucket"],
                        others=f" (the account has {', '.join(others)})" if others else "")
    arn = str(trail.get("TrailARN"))
    bucket = str(trail.get("S3BucketName"))
    evidence = {"trail": arn, "S3BucketName": bucket, "KmsKeyId": trail.get("KmsKeyId"),
                "LogFileValidationEnabled": trail.get("LogFileValidationEnabled"),
                "IsLogging": (trail.get("Status") or {}).get("IsLogging"),
                "IsMultiRegionTrail": trail.get("IsMultiRegionTrail")}
    problems: list[str] = []
    if not (trail.get("Status") or {}).get("IsLogging"):
        problems.append("it is not logging (cloudtrail.start_logging)")
    if not trail.get("LogFileValidationEnabled"):
        problems.append("log file validation is off (EnableLogFileValidation=True)")
    if inv.s3.bucket(bucket) is None:
        problems.append(f"its bucket {bucket} does not exist in the account")
    key_arn = ""
    ref = trail.get("KmsKeyId")
    if not ref:
        problems.append("its log files are not encrypted with a KMS key (KmsKeyId), only with SSE-S3")
    else:
        info = resolve_key(inv, str(ref))
        key_arn = str(info.arn or ref)
        record = next((k for k in inv.kms.keys if k.arn == info.arn), None)
        if info.key_kind != "customer_managed" or record is None:
            problems.append(f"its key {ref} is not a customer-managed key of this account")
        elif info.key_state != "Enabled":
            problems.append(f"its key {key_arn} is {info.key_state}")
        else:
            context = {"aws:SourceArn": arn, "aws:SourceAccount": inv.account_id, "aws:SecureTransport": "true",
                       "aws:PrincipalIsAWSService": "true", "aws:PrincipalServiceName": "cloudtrail.amazonaws.com",
                       "kms:EncryptionContext:aws:cloudtrail:arn": arn, "kms:CallerAccount": inv.account_id}
            try:
                policies = PolicySet(resource=[record.policy] if record.policy is not None else [])
                decision = evaluate(Request("cloudtrail.amazonaws.com", None, "kms:GenerateDataKey", key_arn,
                                            inv.account_id, context), policies)
            except Exception as exc:  # noqa: BLE001 - a policy the engine refuses cannot be judged
                return ctx.error("evaluation_error", evidence=evidence, key_arn=key_arn,
                                 detail=f"{type(exc).__name__}: {exc}")
            evidence["cloudtrail_can_encrypt"] = decision.to_dict()
            if decision.decision != "allow":
                problems.append(f"the policy of its key {key_arn} does not let CloudTrail (cloudtrail.amazonaws.com) "
                                "generate data keys for it, so AWS would deliver no log files")
    if problems:
        return ctx.fail("problems", evidence=evidence, trail=name, details="; ".join(problems))
    return ctx.ok("pass", evidence=evidence, trail=name, bucket=bucket, key_arn=key_arn)
