"""cmk-pipeline set-up: a brownfield ML pipeline whose data is encrypted, but with keys the team does not control.

What the learner inherits (names, CIDRs and data vary with the learner's seed; S3 names carry a seed suffix because
bucket names are global in the simulator):
- a data bucket with sensitive training data and an artifact bucket with a baseline model, both defaulting to SSE-S3
  and holding objects written with SSE-S3 (the brownfield to migrate);
- a VPC with two private subnets (no internet route), a security group for training and one for the HTTPS front
  door, and an S3 gateway endpoint that still has the wide-open default policy;
- four roles: key administrators, the training role (far too broad: AmazonS3FullAccess plus kms:* on *), the
  inference role and the data-steward role that loads data from outside the VPC;
- a SageMaker endpoint serving the baseline model through an endpoint config that names no KMS key;
- a bucket for CloudTrail log files (with the bucket policy CloudTrail needs), but no trail.

The facts record every name and id, and each object's size, MD5 (= its ETag for a single-part upload) and SHA-256,
so the migration can be graded object by object. Idempotent: every step finds what exists before creating it, and
nothing the learner may have changed (encryption, policies, objects) is ever rewritten.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import json
import random
from typing import Any

from botocore.exceptions import ClientError

PROJECTS = ("fraud", "churn", "claims", "triage", "credit", "demand")
REGION = "us-east-1"
TRAINING_IMAGE = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1"
INFERENCE_IMAGE = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1"
IMAGE_REPOSITORY = "arn:aws:ecr:us-east-1:683313688378:repository/sagemaker-xgboost"
# What a key administrator does (the KMS default key policy's administrators statement, with kms:Create* narrowed
# to CreateAlias: kms:Create* also matches kms:CreateGrant, which hands out use of the key).
KEY_ADMIN_ACTIONS = [
    "kms:CreateAlias", "kms:UpdateAlias", "kms:DeleteAlias", "kms:DescribeKey", "kms:List*", "kms:Get*",
    "kms:PutKeyPolicy", "kms:EnableKey", "kms:DisableKey", "kms:EnableKeyRotation", "kms:DisableKeyRotation",
    "kms:RotateKeyOnDemand", "kms:UpdateKeyDescription", "kms:RevokeGrant", "kms:TagResource", "kms:UntagResource",
    "kms:ScheduleKeyDeletion", "kms:CancelKeyDeletion",
]
_FIRST = ("Ana", "Ben", "Chen", "Dara", "Eli", "Fatima", "Gus", "Hana", "Ivo", "Jun", "Kofi", "Lena", "Mika", "Nia")
_LAST = ("Silva", "Okafor", "Novak", "Tanaka", "Meyer", "Haddad", "Larsen", "Ruiz", "Kowalski", "Ito", "Adeyemi")


def _doc(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def names(seed: int, account: str, learner: str) -> dict[str, Any]:
    """Every seed-derived name and number of the scenario (pure: the same seed always gives the same names)."""
    rng = random.Random(seed)
    project = rng.choice(PROJECTS)
    suffix = f"{seed:012x}"[-10:]
    second = rng.randint(16, 199)
    p = project
    return {
        "project": p,
        "suffix": suffix,
        "vpc_cidr": f"10.{second}.0.0/16",
        "private_subnet_cidrs": [f"10.{second}.{n}.0/24" for n in rng.sample(range(10, 120), 2)],
        "key_alias": f"alias/{p}-pipeline",
        "audit_key_alias": f"alias/{p}-audit",
        "data_bucket": f"{p}-training-data-{suffix}",
        "artifact_bucket": f"{p}-model-artifacts-{suffix}",
        "trail_bucket": f"{p}-audit-logs-{suffix}",
        "trail_name": f"{p}-audit-trail",
        "key_admin_role": f"{p}-key-admin",
        "training_role": f"{p}-training",
        "inference_role": f"{p}-inference",
        "steward_role": f"{p}-data-steward",
        "training_job_prefix": f"{p}-train",
        "training_output_prefix": "training-output/",
        "training_image": TRAINING_IMAGE,
        "endpoint": f"{p}-endpoint",
        "baseline_model": f"{p}-model-v0",
        "baseline_endpoint_config": f"{p}-config-v0",
        "load_balancer": f"{p}-api",
        "api_domain": f"{p}-api.ml.example.internal",
        "training_sg_name": f"{p}-training-sg",
        "api_sg_name": f"{p}-api-sg",
        "account_id": account,
        "learner_arn": f"arn:aws:iam::{account}:user/{learner}",
        "data_rows": rng.randint(30, 60),
        "months": rng.sample(range(1, 13), rng.randint(2, 4)),
        "with_pii": rng.random() < 0.7,
    }


# ------------------------------------------------------------------------------------------------ the data


def _csv(rows: list[list[Any]]) -> bytes:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(rows)
    return buf.getvalue().encode()


def objects(n: dict[str, Any], seed: int) -> dict[str, dict[str, bytes]]:
    """The brownfield's objects, bucket -> key -> content; deterministic from the seed (setup is idempotent)."""
    rng = random.Random(seed ^ 0x5EC1AB)
    data: dict[str, bytes] = {}
    header = ["txn_id", "customer_id", "amount", "merchant_category", "hour", "label"]
    for month in sorted(n["months"]):
        rows: list[list[Any]] = [header]
        for i in range(n["data_rows"]):
            rows.append([f"T{month:02d}{i:05d}", f"C{rng.randint(10000, 99999)}", f"{rng.uniform(1, 900):.2f}",
                         rng.choice(["grocery", "travel", "fuel", "online", "atm"]), rng.randint(0, 23),
                         int(rng.random() < 0.08)])
        data[f"raw/transactions-2025-{month:02d}.csv"] = _csv(rows)
    features = [["amount", "merchant_category", "hour", "label"]]
    for _ in range(n["data_rows"] * 2):
        features.append([f"{rng.uniform(1, 900):.2f}", rng.randint(0, 4), rng.randint(0, 23), int(rng.random() < 0.1)])
    cut = len(features) * 4 // 5
    data["curated/train.csv"] = _csv(features[:cut])
    data["curated/validation.csv"] = _csv([features[0], *features[cut:]])
    data["schema/features.json"] = json.dumps({"label": "label", "features": features[0][:-1],
                                                "source": "raw/transactions-*.csv"}, indent=2).encode()
    if n["with_pii"]:
        people = [["customer_id", "name", "email", "iban"]]
        for _ in range(12):
            first, last = rng.choice(_FIRST), rng.choice(_LAST)
            people.append([f"C{rng.randint(10000, 99999)}", f"{first} {last}",
                           f"{first.lower()}.{last.lower()}@example.com",
                           f"DE{rng.randint(10, 99)}{rng.randint(10**17, 10**18 - 1)}"])
        data["pii/customers.csv"] = _csv(people)
    model_blob = gzip.compress(bytes(rng.getrandbits(8) for _ in range(1536)), mtime=0)
    artifacts = {
        "models/v0/model.tar.gz": model_blob,
        "models/v0/metrics.json": json.dumps({"auc": round(rng.uniform(0.80, 0.91), 4),
                                              "f1": round(rng.uniform(0.5, 0.7), 4)}).encode(),
        "code/train.py": (b"import xgboost as xgb\n\n# trains the baseline model from curated/train.csv\n"
                          b"params = {'max_depth': %d, 'eta': 0.2, 'objective': 'binary:logistic'}\n"
                          % rng.randint(3, 8)),
        "code/requirements.txt": b"xgboost==1.7.6\npandas==2.2.2\n",
    }
    return {n["data_bucket"]: data, n["artifact_bucket"]: artifacts}


def inventory_of(contents: dict[str, dict[str, bytes]]) -> dict[str, list[dict[str, Any]]]:
    """Facts about each object: the migration must keep every one, byte for byte."""
    return {bucket: [{"key": k, "size": len(body), "md5": hashlib.md5(body).hexdigest(),  # noqa: S324 - = S3 ETag
                      "sha256": hashlib.sha256(body).hexdigest()} for k, body in sorted(items.items())]
            for bucket, items in contents.items()}


# ------------------------------------------------------------------------------------------------ AWS steps


def _tag(name: str) -> list[dict[str, Any]]:
    return [{"Key": "Name", "Value": name}, {"Key": "seclab-lab", "Value": "cmk-pipeline"}]


def _network(ctx: Any, n: dict[str, Any]) -> dict[str, Any]:
    ec2 = ctx.client("ec2")
    p = n["project"]

    def find(kind: str, name: str, **filters: Any) -> list[dict[str, Any]]:
        flt = [{"Name": "tag:Name", "Values": [name]}] + [{"Name": k, "Values": [v]} for k, v in filters.items()]
        return getattr(ec2, f"describe_{kind}")(Filters=flt)

    vpcs = find("vpcs", f"{p}-vpc")["Vpcs"]
    if vpcs:
        vpc_id = vpcs[0]["VpcId"]
    else:
        vpc_id = ec2.create_vpc(CidrBlock=n["vpc_cidr"], TagSpecifications=[
            {"ResourceType": "vpc", "Tags": _tag(f"{p}-vpc")}])["Vpc"]["VpcId"]
        ec2.modify_vpc_attribute(VpcId=vpc_id, EnableDnsHostnames={"Value": True})
    subnets: list[str] = []
    tables: list[str] = []
    for i, (cidr, az) in enumerate(zip(n["private_subnet_cidrs"], ("a", "b"))):
        name = f"{p}-private-{az}"
        found = find("subnets", name, **{"vpc-id": vpc_id})["Subnets"]
        subnet = found[0]["SubnetId"] if found else ec2.create_subnet(
            VpcId=vpc_id, CidrBlock=cidr, AvailabilityZone=f"{REGION}{az}",
            TagSpecifications=[{"ResourceType": "subnet", "Tags": _tag(name)}])["Subnet"]["SubnetId"]
        subnets.append(subnet)
        rt_name = f"{p}-private-rt-{az}"
        rts = find("route_tables", rt_name, **{"vpc-id": vpc_id})["RouteTables"]
        if rts:
            rt = rts[0]["RouteTableId"]
        else:
            rt = ec2.create_route_table(VpcId=vpc_id, TagSpecifications=[
                {"ResourceType": "route-table", "Tags": _tag(rt_name)}])["RouteTable"]["RouteTableId"]
            ec2.associate_route_table(RouteTableId=rt, SubnetId=subnet)
        tables.append(rt)
        del i
    sgs: dict[str, str] = {}
    for key, name, desc in (("training_sg", n["training_sg_name"], "SageMaker training containers (no inbound)"),
                            ("api_sg", n["api_sg_name"], "HTTPS front door: 443 from inside the VPC only")):
        found = ec2.describe_security_groups(Filters=[{"Name": "vpc-id", "Values": [vpc_id]},
                                                      {"Name": "group-name", "Values": [name]}])["SecurityGroups"]
        if found:
            sgs[key] = found[0]["GroupId"]
            continue
        gid = ec2.create_security_group(GroupName=name, Description=desc, VpcId=vpc_id,
                                        TagSpecifications=[{"ResourceType": "security-group",
                                                            "Tags": _tag(name)}])["GroupId"]
        if key == "api_sg":
            ec2.authorize_security_group_ingress(GroupId=gid, IpPermissions=[{
                "IpProtocol": "tcp", "FromPort": 443, "ToPort": 443,
                "IpRanges": [{"CidrIp": n["vpc_cidr"], "Description": "clients inside the VPC"}]}])
        sgs[key] = gid
    service = f"com.amazonaws.{REGION}.s3"
    eps = [e for e in ec2.describe_vpc_endpoints(Filters=[{"Name": "vpc-id", "Values": [vpc_id]}])["VpcEndpoints"]
           if e.get("ServiceName") == service and e.get("VpcEndpointType") == "Gateway"
           and e.get("State", "available").lower() not in ("deleted", "deleting")]
    if eps:
        endpoint = eps[0]["VpcEndpointId"]
    else:
        # the brownfield: the default endpoint policy (everything, for everyone, to any bucket in the world)
        endpoint = ec2.create_vpc_endpoint(VpcId=vpc_id, ServiceName=service, VpcEndpointType="Gateway",
                                           RouteTableIds=tables, TagSpecifications=[
                                               {"ResourceType": "vpc-endpoint", "Tags": _tag(f"{p}-s3")}]
                                           )["VpcEndpoint"]["VpcEndpointId"]
    return {"vpc_id": vpc_id, "private_subnets": subnets, "private_route_tables": tables,
            "s3_endpoint_id": endpoint, "training_sg": sgs["training_sg"], "api_sg": sgs["api_sg"]}


def _buckets(ctx: Any, n: dict[str, Any], contents: dict[str, dict[str, bytes]]) -> None:
    s3 = ctx.client("s3")
    existing = {b["Name"] for b in s3.list_buckets().get("Buckets", [])}
    for bucket in (n["data_bucket"], n["artifact_bucket"]):
        if bucket not in existing:
            s3.create_bucket(Bucket=bucket)
            s3.put_bucket_encryption(Bucket=bucket, ServerSideEncryptionConfiguration={
                "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]})
            s3.put_public_access_block(Bucket=bucket, PublicAccessBlockConfiguration={
                "BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True,
                "RestrictPublicBuckets": True})
            s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Suspended"})
        present = {o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", [])}
        for key, body in sorted(contents[bucket].items()):
            if key not in present:  # never rewrite: that would undo the learner's migration
                s3.put_object(Bucket=bucket, Key=key, Body=body, ServerSideEncryption="AES256")
    if n["trail_bucket"] not in existing:
        s3.create_bucket(Bucket=n["trail_bucket"])
        s3.put_public_access_block(Bucket=n["trail_bucket"], PublicAccessBlockConfiguration={
            "BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True,
            "RestrictPublicBuckets": True})
        trail_arn = f"arn:aws:cloudtrail:{REGION}:{n['account_id']}:trail/{n['trail_name']}"
        arn = f"arn:aws:s3:::{n['trail_bucket']}"
        s3.put_bucket_policy(Bucket=n["trail_bucket"], Policy=_doc(
            {"Sid": "AWSCloudTrailAclCheck", "Effect": "Allow", "Principal": {"Service": "cloudtrail.amazonaws.com"},
             "Action": "s3:GetBucketAcl", "Resource": arn, "Condition": {"StringEquals": {"aws:SourceArn": trail_arn}}},
            {"Sid": "AWSCloudTrailWrite", "Effect": "Allow", "Principal": {"Service": "cloudtrail.amazonaws.com"},
             "Action": "s3:PutObject", "Resource": f"{arn}/AWSLogs/{n['account_id']}/*",
             "Condition": {"StringEquals": {"s3:x-amz-acl": "bucket-owner-full-control",
                                            "aws:SourceArn": trail_arn}}},
            {"Sid": "DenyInsecureTransport", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
             "Resource": [arn, f"{arn}/*"], "Condition": {"Bool": {"aws:SecureTransport": "false"}}},
        ))


def _roles(ctx: Any, n: dict[str, Any]) -> dict[str, str]:
    iam = ctx.client("iam")
    acct = n["account_id"]
    data, art = f"arn:aws:s3:::{n['data_bucket']}", f"arn:aws:s3:::{n['artifact_bucket']}"
    account_trust = _doc({"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{acct}:root"},
                          "Action": "sts:AssumeRole"})
    sagemaker_trust = _doc({"Effect": "Allow", "Principal": {"Service": "sagemaker.amazonaws.com"},
                            "Action": "sts:AssumeRole",
                            "Condition": {"StringEquals": {"aws:SourceAccount": acct}}})
    runtime = _doc(
        {"Sid": "Logs", "Effect": "Allow",
         "Action": ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
         "Resource": f"arn:aws:logs:{REGION}:{acct}:log-group:/aws/sagemaker/*"},
        {"Sid": "EcrLogin", "Effect": "Allow", "Action": "ecr:GetAuthorizationToken", "Resource": "*"},
        {"Sid": "PullTrainingImage", "Effect": "Allow",
         "Action": ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:BatchCheckLayerAvailability"],
         "Resource": IMAGE_REPOSITORY},
        {"Sid": "VpcNetworkInterfaces", "Effect": "Allow",
         "Action": ["ec2:CreateNetworkInterface", "ec2:CreateNetworkInterfacePermission",
                    "ec2:DeleteNetworkInterface", "ec2:DeleteNetworkInterfacePermission",
                    "ec2:DescribeNetworkInterfaces", "ec2:DescribeVpcs", "ec2:DescribeDhcpOptions",
                    "ec2:DescribeSubnets", "ec2:DescribeSecurityGroups"], "Resource": "*"},
    )
    specs: dict[str, tuple[str, str, dict[str, str], list[str]]] = {
        "key_admin_role": (n["key_admin_role"], account_trust, {
            "kms-key-administration": _doc({"Sid": "AdministerKeys", "Effect": "Allow",
                                            "Action": ["kms:CreateKey", *KEY_ADMIN_ACTIONS], "Resource": "*"})},
            []),
        # the brownfield's problem child: "it worked in the notebook, ship it"
        "training_role": (n["training_role"], sagemaker_trust, {
            "kms-everything": _doc({"Sid": "KmsForTraining", "Effect": "Allow", "Action": "kms:*", "Resource": "*"}),
            "training-runtime": runtime,
        }, ["arn:aws:iam::aws:policy/AmazonS3FullAccess"]),
        "inference_role": (n["inference_role"], sagemaker_trust, {
            "model-read": _doc({"Sid": "ReadModels", "Effect": "Allow", "Action": "s3:GetObject",
                                "Resource": f"{art}/*"},
                               {"Sid": "DecryptModels", "Effect": "Allow", "Action": "kms:Decrypt", "Resource": "*"}),
            "inference-runtime": runtime,
        }, []),
        "steward_role": (n["steward_role"], account_trust, {
            "data-load": _doc({"Sid": "LoadData", "Effect": "Allow",
                               "Action": ["s3:GetObject", "s3:PutObject", "s3:ListBucket"],
                               "Resource": [data, f"{data}/*", art, f"{art}/*"]},
                              {"Sid": "EncryptData", "Effect": "Allow",
                               "Action": ["kms:Decrypt", "kms:GenerateDataKey"], "Resource": "*"})}, []),
    }
    arns: dict[str, str] = {}
    for fact, (name, trust, inline, managed) in specs.items():
        try:
            arns[fact + "_arn"] = iam.get_role(RoleName=name)["Role"]["Arn"]
            continue  # exists: the learner may have fixed its policies; never put the brownfield back
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "NoSuchEntity":
                raise
        arns[fact + "_arn"] = iam.create_role(RoleName=name, AssumeRolePolicyDocument=trust,
                                              Tags=[{"Key": "seclab-lab", "Value": "cmk-pipeline"}])["Role"]["Arn"]
        for pname, pdoc in inline.items():
            iam.put_role_policy(RoleName=name, PolicyName=pname, PolicyDocument=pdoc)
        for parn in managed:
            iam.attach_role_policy(RoleName=name, PolicyArn=parn)
    return arns


def _endpoint(ctx: Any, n: dict[str, Any], inference_role_arn: str) -> None:
    sm = ctx.client("sagemaker")
    # (the simulator ignores NameContains: compare names exactly)
    if n["baseline_model"] not in {m["ModelName"] for m in sm.list_models(MaxResults=100).get("Models", [])}:
        sm.create_model(ModelName=n["baseline_model"], ExecutionRoleArn=inference_role_arn, PrimaryContainer={
            "Image": INFERENCE_IMAGE, "ModelDataUrl": f"s3://{n['artifact_bucket']}/models/v0/model.tar.gz"})
    configs = sm.list_endpoint_configs(MaxResults=100).get("EndpointConfigs", [])
    if not any(c["EndpointConfigName"] == n["baseline_endpoint_config"] for c in configs):
        sm.create_endpoint_config(EndpointConfigName=n["baseline_endpoint_config"], ProductionVariants=[{
            "VariantName": "baseline", "ModelName": n["baseline_model"], "InitialInstanceCount": 1,
            "InstanceType": "ml.m5.large"}])  # no KmsKeyId: the instance volumes get a key AWS owns
    endpoints = sm.list_endpoints(MaxResults=100).get("Endpoints", [])
    if not any(e["EndpointName"] == n["endpoint"] for e in endpoints):
        sm.create_endpoint(EndpointName=n["endpoint"], EndpointConfigName=n["baseline_endpoint_config"])


FACT_KEYS = ("project", "key_alias", "audit_key_alias", "data_bucket", "artifact_bucket", "trail_bucket",
             "trail_name", "key_admin_role", "training_role", "inference_role", "steward_role", "training_job_prefix",
             "training_output_prefix", "training_image", "endpoint", "baseline_model", "baseline_endpoint_config",
             "load_balancer", "api_domain", "vpc_cidr", "learner_arn")


def setup(ctx: Any) -> dict[str, Any]:
    identity = ctx.client("sts").get_caller_identity()
    n = names(ctx.seed, ctx.account_id, ctx.learner)
    n["learner_arn"] = identity["Arn"]
    contents = objects(n, ctx.seed)
    net = _network(ctx, n)
    _buckets(ctx, n, contents)
    roles = _roles(ctx, n)
    _endpoint(ctx, n, roles["inference_role_arn"])
    facts: dict[str, Any] = {k: n[k] for k in FACT_KEYS}
    facts.update(net)
    facts.update(roles)
    facts["pipeline_role_arns"] = [roles["training_role_arn"], roles["inference_role_arn"], roles["steward_role_arn"]]
    facts["perimeter_exempt_arns"] = [roles["steward_role_arn"], n["learner_arn"]]
    facts["objects"] = inventory_of(contents)
    return facts


# ------------------------------------------------------------------------------------------------ reset


def _quietly(call: Any, *args: Any, **kwargs: Any) -> Any:
    """One reset step: a resource that is already gone is fine."""
    try:
        return call(*args, **kwargs)
    except ClientError:
        return None


def reset(ctx: Any, facts: dict[str, Any]) -> None:
    """Undo the learner's work so that set-up (which runs next) rebuilds the brownfield.

    Roles are deleted and re-created by set-up with their brownfield policies; objects are rewritten with SSE-S3
    and their original bytes. SageMaker training jobs cannot be deleted (no such API): they stay, and the graders
    judge the latest one, so after a reset the learner's earlier job is still visible until a new one runs.
    """
    n = names(ctx.seed, ctx.account_id, ctx.learner)
    p = n["project"]
    elb, acm, ct = ctx.client("elbv2"), ctx.client("acm"), ctx.client("cloudtrail")
    for lb in (_quietly(elb.describe_load_balancers, Names=[n["load_balancer"]]) or {}).get("LoadBalancers", []):
        for lst in elb.describe_listeners(LoadBalancerArn=lb["LoadBalancerArn"])["Listeners"]:
            _quietly(elb.delete_listener, ListenerArn=lst["ListenerArn"])
        _quietly(elb.delete_load_balancer, LoadBalancerArn=lb["LoadBalancerArn"])
    for tg in (_quietly(elb.describe_target_groups) or {}).get("TargetGroups", []):
        if tg["TargetGroupName"].startswith(p):
            _quietly(elb.delete_target_group, TargetGroupArn=tg["TargetGroupArn"])
    for cert in acm.list_certificates()["CertificateSummaryList"]:
        if cert["DomainName"] == n["api_domain"]:
            _quietly(acm.delete_certificate, CertificateArn=cert["CertificateArn"])
    if any(t["Name"] == n["trail_name"] for t in ct.describe_trails()["trailList"]):
        _quietly(ct.stop_logging, Name=n["trail_name"])
        _quietly(ct.delete_trail, Name=n["trail_name"])
    kms = ctx.client("kms")
    for alias in kms.list_aliases()["Aliases"]:
        if alias["AliasName"] in (n["key_alias"], n["audit_key_alias"]):
            kms.delete_alias(AliasName=alias["AliasName"])
            if alias.get("TargetKeyId"):
                _quietly(kms.schedule_key_deletion, KeyId=alias["TargetKeyId"], PendingWindowInDays=7)
    sm = ctx.client("sagemaker")
    _quietly(sm.delete_endpoint, EndpointName=n["endpoint"])
    for cfg in sm.list_endpoint_configs(MaxResults=100)["EndpointConfigs"]:
        if cfg["EndpointConfigName"].startswith(p) and cfg["EndpointConfigName"] != n["baseline_endpoint_config"]:
            _quietly(sm.delete_endpoint_config, EndpointConfigName=cfg["EndpointConfigName"])
    for model in sm.list_models(MaxResults=100)["Models"]:
        if model["ModelName"].startswith(p) and model["ModelName"] != n["baseline_model"]:
            _quietly(sm.delete_model, ModelName=model["ModelName"])
    s3 = ctx.client("s3")
    contents = objects(n, ctx.seed)
    for bucket, items in contents.items():
        if _quietly(s3.head_bucket, Bucket=bucket) is None:
            continue  # set-up re-creates it
        _quietly(s3.delete_bucket_policy, Bucket=bucket)
        s3.put_bucket_encryption(Bucket=bucket, ServerSideEncryptionConfiguration={
            "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]})
        for obj in s3.list_objects_v2(Bucket=bucket).get("Contents", []):
            if obj["Key"] not in items:
                s3.delete_object(Bucket=bucket, Key=obj["Key"])
        for key, body in items.items():
            s3.put_object(Bucket=bucket, Key=key, Body=body, ServerSideEncryption="AES256")
    endpoint = facts.get("s3_endpoint_id")
    if endpoint:
        _quietly(ctx.client("ec2").modify_vpc_endpoint, VpcEndpointId=endpoint, PolicyDocument=json.dumps(
            {"Version": "2008-10-17", "Statement": [{"Effect": "Allow", "Principal": "*", "Action": "*",
                                                     "Resource": "*"}]}))
    iam = ctx.client("iam")
    for role in (n["key_admin_role"], n["training_role"], n["inference_role"], n["steward_role"]):
        if _quietly(iam.get_role, RoleName=role) is None:
            continue
        for att in iam.list_attached_role_policies(RoleName=role)["AttachedPolicies"]:
            iam.detach_role_policy(RoleName=role, PolicyArn=att["PolicyArn"])
        for name in iam.list_role_policies(RoleName=role)["PolicyNames"]:
            iam.delete_role_policy(RoleName=role, PolicyName=name)
        iam.delete_role(RoleName=role)
