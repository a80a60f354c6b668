"""private-endpoint set-up: the account a learner inherits before securing the team's model endpoint.

What exists (all names, CIDRs and prefixes come from the learner's seed, so two learners' answers differ):
- a VPC with three subnets: the invoking application's subnet (10.N.1.0/24), a public "web" subnet whose route table
  sends 0.0.0.0/0 to an internet gateway (the trap: never place the model there), and one private subnet for models
  (10.N.10.0/24, AZ a) with its own route table holding only the local route. A second private subnet is the
  learner's to add (10.N.11.0/24, AZ b) when they want two AZs.
- the application's security group and role (trusted by EC2 and Lambda) which, as in many real accounts, carries
  AmazonSageMakerFullAccess "to make it work"; a legacy SageMaker role with full S3 and SageMaker access; a
  legacy security group open to the internet on 8080 and 22.
- a bucket holding the model artifact the lab builds itself (a deterministic tar.gz: model.pth + code/inference.py),
  plus unrelated objects (another model, a customer dataset, another team's files) so over-broad access shows.
- an audit bucket CloudTrail may write to, a delivery role for VPC flow logs and the application's log group.

Idempotent: every resource is found by name (or Name tag) before it is created, and the facts are a function of the
seed alone, so running set-up twice changes nothing and returns the same facts.
"""

from __future__ import annotations

import gzip
import io
import json
import random
import tarfile
import zipfile
from typing import Any

TEAMS = ("vision", "imaging", "retina", "optic", "pixel", "lens")
MODELS = ("resnet18", "mobilenet-v3", "efficientnet-b0", "convnext-tiny", "vit-small", "regnet-y")
OTHER_MODELS = ("fraud-scorer", "churn-predictor", "demand-forecast", "text-ranker")
IMAGE = "763104351884.dkr.ecr.{region}.amazonaws.com/pytorch-inference:2.1.0-cpu-py310"
PORT = 8080

INFERENCE_PY = '''"""SageMaker PyTorch inference handler for the {model} image classifier (seclab lab artifact)."""
import io
import json

import torch
from PIL import Image
from torchvision import transforms

LABELS = {labels}
_PREPROCESS = transforms.Compose([
    transforms.Resize(256), transforms.CenterCrop(224), transforms.ToTensor(),
    transforms.Normalize(mean=[0.485, 0.456, 0.406], std=[0.229, 0.224, 0.225]),
])


def model_fn(model_dir):
    model = torch.jit.load(f"{{model_dir}}/model.pth", map_location="cpu")
    return model.eval()


def input_fn(body, content_type):
    if content_type not in ("image/jpeg", "image/png"):
        raise ValueError(f"unsupported content type {{content_type}}")
    return _PREPROCESS(Image.open(io.BytesIO(body)).convert("RGB")).unsqueeze(0)


def predict_fn(data, model):
    with torch.no_grad():
        return torch.softmax(model(data), dim=1)[0]


def output_fn(prediction, accept):
    top = prediction.topk(3)
    return json.dumps([{{"label": LABELS[i], "score": round(float(s), 4)}}
                       for s, i in zip(top.values.tolist(), top.indices.tolist())])
'''
LABELS = ["cat", "dog", "bird", "car", "truck", "ship", "plane", "horse"]


def _deterministic_tar(files: dict[str, bytes]) -> bytes:
    """A gzip'd tar whose bytes depend only on `files` (fixed mtimes, owners and modes), so set-up is idempotent."""
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name in sorted(files):
            info = tarfile.TarInfo(name)
            info.size = len(files[name])
            info.mtime = 1_700_000_000
            info.mode = 0o644
            info.uid = info.gid = 0
            info.uname = info.gname = "root"
            tar.addfile(info, io.BytesIO(files[name]))
    out = io.BytesIO()
    with gzip.GzipFile(fileobj=out, mode="wb", mtime=0) as gz:
        gz.write(raw.getvalue())
    return out.getvalue()


def _model_pth(seed: int) -> bytes:
    """A small TorchScript-style archive (a zip with version, code and raw float32 weights). No pickle inside: the
    lab only needs a realistic artifact to protect, never to load."""
    rnd = random.Random(seed)
    weights = bytes(rnd.getrandbits(8) for _ in range(8192))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_STORED) as zf:
        for name, data in (("model/version", b"3\n"),
                           ("model/code/__torch__/classifier.py", b"class Classifier(Module):\n  pass\n"),
                           ("model/data/0", weights)):
            info = zipfile.ZipInfo(name, date_time=(2024, 1, 1, 0, 0, 0))
            zf.writestr(info, data)
    return buf.getvalue()


def model_artifact(seed: int, model: str) -> bytes:
    return _deterministic_tar({
        "model.pth": _model_pth(seed),
        "code/inference.py": INFERENCE_PY.format(model=model, labels=json.dumps(LABELS)).encode(),
        "code/requirements.txt": b"torchvision==0.16.0\npillow==10.1.0\n",
    })


def scenario(ctx: Any) -> dict[str, Any]:
    """The facts, from the seed alone (no cloud calls): the same learner always gets the same scenario."""
    rng = ctx.rng
    team = rng.choice(TEAMS)
    model = rng.choice(MODELS)
    other = rng.choice(OTHER_MODELS)
    octet = rng.randint(16, 250)
    tag = f"{ctx.seed % 10000:04d}"
    suffix = f"{ctx.seed % 10**8:08d}"
    prefix = f"{team}-{tag}"
    region = ctx.region
    account = ctx.account_id
    endpoint = f"{prefix}-{model}"
    model_prefix = f"models/{model}/v{rng.randint(1, 9)}"
    bucket = f"{prefix}-models-{suffix}"
    return {
        "prefix": prefix,
        "port": PORT,
        "vpc_cidr": f"10.{octet}.0.0/16",
        "app_subnet_cidr": f"10.{octet}.1.0/24",
        "public_subnet_cidr": f"10.{octet}.0.0/24",
        "model_subnet_cidr": f"10.{octet}.10.0/24",
        "spare_model_subnet_cidr": f"10.{octet}.11.0/24",
        "az_a": f"{region}a",
        "az_b": f"{region}b",
        "model_bucket": bucket,
        "model_prefix": model_prefix,
        "model_artifact_key": f"{model_prefix}/model.tar.gz",
        "model_data_url": f"s3://{bucket}/{model_prefix}/model.tar.gz",
        "other_model_key": f"models/{other}/model.tar.gz",
        "dataset_key": "datasets/customers/labelled-images-2024.csv",
        "image_uri": IMAGE.format(region=region),
        "execution_role_name": f"{prefix}-sagemaker-execution",
        "execution_role_arn": f"arn:aws:iam::{account}:role/{prefix}-sagemaker-execution",
        "legacy_role_name": f"{prefix}-sagemaker-legacy",
        "app_role_name": f"{prefix}-invoker-app",
        "app_role_arn": f"arn:aws:iam::{account}:role/{prefix}-invoker-app",
        "flow_logs_role_name": f"{prefix}-flowlogs-delivery",
        "flow_logs_role_arn": f"arn:aws:iam::{account}:role/{prefix}-flowlogs-delivery",
        "model_name": f"{prefix}-{model}-model",
        "endpoint_config_name": f"{prefix}-{model}-config",
        "endpoint_name": endpoint,
        "endpoint_arn": f"arn:aws:sagemaker:{region}:{account}:endpoint/{endpoint}",
        "endpoint_log_group": f"/aws/sagemaker/Endpoints/{endpoint}",
        "app_log_group": f"/{prefix}/invoker-app",
        "flow_log_group": f"/{prefix}/vpc-flow-logs",
        "trail_name": f"{prefix}-audit-trail",
        "audit_bucket": f"{prefix}-audit-{suffix}",
        "s3_service_name": f"com.amazonaws.{region}.s3",
        "runtime_service_name": f"com.amazonaws.{region}.sagemaker.runtime",
    }


def _tags(name: str, prefix: str) -> list[dict[str, str]]:
    return [{"Key": "Name", "Value": name}, {"Key": "team", "Value": prefix.split("-")[0]}]


def _by_name(items: list[dict[str, Any]], name: str) -> dict[str, Any] | None:
    for item in items:
        if any(t.get("Key") == "Name" and t.get("Value") == name for t in item.get("Tags", []) or []):
            return item
    return None


def _network(ctx: Any, f: dict[str, Any]) -> dict[str, Any]:
    ec2 = ctx.client("ec2")
    p = f["prefix"]
    name_filter = [{"Name": "tag:Name", "Values": [f"{p}-*"]}]
    vpc = _by_name(ec2.describe_vpcs(Filters=name_filter)["Vpcs"], f"{p}-vpc")
    if vpc is None:
        vpc = ec2.create_vpc(CidrBlock=f["vpc_cidr"], TagSpecifications=[
            {"ResourceType": "vpc", "Tags": _tags(f"{p}-vpc", p)}])["Vpc"]
        ec2.modify_vpc_attribute(VpcId=vpc["VpcId"], EnableDnsSupport={"Value": True})
        ec2.modify_vpc_attribute(VpcId=vpc["VpcId"], EnableDnsHostnames={"Value": True})
    vpc_id = vpc["VpcId"]
    in_vpc = [{"Name": "vpc-id", "Values": [vpc_id]}]

    subnets = ec2.describe_subnets(Filters=in_vpc)["Subnets"]

    def subnet(name: str, cidr: str, az: str, public: bool) -> str:
        found = _by_name(subnets, name)
        if found is None:
            found = ec2.create_subnet(VpcId=vpc_id, CidrBlock=cidr, AvailabilityZone=az, TagSpecifications=[
                {"ResourceType": "subnet", "Tags": _tags(name, p)}])["Subnet"]
            if public:
                ec2.modify_subnet_attribute(SubnetId=found["SubnetId"], MapPublicIpOnLaunch={"Value": True})
        return str(found["SubnetId"])

    app_subnet = subnet(f"{p}-app", f["app_subnet_cidr"], f["az_a"], False)
    public_subnet = subnet(f"{p}-public-web", f["public_subnet_cidr"], f["az_a"], True)
    model_subnet = subnet(f"{p}-models-private-a", f["model_subnet_cidr"], f["az_a"], False)

    igws = ec2.describe_internet_gateways(Filters=[{"Name": "attachment.vpc-id", "Values": [vpc_id]}])
    if igws["InternetGateways"]:
        igw_id = igws["InternetGateways"][0]["InternetGatewayId"]
    else:
        igw_id = ec2.create_internet_gateway(TagSpecifications=[
            {"ResourceType": "internet-gateway", "Tags": _tags(f"{p}-igw", p)}])["InternetGateway"]["InternetGatewayId"]
        ec2.attach_internet_gateway(InternetGatewayId=igw_id, VpcId=vpc_id)

    tables = ec2.describe_route_tables(Filters=in_vpc)["RouteTables"]

    def route_table(name: str, subnet_id: str, to_igw: bool) -> str:
        found = _by_name(tables, name)
        if found is None:
            found = ec2.create_route_table(VpcId=vpc_id, TagSpecifications=[
                {"ResourceType": "route-table", "Tags": _tags(name, p)}])["RouteTable"]
            if to_igw:
                ec2.create_route(RouteTableId=found["RouteTableId"], DestinationCidrBlock="0.0.0.0/0",
                                 GatewayId=igw_id)
            ec2.associate_route_table(RouteTableId=found["RouteTableId"], SubnetId=subnet_id)
        return str(found["RouteTableId"])

    public_rt = route_table(f"{p}-public-rt", public_subnet, True)
    app_rt = route_table(f"{p}-app-rt", app_subnet, False)
    model_rt = route_table(f"{p}-models-private-rt", model_subnet, False)

    groups = ec2.describe_security_groups(Filters=in_vpc)["SecurityGroups"]

    def group(name: str, description: str, ingress: list[dict[str, Any]]) -> str:
        found = next((g for g in groups if g.get("GroupName") == name), None)
        if found is None:
            gid = ec2.create_security_group(GroupName=name, Description=description, VpcId=vpc_id, TagSpecifications=[
                {"ResourceType": "security-group", "Tags": _tags(name, p)}])["GroupId"]
            if ingress:
                ec2.authorize_security_group_ingress(GroupId=gid, IpPermissions=ingress)
            return str(gid)
        return str(found["GroupId"])

    app_sg = group(f"{p}-app-sg", "Invoking application instances and functions", [])
    legacy_sg = group(f"{p}-legacy-web-sg", "LEGACY: opened for a demo, do not reuse", [
        {"IpProtocol": "tcp", "FromPort": PORT, "ToPort": PORT, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]},
        {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]},
    ])
    return {
        "vpc_id": vpc_id, "internet_gateway_id": igw_id,
        "app_subnet_id": app_subnet, "public_subnet_id": public_subnet, "model_subnet_ids": [model_subnet],
        "public_route_table_id": public_rt, "app_route_table_id": app_rt, "model_route_table_id": model_rt,
        "app_security_group_id": app_sg, "legacy_security_group_id": legacy_sg,
    }


def _trust(*services: str, source_account: str | None = None) -> str:
    stmt: dict[str, Any] = {"Effect": "Allow", "Principal": {"Service": list(services) if len(services) > 1
                                                              else services[0]}, "Action": "sts:AssumeRole"}
    if source_account:
        stmt["Condition"] = {"StringEquals": {"aws:SourceAccount": source_account}}
    return json.dumps({"Version": "2012-10-17", "Statement": [stmt]})


def _iam(ctx: Any, f: dict[str, Any]) -> None:
    iam = ctx.client("iam")
    existing = {r["RoleName"] for page in iam.get_paginator("list_roles").paginate() for r in page["Roles"]}

    def role(name: str, trust: str, description: str, managed: list[str], inline: dict[str, Any] | None) -> None:
        if name in existing:
            return
        iam.create_role(RoleName=name, AssumeRolePolicyDocument=trust, Description=description,
                        Tags=[{"Key": "team", "Value": f["prefix"].split("-")[0]}])
        for arn in managed:
            iam.attach_role_policy(RoleName=name, PolicyArn=arn)
        if inline:
            iam.put_role_policy(RoleName=name, PolicyName="inline", PolicyDocument=json.dumps(inline))

    role(f["app_role_name"], _trust("ec2.amazonaws.com", "lambda.amazonaws.com"),
         "Invoking application (EC2 instances and Lambda functions in the app subnet)",
         ["arn:aws:iam::aws:policy/AmazonSageMakerFullAccess"], None)
    role(f["legacy_role_name"], _trust("sagemaker.amazonaws.com"),
         "LEGACY notebook-era role: do not use for endpoints",
         ["arn:aws:iam::aws:policy/AmazonSageMakerFullAccess", "arn:aws:iam::aws:policy/AmazonS3FullAccess"], None)
    account, region = ctx.account_id, ctx.region
    role(f["flow_logs_role_name"], _trust("vpc-flow-logs.amazonaws.com", source_account=account),
         "Lets the VPC Flow Logs service deliver records to CloudWatch Logs", [], {
             "Version": "2012-10-17",
             "Statement": [{"Effect": "Allow",
                            "Action": ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogGroups",
                                       "logs:DescribeLogStreams"],
                            "Resource": f"arn:aws:logs:{region}:{account}:log-group:/{f['prefix']}/*"}]})


def _buckets(ctx: Any, f: dict[str, Any]) -> None:
    s3 = ctx.client("s3")
    mine = {b["Name"] for b in s3.list_buckets().get("Buckets", [])}
    for bucket in (f["model_bucket"], f["audit_bucket"]):
        if bucket not in mine:
            s3.create_bucket(Bucket=bucket)
            s3.put_public_access_block(Bucket=bucket, PublicAccessBlockConfiguration={
                "BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True,
                "RestrictPublicBuckets": True})
    audit = f["audit_bucket"]
    trail_arn = f"arn:aws:cloudtrail:{ctx.region}:{ctx.account_id}:trail/{f['trail_name']}"
    s3.put_bucket_policy(Bucket=audit, Policy=json.dumps({"Version": "2012-10-17", "Statement": [
        {"Sid": "CloudTrailAclCheck", "Effect": "Allow", "Principal": {"Service": "cloudtrail.amazonaws.com"},
         "Action": "s3:GetBucketAcl", "Resource": f"arn:aws:s3:::{audit}",
         "Condition": {"StringEquals": {"aws:SourceArn": trail_arn}}},
        {"Sid": "CloudTrailWrite", "Effect": "Allow", "Principal": {"Service": "cloudtrail.amazonaws.com"},
         "Action": "s3:PutObject", "Resource": f"arn:aws:s3:::{audit}/AWSLogs/{ctx.account_id}/*",
         "Condition": {"StringEquals": {"s3:x-amz-acl": "bucket-owner-full-control", "aws:SourceArn": trail_arn}}},
    ]}))
    present = {o["Key"] for o in s3.list_objects_v2(Bucket=f["model_bucket"]).get("Contents", [])}
    other = f["other_model_key"].split("/")[1]
    objects = {
        f["model_artifact_key"]: model_artifact(ctx.seed, f["model_name"]),
        f["other_model_key"]: model_artifact(ctx.seed + 1, other),
        f["dataset_key"]: b"image_uri,label,customer_id\ns3://raw/0001.jpg,cat,C-1001\ns3://raw/0002.jpg,dog,C-1002\n",
        "other-team/fraud/features.parquet": b"PAR1" + bytes(64) + b"PAR1",
        "README.txt": b"Model artifacts of the vision platform. Each model lives under models/<name>/<version>/.\n",
    }
    for key, body in objects.items():
        if key not in present:
            s3.put_object(Bucket=f["model_bucket"], Key=key, Body=body)


def _logs(ctx: Any, f: dict[str, Any]) -> None:
    logs = ctx.client("logs")
    names = {g["logGroupName"] for g in logs.describe_log_groups(logGroupNamePrefix=f"/{f['prefix']}/")["logGroups"]}
    if f["app_log_group"] not in names:
        logs.create_log_group(logGroupName=f["app_log_group"])
        logs.put_retention_policy(logGroupName=f["app_log_group"], retentionInDays=30)


def setup(ctx: Any) -> dict[str, Any]:
    facts = scenario(ctx)
    facts.update(_network(ctx, facts))
    _iam(ctx, facts)
    _buckets(ctx, facts)
    _logs(ctx, facts)
    return facts


def reset(ctx: Any, facts: dict[str, Any]) -> None:
    """Remove what the learner built (endpoint, model, VPC endpoints, flow logs, trail, the execution role, extra
    subnets and groups) and put the app role back as it was, so set-up starts from the inherited account again."""
    from botocore.exceptions import ClientError

    sm, ec2, iam, ct, logs = (ctx.client(s) for s in ("sagemaker", "ec2", "iam", "cloudtrail", "logs"))

    def quiet(call: Any, **kw: Any) -> None:
        try:
            call(**kw)
        except ClientError:
            pass

    for ep in sm.list_endpoints()["Endpoints"]:
        if ep["EndpointName"].startswith(facts["prefix"]):
            quiet(sm.delete_endpoint, EndpointName=ep["EndpointName"])
    for cfg in sm.list_endpoint_configs()["EndpointConfigs"]:
        if cfg["EndpointConfigName"].startswith(facts["prefix"]):
            quiet(sm.delete_endpoint_config, EndpointConfigName=cfg["EndpointConfigName"])
    for m in sm.list_models()["Models"]:
        if m["ModelName"].startswith(facts["prefix"]):
            quiet(sm.delete_model, ModelName=m["ModelName"])
    vpc = [{"Name": "vpc-id", "Values": [facts["vpc_id"]]}]
    for e in ec2.describe_vpc_endpoints(Filters=vpc)["VpcEndpoints"]:
        if str(e.get("State", "")).lower() not in ("deleted", "deleting"):
            quiet(ec2.delete_vpc_endpoints, VpcEndpointIds=[e["VpcEndpointId"]])
    flows = [fl["FlowLogId"] for fl in ec2.describe_flow_logs()["FlowLogs"] if fl.get("ResourceId") in (
        facts["vpc_id"], facts["app_subnet_id"], *facts["model_subnet_ids"])]
    if flows:
        quiet(ec2.delete_flow_logs, FlowLogIds=flows)
    for t in ct.describe_trails()["trailList"]:
        if t.get("S3BucketName") == facts["audit_bucket"]:
            quiet(ct.delete_trail, Name=t["Name"])  # the simulator ignores deletion by ARN
    for g in logs.describe_log_groups(logGroupNamePrefix=facts["flow_log_group"])["logGroups"]:
        quiet(logs.delete_log_group, logGroupName=g["logGroupName"])
    keep_groups = {facts["app_security_group_id"], facts["legacy_security_group_id"]}
    for g in ec2.describe_security_groups(Filters=vpc)["SecurityGroups"]:
        if g["GroupName"] != "default" and g["GroupId"] not in keep_groups:
            quiet(ec2.delete_security_group, GroupId=g["GroupId"])
    keep_subnets = {facts["app_subnet_id"], facts["public_subnet_id"], *facts["model_subnet_ids"]}
    for sn in ec2.describe_subnets(Filters=vpc)["Subnets"]:
        if sn["SubnetId"] not in keep_subnets:
            quiet(ec2.delete_subnet, SubnetId=sn["SubnetId"])
    role = facts["execution_role_name"]
    try:
        for p in iam.list_attached_role_policies(RoleName=role)["AttachedPolicies"]:
            iam.detach_role_policy(RoleName=role, PolicyArn=p["PolicyArn"])
        for name in iam.list_role_policies(RoleName=role)["PolicyNames"]:
            iam.delete_role_policy(RoleName=role, PolicyName=name)
        iam.delete_role(RoleName=role)
    except ClientError:
        pass
    app = facts["app_role_name"]
    quiet(iam.attach_role_policy, RoleName=app, PolicyArn="arn:aws:iam::aws:policy/AmazonSageMakerFullAccess")
    for name in iam.list_role_policies(RoleName=app)["PolicyNames"]:
        quiet(iam.delete_role_policy, RoleName=app, PolicyName=name)
