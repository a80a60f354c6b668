"""Least privilege for the training role, judged two ways, both by evaluation:

1. seclab's IAM engine's least-privilege analysis (`seclab.engines.iam.least_privilege`): every action the role's
   Allow statements name is evaluated with its real policies and the resources' own policies (bucket and key
   policies) against what a SageMaker training job in a VPC needs; beyond-need actions, broad AWS managed
   policies, wildcard resources and unconstrained risky actions are findings, a need that is refused is missing.
2. Identity-side probes: the role's own policies alone (resource_policy_required=False) against requests it must
   not be able to make. A key or bucket policy that happens to refuse today hides an IAM grant like kms:* on *,
   which opens every key whose policy delegates to IAM (any AWS-managed key, any key created with the default
   policy tomorrow); the brief's "kms:* for the training role" must fail.
"""

from __future__ import annotations

from typing import Any

from seclab.engines.iam import PolicySet, Request, evaluate, least_privilege
from seclab.grading import CheckContext, Finding, check_library

# Every KMS action (Service Authorization Reference, AWS KMS). The training role may have only PERMITTED_KMS.
KMS_ACTIONS = (
    "CancelKeyDeletion", "ConnectCustomKeyStore", "CreateAlias", "CreateCustomKeyStore", "CreateGrant", "CreateKey",
    "Decrypt", "DeleteAlias", "DeleteCustomKeyStore", "DeleteImportedKeyMaterial", "DeriveSharedSecret",
    "DescribeCustomKeyStores", "DescribeKey", "DisableKey", "DisableKeyRotation", "DisconnectCustomKeyStore",
    "EnableKey", "EnableKeyRotation", "Encrypt", "GenerateDataKey", "GenerateDataKeyPair",
    "GenerateDataKeyPairWithoutPlaintext", "GenerateDataKeyWithoutPlaintext", "GenerateMac", "GenerateRandom",
    "GetKeyPolicy", "GetKeyRotationStatus", "GetParametersForImport", "GetPublicKey", "ImportKeyMaterial",
    "ListAliases", "ListGrants", "ListKeyPolicies", "ListKeyRotations", "ListKeys", "ListResourceTags",
    "ListRetirableGrants", "PutKeyPolicy", "ReEncryptFrom", "ReEncryptTo", "ReplicateKey", "RetireGrant",
    "RevokeGrant", "RotateKeyOnDemand", "ScheduleKeyDeletion", "Sign", "SynchronizeMultiRegionKey", "TagResource",
    "UntagResource", "UpdateAlias", "UpdateCustomKeyStore", "UpdateKeyDescription", "UpdatePrimaryRegion", "Verify",
    "VerifyMac",
)
PERMITTED_KMS = frozenset({"Decrypt", "Encrypt", "GenerateDataKey", "GenerateDataKeyWithoutPlaintext",
                           "DescribeKey", "CreateGrant"})
# What a SageMaker training job in a VPC needs besides its data (SageMaker developer guide, "CreateTrainingJob API:
# execution role permissions" and "Give SageMaker training jobs access to resources in your Amazon VPC").
VPC_ACTIONS = ("ec2:CreateNetworkInterface", "ec2:CreateNetworkInterfacePermission", "ec2:DeleteNetworkInterface",
               "ec2:DeleteNetworkInterfacePermission", "ec2:DescribeNetworkInterfaces", "ec2:DescribeVpcs",
               "ec2:DescribeDhcpOptions", "ec2:DescribeSubnets", "ec2:DescribeSecurityGroups")
LOG_ACTIONS = ("logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams")
ENGINE_FAILS = ("excess_actions", "broad_managed_policy", "wildcard_resource", "missing_condition")
BUCKET_ADMIN = ("s3:PutBucketPolicy", "s3:DeleteBucketPolicy", "s3:PutEncryptionConfiguration", "s3:DeleteBucket",
                "s3:PutBucketAcl", "s3:PutBucketPublicAccessBlock", "s3:PutBucketVersioning")


def _policies(inv: Any, role: dict[str, Any]) -> tuple[list[str], list[Any], list[Any]]:
    names: list[str] = []
    docs: list[Any] = []
    for p in role.get("RolePolicyList") or []:
        names.append(f"inline policy {p.get('PolicyName')}")
        docs.append(p.get("PolicyDocument"))
    for a in role.get("AttachedManagedPolicies") or []:
        rec = inv.iam.policies.get(str(a.get("PolicyArn"))) or {}
        if rec.get("Document") is not None:
            names.append(f"managed policy {a.get('PolicyName')}")
            docs.append(rec["Document"])
    boundary_arn = (role.get("PermissionsBoundary") or {}).get("PermissionsBoundaryArn")
    boundary = []
    if boundary_arn:
        doc = (inv.iam.policies.get(str(boundary_arn)) or {}).get("Document")
        boundary.append(doc if doc is not None else {"Version": "2012-10-17", "Statement": []})
    return names, docs, boundary


def run(ctx: CheckContext) -> Finding:
    lib = check_library("cmk_pipeline")
    inv, facts = ctx.inventory, ctx.facts
    acct, region = inv.account_id, inv.region
    role_arn = str(facts["training_role_arn"])
    role = inv.iam.role(role_arn)
    if role is None:
        return ctx.error("role_missing", role=facts["training_role"])
    short = str(role.get("RoleName"))
    jobs = lib.training_jobs(inv, str(facts["training_job_prefix"]))
    if jobs and jobs[0].get("RoleArn") != role_arn:
        return ctx.fail("other_role", evidence={"training_job": jobs[0].get("TrainingJobName"),
                                                "RoleArn": jobs[0].get("RoleArn")},
                        job=jobs[0].get("TrainingJobName"), job_role=jobs[0].get("RoleArn"), role=short)
    key = lib.usable_cmk(inv, facts)
    # without the key the role can still be judged too broad (a stand-in ARN); "too narrow" needs the real key
    key_arn = key.arn if key is not None else f"arn:aws:kms:{region}:{acct}:key/11111111-1111-4111-8111-111111111111"
    names, docs, boundary = _policies(inv, role)
    try:
        policies = PolicySet(identity=docs, boundary=boundary, resource_policy_required=False)
    except Exception as exc:  # noqa: BLE001 - a policy the engine refuses cannot be judged
        return ctx.error("evaluation_error", detail=f"{type(exc).__name__}: {exc}")
    inside = {"aws:SecureTransport": "true", **lib.inside(facts)}
    base = {"aws:PrincipalArn": role_arn, "aws:PrincipalAccount": acct, "aws:PrincipalType": "AssumedRole",
            "aws:ViaAWSService": "false", **inside}
    s3_via = {"kms:ViaService": f"s3.{region}.amazonaws.com", "aws:ViaAWSService": "true",
              "kms:CallerAccount": acct}
    sm_via = {"kms:ViaService": f"sagemaker.{region}.amazonaws.com", "aws:ViaAWSService": "true",
              "kms:CallerAccount": acct}
    direct = {"kms:CallerAccount": acct}
    data, art = f"arn:aws:s3:::{facts['data_bucket']}", f"arn:aws:s3:::{facts['artifact_bucket']}"
    first = next(iter(facts["objects"].get(facts["data_bucket"]) or []), {"key": "curated/train.csv"})["key"]
    output = f"{art}/{facts['training_output_prefix']}{facts['training_job_prefix']}-probe/output/model.tar.gz"
    sse = {lib.SSE_HEADER: "aws:kms", lib.SSE_KEY_HEADER: key_arn}

    # 1. the engine's analysis, against what training needs
    stream = f"arn:aws:logs:{region}:{acct}:log-group:/aws/sagemaker/TrainingJobs:log-stream:probe"
    needs: list[dict[str, Any]] = [
        {"action": "s3:GetObject", "resource": f"{data}/{first}", "context": inside},
        {"action": "s3:ListBucket", "resource": data, "context": inside},
        {"action": "s3:PutObject", "resource": output, "context": {**inside, **sse}},
        *({"action": a, "resource": "*"} for a in VPC_ACTIONS),
        {"action": "logs:CreateLogGroup", "resource": f"arn:aws:logs:{region}:{acct}:log-group:/aws/sagemaker/TrainingJobs"},
        *({"action": a, "resource": stream} for a in LOG_ACTIONS[1:]),
        {"action": "ecr:GetAuthorizationToken", "resource": "*"},
    ]
    # (pulling SageMaker's own algorithm images is authorised by their repositories' policies, in AWS's accounts,
    # which no inventory holds: the image actions are neither needs nor excess here)
    if key is not None:
        needs += [{"action": a, "resource": key_arn, "context": s3_via} for a in ("kms:Decrypt", "kms:GenerateDataKey")]
    needed_actions = {n["action"].lower() for n in needs}
    try:
        report = least_privilege(ctx.org, role_arn, needs, context=inside)
    except Exception as exc:  # noqa: BLE001 - the engine refusing a policy is "could not evaluate"
        return ctx.error("evaluation_error", detail=f"{type(exc).__name__}: {exc}")
    engine_problems: list[str] = []
    for f in sorted(report.findings, key=lambda f: f.code != "broad_managed_policy"):
        if f.code in ENGINE_FAILS:
            engine_problems.append(f.message.rstrip("."))
        elif f.code.startswith("risk_"):
            acts = {str(a).lower() for item in f.evidence.get("items", []) for a in item.get("actions", [])}
            if acts - needed_actions:
                engine_problems.append(f.message.rstrip("."))
    missing = [f"{r['action']} on {r['resource'].split(':::')[-1]}" for r in report.requirements
               if r["decision"] != "allow"]

    # 2. identity-side probes: requests the role's own policies must not allow
    def allowed(action: str, resource: str, *contexts: dict[str, str]) -> dict[str, Any] | None:
        for extra in contexts or ({},):
            d = evaluate(Request(role_arn, acct, action, resource, acct, {**base, **extra}), policies)
            if d.decision == "allow":
                return d.to_dict()
        return None

    other_key = f"arn:aws:kms:{region}:{acct}:key/{lib.OTHER_KEY_ID}"
    other_bucket = f"arn:aws:s3:::seclab-probe-unrelated-{acct}"
    trail_bucket = f"arn:aws:s3:::{facts['trail_bucket']}"
    kms_ctx = [direct, s3_via, sm_via]
    risky: list[tuple[str, str, list[dict[str, str]], str]] = []
    for action in KMS_ACTIONS:
        if action not in PERMITTED_KMS:
            risky.append((f"kms:{action}", key_arn, kms_ctx, "on the pipeline key"))
    risky.append(("kms:CreateGrant", key_arn, [{**c, "kms:GrantIsForAWSResource": "false"} for c in kms_ctx],
                  "for a non-AWS grantee, on the pipeline key"))
    for action in ("Decrypt", "Encrypt", "GenerateDataKey", "ReEncryptFrom", "CreateGrant", "DescribeKey"):
        risky.append((f"kms:{action}", other_key, kms_ctx, "on another key"))
    risky.append(("kms:CreateKey", "*", [direct], ""))
    for action, res in (("s3:GetObject", f"{other_bucket}/x"), ("s3:PutObject", f"{other_bucket}/x"),
                        ("s3:ListBucket", other_bucket), ("s3:DeleteObject", f"{other_bucket}/x"),
                        ("s3:GetObject", f"{trail_bucket}/x"), ("s3:ListAllMyBuckets", "*")):
        risky.append((action, res, [{}], ""))
    for action in ("s3:PutObject", "s3:DeleteObject", "s3:PutObjectAcl"):
        risky.append((action, f"{data}/{first}", [{}], "(the training data)"))
    for bucket in (data, art):
        for action in BUCKET_ADMIN:
            risky.append((action, bucket, [{}], ""))
    for action, res in (("iam:PassRole", role_arn), ("iam:PassRole", "*"), ("iam:CreateRole", "*"),
                        ("iam:PutRolePolicy", role_arn), ("iam:AttachRolePolicy", role_arn),
                        ("sts:AssumeRole", str(facts["key_admin_role_arn"])),
                        ("sagemaker:CreateTrainingJob", "*"), ("sagemaker:DeleteEndpoint", "*"),
                        ("secretsmanager:GetSecretValue", "*"), ("dynamodb:Scan", "*"), ("ec2:RunInstances", "*")):
        risky.append((action, res, [{}], ""))
    try:
        excess: list[dict[str, Any]] = []
        for action, res, contexts, note in risky:
            d = allowed(action, res, *contexts)
            if d is not None:
                by = d["decided_by"][0] if d["decided_by"] else {}
                label = str(by.get("policy") or "")
                if label.startswith("identity[") and label[9:-1].isdigit() and int(label[9:-1]) < len(names):
                    label = names[int(label[9:-1])]
                excess.append({"action": action, "resource": res, "note": note, "allowed_by": label,
                               "statement": by.get("statement")})
    except Exception as exc:  # noqa: BLE001 - the evaluator refusing a policy is "could not evaluate"
        return ctx.error("evaluation_error", detail=f"{type(exc).__name__}: {exc}")
    evidence = {"role": role_arn, "policies": names, "least_privilege": report.to_dict(max_actions=40),
                "identity_probes": {"allowed_but_forbidden": excess[:25], "count": len(excess),
                                    "evaluated": len(risky)}}
    if excess or engine_problems:
        headline = ("kms:ScheduleKeyDeletion", "kms:PutKeyPolicy", "kms:DisableKey", "s3:GetObject", "kms:Decrypt")
        ranked = sorted(excess, key=lambda e: headline.index(e["action"]) if e["action"] in headline else 99)
        probes = [f"{e['action']} {e['note'] or 'on ' + e['resource']} (allowed by {e['allowed_by']})"
                  for e in ranked[:2]]
        examples = engine_problems[:1] + probes + engine_problems[1:]
        return ctx.fail("too_broad", evidence=evidence, role=short, count=len(excess) + len(engine_problems),
                        examples="; ".join(examples[:4]))
    if key is None:
        return ctx.fail("no_key", evidence=evidence, alias=facts["key_alias"])
    if missing:
        return ctx.fail("too_narrow", evidence=evidence, role=short, missing=lib.listing(missing, 5))
    return ctx.ok("pass", evidence=evidence, role=short, forbidden=len(risky))
