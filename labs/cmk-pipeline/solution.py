"""cmk-pipeline reference solution (instructor-only): the notebook's solution cells, as idempotent functions.

`solve(ctx, facts)` is the reference. Keyword options select equally correct alternatives, used by the tests
(alternative solutions must also get full marks) and documented in the README's cheat sheet:

- key_policy="named" (reference: admins and users named in the key policy, no account-wide statement) or
  "root_delegation" (the AWS default "Enable IAM policies" root statement, with Deny guard rails that keep use
  to the pipeline roles and to S3/SageMaker; the roles' IAM policies then grant use);
- upload_rule="key_arn" (one StringNotEquals on the key-id header) or "null_and_key" (a Null rule for a missing
  header plus StringNotEqualsIfExists on the key id, the AWS documentation's pair);
- migration="copy" (CopyObject onto itself) or "reupload" (GetObject then PutObject with the key);
- perimeter="source_vpce" (aws:SourceVpce) or "source_vpc" (aws:SourceVpc, the VPC id);
- trail_key="audit" (a separate audit key) or "pipeline" (the pipeline key with a CloudTrail statement);
- key_ref="arn" or "alias" (how buckets, the training job and the endpoint config name the key).
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any, NamedTuple

from botocore.exceptions import ClientError

REGION = "us-east-1"
ADMIN_ACTIONS = [
    "kms:CreateAlias", "kms:UpdateAlias", "kms:DeleteAlias", "kms:DescribeKey", "kms:List*", "kms:Get*",
    "kms:PutKeyPolicy", "kms:EnableKey", "kms:DisableKey", "kms:EnableKeyRotation", "kms:DisableKeyRotation",
    "kms:RotateKeyOnDemand", "kms:UpdateKeyDescription", "kms:RevokeGrant", "kms:TagResource", "kms:UntagResource",
    "kms:ScheduleKeyDeletion", "kms:CancelKeyDeletion",
]
USE_ACTIONS = ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:CreateGrant"]
TLS_POLICY = "ELBSecurityPolicy-TLS13-1-2-2021-06"


class Options(NamedTuple):
    """Which correct variant to build (a NamedTuple: lab modules are loaded by path, outside sys.modules)."""

    key_policy: str = "named"
    upload_rule: str = "key_arn"
    migration: str = "copy"
    perimeter: str = "source_vpce"
    trail_key: str = "audit"
    key_ref: str = "arn"
    look_up_events: bool = True


def _doc(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def _services() -> list[str]:
    return [f"s3.{REGION}.amazonaws.com", f"sagemaker.{REGION}.amazonaws.com"]


# ------------------------------------------------------------------------------------------------ 1. the key


def key_policy(facts: dict[str, Any], opts: Options) -> str:
    admins = [facts["key_admin_role_arn"], facts["learner_arn"]]
    users = facts["pipeline_role_arns"]
    if opts.key_policy == "root_delegation":
        root = f"arn:aws:iam::{facts['account_id']}:root"
        return _doc(
            {"Sid": "EnableIamPolicies", "Effect": "Allow", "Principal": {"AWS": root}, "Action": "kms:*",
             "Resource": "*"},
            {"Sid": "DenyUseOutsideS3AndSageMaker", "Effect": "Deny", "Principal": "*", "Action": USE_ACTIONS,
             "Resource": "*", "Condition": {"StringNotEquals": {"kms:ViaService": _services()}}},
            {"Sid": "DenyUseByAnyoneButThePipeline", "Effect": "Deny", "Principal": "*", "Action": USE_ACTIONS,
             "Resource": "*", "Condition": {"ArnNotEquals": {"aws:PrincipalArn": users}}},
            {"Sid": "DenyAdministrationByAnyoneButKeyAdmins", "Effect": "Deny", "Principal": "*",
             "Action": ["kms:PutKeyPolicy", "kms:ScheduleKeyDeletion", "kms:DisableKey", "kms:DisableKeyRotation",
                        "kms:CreateGrant", "kms:RevokeGrant", "kms:UpdateAlias", "kms:DeleteAlias"],
             "Resource": "*", "Condition": {"ArnNotEquals": {"aws:PrincipalArn": [*admins, *users, root]}}},
        )
    return _doc(
        {"Sid": "KeyAdministrators", "Effect": "Allow", "Principal": {"AWS": admins}, "Action": ADMIN_ACTIONS,
         "Resource": "*"},
        {"Sid": "KeyUsersThroughS3AndSageMaker", "Effect": "Allow", "Principal": {"AWS": users},
         "Action": ["kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey*", "kms:DescribeKey"], "Resource": "*",
         "Condition": {"StringEquals": {"kms:ViaService": _services()}}},
        {"Sid": "KeyUsersGrantsForSageMakerVolumes", "Effect": "Allow",
         "Principal": {"AWS": [facts["training_role_arn"], facts["inference_role_arn"]]}, "Action": "kms:CreateGrant",
         "Resource": "*", "Condition": {"Bool": {"kms:GrantIsForAWSResource": "true"},
                                        "StringEquals": {"kms:ViaService": f"sagemaker.{REGION}.amazonaws.com"}}},
    )


def ensure_key(ctx: Any, alias: str, description: str, policy: str) -> str:
    """Create the key once (alias = its name), then (re)apply the policy and rotation: idempotent."""
    kms = ctx.client("kms")
    aliases = {a["AliasName"] for a in kms.list_aliases()["Aliases"]}
    if alias in aliases:
        arn = kms.describe_key(KeyId=alias)["KeyMetadata"]["Arn"]
    else:
        arn = kms.create_key(Description=description, Policy=policy, KeySpec="SYMMETRIC_DEFAULT",
                             KeyUsage="ENCRYPT_DECRYPT",
                             Tags=[{"TagKey": "seclab-lab", "TagValue": "cmk-pipeline"}])["KeyMetadata"]["Arn"]
        kms.create_alias(AliasName=alias, TargetKeyId=arn)
    kms.put_key_policy(KeyId=arn, PolicyName="default", Policy=policy)
    kms.enable_key_rotation(KeyId=arn, RotationPeriodInDays=365)
    return str(arn)


def key_ref(facts: dict[str, Any], key_arn: str, opts: Options) -> str:
    if opts.key_ref == "alias":
        return f"arn:aws:kms:{REGION}:{facts['account_id']}:{facts['key_alias']}"
    return key_arn


# ------------------------------------------------------------------------------------------------ 2. buckets


def bucket_policy(facts: dict[str, Any], bucket: str, key_arn: str, opts: Options, perimeter: bool) -> str:
    arn = f"arn:aws:s3:::{bucket}"
    statements: list[dict[str, Any]] = [
        {"Sid": "DenyInsecureTransport", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
         "Resource": [arn, f"{arn}/*"], "Condition": {"Bool": {"aws:SecureTransport": "false"}}},
    ]
    if opts.upload_rule == "null_and_key":
        statements += [
            {"Sid": "DenyUploadsWithoutKmsKey", "Effect": "Deny", "Principal": "*", "Action": "s3:PutObject",
             "Resource": f"{arn}/*",
             "Condition": {"Null": {"s3:x-amz-server-side-encryption-aws-kms-key-id": "true"}}},
            {"Sid": "DenyUploadsWithAnotherKey", "Effect": "Deny", "Principal": "*", "Action": "s3:PutObject",
             "Resource": f"{arn}/*",
             "Condition": {"StringNotEqualsIfExists": {"s3:x-amz-server-side-encryption-aws-kms-key-id": key_arn}}},
        ]
    else:
        statements.append(
            {"Sid": "DenyUploadsNotUnderPipelineKey", "Effect": "Deny", "Principal": "*", "Action": "s3:PutObject",
             "Resource": f"{arn}/*",
             "Condition": {"StringNotEquals": {"s3:x-amz-server-side-encryption-aws-kms-key-id": key_arn}}})
    if perimeter:
        where = ({"StringNotEquals": {"aws:SourceVpc": facts["vpc_id"]}} if opts.perimeter == "source_vpc"
                 else {"StringNotEquals": {"aws:SourceVpce": facts["s3_endpoint_id"]}})
        statements.append(
            {"Sid": "DenyOutsidePerimeter", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
             "Resource": [arn, f"{arn}/*"],
             "Condition": {**where, "ArnNotEquals": {"aws:PrincipalArn": facts["perimeter_exempt_arns"]}}})
    return _doc(*statements)


def configure_buckets(ctx: Any, facts: dict[str, Any], key_arn: str, opts: Options, perimeter: bool) -> None:
    s3 = ctx.client("s3")
    for bucket in (facts["data_bucket"], facts["artifact_bucket"]):
        s3.put_bucket_encryption(Bucket=bucket, ServerSideEncryptionConfiguration={"Rules": [{
            "ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms",
                                                   "KMSMasterKeyID": key_ref(facts, key_arn, opts)},
            "BucketKeyEnabled": True}]})
        s3.put_bucket_policy(Bucket=bucket, Policy=bucket_policy(facts, bucket, key_arn, opts, perimeter))


# ------------------------------------------------------------------------------------------------ 3. migration


def migrate(ctx: Any, facts: dict[str, Any], key_arn: str, opts: Options) -> dict[str, int]:
    """Re-encrypt every object not yet under the key; verify nothing changed (ETag before == after)."""
    s3 = ctx.client("s3")
    done: dict[str, int] = {}
    for bucket in (facts["data_bucket"], facts["artifact_bucket"]):
        before = {o["Key"]: o["ETag"] for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket)
                  for o in page.get("Contents", [])}
        count = 0
        for key in sorted(before):
            head = s3.head_object(Bucket=bucket, Key=key)
            if head.get("ServerSideEncryption") == "aws:kms" and head.get("SSEKMSKeyId") == key_arn:
                continue
            # the upload rule compares the key-id header with the key's ARN: always send the ARN here
            if opts.migration == "reupload":
                body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
                s3.put_object(Bucket=bucket, Key=key, Body=body, ServerSideEncryption="aws:kms",
                              SSEKMSKeyId=key_arn, BucketKeyEnabled=True)
            else:
                s3.copy_object(Bucket=bucket, Key=key, CopySource={"Bucket": bucket, "Key": key},
                               ServerSideEncryption="aws:kms", SSEKMSKeyId=key_arn, BucketKeyEnabled=True,
                               MetadataDirective="COPY")
            count += 1
        after = {o["Key"]: o["ETag"] for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket)
                 for o in page.get("Contents", [])}
        if after != before:
            raise RuntimeError(f"migration changed {bucket}: {sorted(k for k in before if after.get(k) != before[k])}")
        done[bucket] = count
    return done


# ------------------------------------------------------------------------------------------------ 4. training


def training_policy(facts: dict[str, Any], key_arn: str) -> str:
    data, art = f"arn:aws:s3:::{facts['data_bucket']}", f"arn:aws:s3:::{facts['artifact_bucket']}"
    return _doc(
        {"Sid": "ListTrainingData", "Effect": "Allow", "Action": "s3:ListBucket", "Resource": data},
        {"Sid": "ReadTrainingData", "Effect": "Allow", "Action": "s3:GetObject", "Resource": f"{data}/*"},
        {"Sid": "WriteModelArtifacts", "Effect": "Allow", "Action": "s3:PutObject",
         "Resource": f"{art}/{facts['training_output_prefix']}*"},
        {"Sid": "UsePipelineKeyThroughS3AndSageMaker", "Effect": "Allow",
         "Action": ["kms:Decrypt", "kms:GenerateDataKey"], "Resource": key_arn,
         "Condition": {"StringEquals": {"kms:ViaService": _services()}}},
        {"Sid": "GrantsForTrainingVolumes", "Effect": "Allow", "Action": "kms:CreateGrant", "Resource": key_arn,
         "Condition": {"Bool": {"kms:GrantIsForAWSResource": "true"}}},
    )


def fix_training_role(ctx: Any, facts: dict[str, Any], key_arn: str) -> None:
    iam = ctx.client("iam")
    role = facts["training_role"]
    attached = [p["PolicyArn"] for p in iam.list_attached_role_policies(RoleName=role)["AttachedPolicies"]]
    for arn in attached:
        if arn == "arn:aws:iam::aws:policy/AmazonS3FullAccess":
            iam.detach_role_policy(RoleName=role, PolicyArn=arn)
    if "kms-everything" in iam.list_role_policies(RoleName=role)["PolicyNames"]:
        iam.delete_role_policy(RoleName=role, PolicyName="kms-everything")
    iam.put_role_policy(RoleName=role, PolicyName="training-data-access",
                        PolicyDocument=training_policy(facts, key_arn))


def widen_other_roles(ctx: Any, facts: dict[str, Any], key_arn: str) -> None:
    """Root-delegation alternative only: the key policy hands use to IAM, so the inference and steward roles'
    IAM policies must grant it on this key (scoped to the two services)."""
    iam = ctx.client("iam")
    for role in (facts["inference_role"], facts["steward_role"]):
        iam.put_role_policy(RoleName=role, PolicyName="pipeline-key-use", PolicyDocument=_doc(
            {"Effect": "Allow", "Action": ["kms:Decrypt", "kms:GenerateDataKey"], "Resource": key_arn,
             "Condition": {"StringEquals": {"kms:ViaService": _services()}}}))


def training_job(ctx: Any, facts: dict[str, Any], key_arn: str, opts: Options, name: str | None = None,
                 **override: Any) -> str:
    """Run the training job (once; jobs cannot be changed, so a fixed job is a new job with a new name)."""
    sm = ctx.client("sagemaker")
    prefix = facts["training_job_prefix"]
    jobs = sorted((j for j in sm.list_training_jobs(MaxResults=100)["TrainingJobSummaries"]
                   if j["TrainingJobName"].startswith(prefix)), key=lambda j: j["CreationTime"])
    ref = key_ref(facts, key_arn, opts)
    if name is None and jobs:
        latest = sm.describe_training_job(TrainingJobName=jobs[-1]["TrainingJobName"])
        if (latest["ResourceConfig"].get("VolumeKmsKeyId") == ref and latest["OutputDataConfig"].get("KmsKeyId") == ref
                and latest.get("EnableNetworkIsolation") and latest.get("RoleArn") == facts["training_role_arn"]):
            return str(latest["TrainingJobName"])  # already done (solve is idempotent)
    if name is None:
        taken = {j["TrainingJobName"] for j in jobs}
        name = next(f"{prefix}-{i:03d}" for i in range(1, 1000) if f"{prefix}-{i:03d}" not in taken)
    args: dict[str, Any] = {
        "TrainingJobName": name,
        "RoleArn": facts["training_role_arn"],
        "AlgorithmSpecification": {"TrainingImage": facts["training_image"], "TrainingInputMode": "File"},
        "HyperParameters": {"objective": "binary:logistic", "num_round": "50"},
        "InputDataConfig": [
            {"ChannelName": "train", "ContentType": "text/csv", "DataSource": {"S3DataSource": {
                "S3DataType": "S3Prefix", "S3Uri": f"s3://{facts['data_bucket']}/curated/train.csv"}}},
            {"ChannelName": "validation", "ContentType": "text/csv", "DataSource": {"S3DataSource": {
                "S3DataType": "S3Prefix", "S3Uri": f"s3://{facts['data_bucket']}/curated/validation.csv"}}}],
        "OutputDataConfig": {"S3OutputPath": f"s3://{facts['artifact_bucket']}/{facts['training_output_prefix']}",
                             "KmsKeyId": ref},
        "ResourceConfig": {"InstanceType": "ml.m5.xlarge", "InstanceCount": 2, "VolumeSizeInGB": 30,
                           "VolumeKmsKeyId": ref},
        "StoppingCondition": {"MaxRuntimeInSeconds": 3600},
        "VpcConfig": {"SecurityGroupIds": [facts["training_sg"]], "Subnets": facts["private_subnets"]},
        "EnableNetworkIsolation": True,
        "EnableInterContainerTrafficEncryption": True,
    }
    for k, v in override.items():
        if v is None:
            args.pop(k, None)
        else:
            args[k] = v
    sm.create_training_job(**args)
    return name


def deploy(ctx: Any, facts: dict[str, Any], key_arn: str, job: str, opts: Options, version: str = "v1",
           kms: bool = True) -> None:
    """Model from the job's artifacts, an endpoint config encrypted with the key, and the endpoint moved to it."""
    sm = ctx.client("sagemaker")
    p = facts["project"]
    model, config = f"{p}-model-{version}", f"{p}-config-{version}"
    artifacts = sm.describe_training_job(TrainingJobName=job)["ModelArtifacts"]["S3ModelArtifacts"]
    if model not in {m["ModelName"] for m in sm.list_models(MaxResults=100)["Models"]}:
        sm.create_model(ModelName=model, ExecutionRoleArn=facts["inference_role_arn"],
                        PrimaryContainer={"Image": facts["training_image"], "ModelDataUrl": artifacts},
                        VpcConfig={"SecurityGroupIds": [facts["training_sg"]], "Subnets": facts["private_subnets"]},
                        EnableNetworkIsolation=True)
    configs = {c["EndpointConfigName"] for c in sm.list_endpoint_configs(MaxResults=100)["EndpointConfigs"]}
    if config not in configs:
        extra = {"KmsKeyId": key_ref(facts, key_arn, opts)} if kms else {}
        sm.create_endpoint_config(EndpointConfigName=config, ProductionVariants=[{
            "VariantName": "primary", "ModelName": model, "InitialInstanceCount": 1,
            "InstanceType": "ml.m5.large"}], **extra)
    current = None
    try:
        current = sm.describe_endpoint(EndpointName=facts["endpoint"])["EndpointConfigName"]
    except ClientError:
        pass
    if current == config:
        return
    if current is not None:
        # AWS: sm.update_endpoint(EndpointName=..., EndpointConfigName=config) switches with no downtime;
        # the simulator does not implement UpdateEndpoint, so replace the endpoint
        sm.delete_endpoint(EndpointName=facts["endpoint"])
    sm.create_endpoint(EndpointName=facts["endpoint"], EndpointConfigName=config)


# ------------------------------------------------------------------------------------------------ 5. transit, audit


def self_signed_certificate(domain: str) -> tuple[bytes, bytes]:
    """A certificate for the internal API name (in production: ACM-issued, or from your private CA)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, domain)])
    now = dt.datetime.now(dt.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=397))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(domain)]), critical=False)
            .sign(key, hashes.SHA256()))
    return (cert.public_bytes(serialization.Encoding.PEM),
            key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                              serialization.NoEncryption()))


def front_door(ctx: Any, facts: dict[str, Any], ssl_policy: str = TLS_POLICY) -> str:
    acm, elb = ctx.client("acm"), ctx.client("elbv2")
    certs = [c for c in acm.list_certificates()["CertificateSummaryList"] if c["DomainName"] == facts["api_domain"]]
    if certs:
        cert_arn = certs[0]["CertificateArn"]
    else:
        pem, key = self_signed_certificate(facts["api_domain"])
        cert_arn = acm.import_certificate(Certificate=pem, PrivateKey=key)["CertificateArn"]
    lbs = [lb for lb in elb.describe_load_balancers()["LoadBalancers"]
           if lb["LoadBalancerName"] == facts["load_balancer"]]
    lb_arn = lbs[0]["LoadBalancerArn"] if lbs else elb.create_load_balancer(
        Name=facts["load_balancer"], Subnets=facts["private_subnets"], SecurityGroups=[facts["api_sg"]],
        Scheme="internal", Type="application", IpAddressType="ipv4")["LoadBalancers"][0]["LoadBalancerArn"]
    tg_name = f"{facts['project']}-inference"
    tgs = [t for t in elb.describe_target_groups()["TargetGroups"] if t["TargetGroupName"] == tg_name]
    tg_arn = tgs[0]["TargetGroupArn"] if tgs else elb.create_target_group(
        Name=tg_name, Protocol="HTTPS", Port=443, VpcId=facts["vpc_id"], TargetType="ip",
        HealthCheckProtocol="HTTPS", HealthCheckPath="/ping")["TargetGroups"][0]["TargetGroupArn"]
    listeners = elb.describe_listeners(LoadBalancerArn=lb_arn)["Listeners"]
    https = [x for x in listeners if x["Protocol"] == "HTTPS" and x["Port"] == 443]
    if https:
        elb.modify_listener(ListenerArn=https[0]["ListenerArn"], SslPolicy=ssl_policy,
                            Certificates=[{"CertificateArn": cert_arn}])
    else:
        elb.create_listener(LoadBalancerArn=lb_arn, Protocol="HTTPS", Port=443, SslPolicy=ssl_policy,
                            Certificates=[{"CertificateArn": cert_arn}],
                            DefaultActions=[{"Type": "forward", "TargetGroupArn": tg_arn}])
    return lb_arn


def trail_key_statement(facts: dict[str, Any]) -> dict[str, Any]:
    acct = facts["account_id"]
    trail_arn = f"arn:aws:cloudtrail:{REGION}:{acct}:trail/{facts['trail_name']}"
    return {"Sid": "AllowCloudTrailToEncryptLogs", "Effect": "Allow",
            "Principal": {"Service": "cloudtrail.amazonaws.com"}, "Action": "kms:GenerateDataKey*", "Resource": "*",
            "Condition": {"StringEquals": {"aws:SourceArn": trail_arn},
                          "StringLike": {"kms:EncryptionContext:aws:cloudtrail:arn":
                                         f"arn:aws:cloudtrail:*:{acct}:trail/*"}}}


def audit_key_policy(facts: dict[str, Any]) -> str:
    return _doc(
        {"Sid": "KeyAdministrators", "Effect": "Allow",
         "Principal": {"AWS": [facts["key_admin_role_arn"], facts["learner_arn"]]}, "Action": ADMIN_ACTIONS,
         "Resource": "*"},
        trail_key_statement(facts),
        {"Sid": "AllowCloudTrailToDescribeKey", "Effect": "Allow", "Principal": {"Service": "cloudtrail.amazonaws.com"},
         "Action": "kms:DescribeKey", "Resource": "*"},
        {"Sid": "AuditorsReadLogs", "Effect": "Allow", "Principal": {"AWS": facts["key_admin_role_arn"]},
         "Action": "kms:Decrypt", "Resource": "*",
         "Condition": {"Null": {"kms:EncryptionContext:aws:cloudtrail:arn": "false"}}},
    )


def trail(ctx: Any, facts: dict[str, Any], key_arn: str, opts: Options, validation: bool = True) -> None:
    if opts.trail_key == "pipeline":
        policy = json.loads(key_policy(facts, opts))
        policy["Statement"].append(trail_key_statement(facts))
        ctx.client("kms").put_key_policy(KeyId=key_arn, PolicyName="default", Policy=json.dumps(policy))
        trail_key = key_arn
    else:
        trail_key = ensure_key(ctx, facts["audit_key_alias"], "Audit log encryption (CloudTrail)",
                               audit_key_policy(facts))
    ct = ctx.client("cloudtrail")
    names = {t["Name"] for t in ct.describe_trails(includeShadowTrails=False)["trailList"]}
    args = {"Name": facts["trail_name"], "S3BucketName": facts["trail_bucket"], "KmsKeyId": trail_key,
            "EnableLogFileValidation": validation, "IsMultiRegionTrail": True, "IncludeGlobalServiceEvents": True}
    if facts["trail_name"] in names:
        ct.update_trail(**args)
    else:
        ct.create_trail(**args)
    ct.start_logging(Name=facts["trail_name"])


def look_up_key_events(ctx: Any, key_arn: str) -> list[dict[str, Any]]:
    ct = ctx.client("cloudtrail")
    events = ct.lookup_events(LookupAttributes=[{"AttributeKey": "EventSource",
                                                 "AttributeValue": "kms.amazonaws.com"}], MaxResults=50)["Events"]
    return [e for e in events if any(key_arn.endswith(r.get("ResourceName", "-")) for r in e.get("Resources", []))]


def endpoint_policy(facts: dict[str, Any]) -> str:
    resources = [f"arn:aws:s3:::{b}{s}" for b in (facts["data_bucket"], facts["artifact_bucket"]) for s in ("", "/*")]
    return _doc({"Sid": "OnlyThePipelineBuckets", "Effect": "Allow", "Principal": "*",
                 "Action": ["s3:GetObject", "s3:PutObject", "s3:ListBucket", "s3:GetBucketLocation"],
                 "Resource": resources})


def perimeter(ctx: Any, facts: dict[str, Any], key_arn: str, opts: Options) -> None:
    ctx.client("ec2").modify_vpc_endpoint(VpcEndpointId=facts["s3_endpoint_id"], PolicyDocument=endpoint_policy(facts))
    configure_buckets(ctx, facts, key_arn, opts, perimeter=True)


# ------------------------------------------------------------------------------------------------ all of it


def solve(ctx: Any, facts: dict[str, Any], **options: Any) -> None:
    opts = Options(**options)
    key_arn = ensure_key(ctx, facts["key_alias"], "ML pipeline data, models and volumes", key_policy(facts, opts))
    configure_buckets(ctx, facts, key_arn, opts, perimeter=False)
    migrate(ctx, facts, key_arn, opts)
    fix_training_role(ctx, facts, key_arn)
    if opts.key_policy == "root_delegation":
        widen_other_roles(ctx, facts, key_arn)
    job = training_job(ctx, facts, key_arn, opts)
    deploy(ctx, facts, key_arn, job, opts)
    front_door(ctx, facts)
    trail(ctx, facts, key_arn, opts)
    perimeter(ctx, facts, key_arn, opts)
    if opts.look_up_events:
        look_up_key_events(ctx, key_arn)
