"""private-endpoint reference solution (instructor-only): the same steps as the notebook's solution cells.

Idempotent: each step looks for what it would create first. The step functions and policy builders are reused by
the lab's tests to build the alternative solutions and the one-flaw mutations.
"""

from __future__ import annotations

import json
from typing import Any

from botocore.exceptions import ClientError

SAGEMAKER_FULL = "arn:aws:iam::aws:policy/AmazonSageMakerFullAccess"


# ------------------------------------------------------------------------------------------------ policies


def exec_trust_policy(f: dict[str, Any]) -> dict[str, Any]:
    """Only SageMaker may assume the role, and only on behalf of this account (confused-deputy guard)."""
    return {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"Service": "sagemaker.amazonaws.com"}, "Action": "sts:AssumeRole",
        "Condition": {"StringEquals": {"aws:SourceAccount": f["account_id"]}}}]}


def exec_role_policy(f: dict[str, Any]) -> dict[str, Any]:
    """Read the one artifact prefix, write this endpoint's logs, manage the model's network interfaces."""
    region, account, bucket = f["region"], f["account_id"], f["model_bucket"]
    log_group = f"arn:aws:logs:{region}:{account}:log-group:{f['endpoint_log_group']}"
    return {"Version": "2012-10-17", "Statement": [
        {"Sid": "ReadTheModelArtifact", "Effect": "Allow", "Action": "s3:GetObject",
         "Resource": f"arn:aws:s3:::{bucket}/{f['model_prefix']}/*"},
        {"Sid": "ListOnlyTheModelPrefix", "Effect": "Allow", "Action": "s3:ListBucket",
         "Resource": f"arn:aws:s3:::{bucket}",
         "Condition": {"StringLike": {"s3:prefix": [f"{f['model_prefix']}/*"]}}},
        {"Sid": "WriteThisEndpointsLogs", "Effect": "Allow",
         "Action": ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
         "Resource": [log_group, f"{log_group}:*"]},
        {"Sid": "VpcNetworkInterfacesForTheModel", "Effect": "Allow",
         "Action": ["ec2:CreateNetworkInterface", "ec2:CreateNetworkInterfacePermission",
                    "ec2:DeleteNetworkInterface", "ec2:DeleteNetworkInterfacePermission",
                    "ec2:DescribeNetworkInterfaces", "ec2:DescribeVpcs", "ec2:DescribeDhcpOptions",
                    "ec2:DescribeSubnets", "ec2:DescribeSecurityGroups"],
         "Resource": "*"},
    ]}


def s3_endpoint_policy(f: dict[str, Any]) -> dict[str, Any]:
    """Through this gateway endpoint, only reads of the model bucket."""
    bucket = f["model_bucket"]
    return {"Version": "2012-10-17", "Statement": [{
        "Sid": "OnlyTheModelBucket", "Effect": "Allow", "Principal": "*",
        "Action": ["s3:GetObject", "s3:ListBucket"],
        "Resource": [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"]}]}


def app_invoke_policy(f: dict[str, Any]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": [{
        "Sid": "InvokeOnlyOurEndpoint", "Effect": "Allow", "Action": "sagemaker:InvokeEndpoint",
        "Resource": f["endpoint_arn"]}]}


# ------------------------------------------------------------------------------------------------ helpers


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def security_group(ctx: Any, f: dict[str, Any], name: str, description: str,
                   ingress: list[dict[str, Any]]) -> str:
    """Create (or find) a group in the scenario VPC with exactly `ingress`; its default allow-all egress stays."""
    ec2 = ctx.client("ec2")
    found = ec2.describe_security_groups(Filters=[{"Name": "vpc-id", "Values": [f["vpc_id"]]},
                                                  {"Name": "group-name", "Values": [name]}])["SecurityGroups"]
    if found:
        return str(found[0]["GroupId"])
    gid = str(ec2.create_security_group(GroupName=name, Description=description, VpcId=f["vpc_id"])["GroupId"])
    if ingress:
        ec2.authorize_security_group_ingress(GroupId=gid, IpPermissions=ingress)
    return gid


def tcp_from_cidr(port: int, cidr: str, description: str) -> dict[str, Any]:
    return {"IpProtocol": "tcp", "FromPort": port, "ToPort": port,
            "IpRanges": [{"CidrIp": cidr, "Description": description}]}


def probe(ctx: Any, f: dict[str, Any], source: dict[str, Any], port: int) -> Any:
    """One connection attempt to the endpoint, recorded in the flow logs (seclab's probe: engine + effect)."""
    from seclab.effects import flowlogs
    from seclab.engines.net import probe as net_probe
    from seclab.inventory.collect import collect_account

    inventory = collect_account(ctx.account_id, sections=["ec2", "sagemaker"])
    result = net_probe(inventory, {"from": source, "to": {"sagemaker_endpoint": f["endpoint_name"]},
                                   "port": port, "protocol": "tcp"})
    flowlogs.write(ctx.learner, result)
    return result


def invoke_as_app(ctx: Any, f: dict[str, Any]) -> bytes:
    """Call the endpoint the way the application does: as a session of its role, through the runtime API.

    On AWS only EC2 and Lambda could assume the app's role (its trust policy); the simulator does not enforce trust
    policies, which lets the lab borrow the role to test. InvokeEndpoint is a CloudTrail data event."""
    import boto3

    from seclab.sim import control

    creds = ctx.client("sts").assume_role(RoleArn=f["app_role_arn"], RoleSessionName="connectivity-test")
    c = creds["Credentials"]
    runtime = boto3.client("sagemaker-runtime", region_name=f["region"], endpoint_url=control.current_endpoint(),
                           aws_access_key_id=c["AccessKeyId"], aws_secret_access_key=c["SecretAccessKey"],
                           aws_session_token=c["SessionToken"])
    answer = runtime.invoke_endpoint(EndpointName=f["endpoint_name"], ContentType="application/json",
                                     Body=json.dumps({"image_s3_uri": "s3://incoming/cat.jpg"}))
    return bytes(answer["Body"].read())


# ------------------------------------------------------------------------------------------------ the four steps


def step1_execution_role(ctx: Any, f: dict[str, Any]) -> None:
    iam = ctx.client("iam")
    role = f["execution_role_name"]
    try:
        iam.create_role(RoleName=role, AssumeRolePolicyDocument=json.dumps(exec_trust_policy(f)),
                        Description=f"Execution role of SageMaker endpoint {f['endpoint_name']} only")
    except ClientError as exc:
        if _code(exc) != "EntityAlreadyExists":
            raise
        iam.update_assume_role_policy(RoleName=role, PolicyDocument=json.dumps(exec_trust_policy(f)))
    iam.put_role_policy(RoleName=role, PolicyName="model-artifact-logs-network",
                        PolicyDocument=json.dumps(exec_role_policy(f)))


def step2_endpoint(ctx: Any, f: dict[str, Any], subnets: list[str] | None = None,
                   ingress: list[dict[str, Any]] | None = None) -> str:
    sm = ctx.client("sagemaker")
    model_sg = security_group(ctx, f, f"{f['prefix']}-model-sg", "SageMaker model: app subnet on 8080 only",
                              ingress if ingress is not None else
                              [tcp_from_cidr(f["port"], f["app_subnet_cidr"], "invoking application subnet")])
    names = {m["ModelName"] for m in sm.list_models(NameContains=f["prefix"])["Models"]}
    if f["model_name"] not in names:
        sm.create_model(
            ModelName=f["model_name"],
            ExecutionRoleArn=f["execution_role_arn"],
            PrimaryContainer={"Image": f["image_uri"], "ModelDataUrl": f["model_data_url"],
                              "Environment": {"SAGEMAKER_PROGRAM": "inference.py",
                                              "SAGEMAKER_SUBMIT_DIRECTORY": "/opt/ml/model/code"}},
            VpcConfig={"Subnets": subnets or list(f["model_subnet_ids"]), "SecurityGroupIds": [model_sg]},
            EnableNetworkIsolation=True,
        )
    configs = {c["EndpointConfigName"] for c in sm.list_endpoint_configs(NameContains=f["prefix"])["EndpointConfigs"]}
    if f["endpoint_config_name"] not in configs:
        sm.create_endpoint_config(EndpointConfigName=f["endpoint_config_name"], ProductionVariants=[{
            "VariantName": "AllTraffic", "ModelName": f["model_name"], "InitialInstanceCount": 1,
            "InstanceType": "ml.m5.large"}])
    endpoints = {e["EndpointName"] for e in sm.list_endpoints(NameContains=f["prefix"])["Endpoints"]}
    if f["endpoint_name"] not in endpoints:
        sm.create_endpoint(EndpointName=f["endpoint_name"], EndpointConfigName=f["endpoint_config_name"])
    return model_sg


def step3_private_connectivity(ctx: Any, f: dict[str, Any], route_tables: list[str] | None = None,
                               subnets: list[str] | None = None) -> None:
    ec2, iam = ctx.client("ec2"), ctx.client("iam")
    existing = {e["ServiceName"]: e for e in ec2.describe_vpc_endpoints(
        Filters=[{"Name": "vpc-id", "Values": [f["vpc_id"]]}])["VpcEndpoints"]}
    if f["s3_service_name"] not in existing:
        ec2.create_vpc_endpoint(VpcEndpointType="Gateway", VpcId=f["vpc_id"], ServiceName=f["s3_service_name"],
                                RouteTableIds=route_tables or [f["model_route_table_id"]],
                                PolicyDocument=json.dumps(s3_endpoint_policy(f)))
    runtime_sg = security_group(ctx, f, f"{f['prefix']}-runtime-vpce-sg", "SageMaker Runtime endpoint: app on 443",
                                [tcp_from_cidr(443, f["app_subnet_cidr"], "invoking application subnet")])
    if f["runtime_service_name"] not in existing:
        ec2.create_vpc_endpoint(VpcEndpointType="Interface", VpcId=f["vpc_id"], ServiceName=f["runtime_service_name"],
                                SubnetIds=subnets or list(f["model_subnet_ids"]), SecurityGroupIds=[runtime_sg],
                                PrivateDnsEnabled=True)
    app = f["app_role_name"]
    attached = [p["PolicyArn"] for p in iam.list_attached_role_policies(RoleName=app)["AttachedPolicies"]]
    for arn in attached:
        iam.detach_role_policy(RoleName=app, PolicyArn=arn)
    iam.put_role_policy(RoleName=app, PolicyName="invoke-model-endpoint",
                        PolicyDocument=json.dumps(app_invoke_policy(f)))


def step4_verification(ctx: Any, f: dict[str, Any], probes: bool = True, read_flow_logs: bool = True,
                       review_trail: bool = True) -> None:
    ec2, logs, ct = ctx.client("ec2"), ctx.client("logs"), ctx.client("cloudtrail")
    groups = logs.describe_log_groups(logGroupNamePrefix=f["flow_log_group"])["logGroups"]
    if not any(g["logGroupName"] == f["flow_log_group"] for g in groups):
        logs.create_log_group(logGroupName=f["flow_log_group"])
        logs.put_retention_policy(logGroupName=f["flow_log_group"], retentionInDays=90)
    flows = ec2.describe_flow_logs(Filters=[{"Name": "resource-id", "Values": [f["vpc_id"]]}])["FlowLogs"]
    if not flows:
        ec2.create_flow_logs(ResourceIds=[f["vpc_id"]], ResourceType="VPC", TrafficType="ALL",
                             LogDestinationType="cloud-watch-logs", LogGroupName=f["flow_log_group"],
                             DeliverLogsPermissionArn=f["flow_logs_role_arn"])
    if not ct.describe_trails(trailNameList=[f["trail_name"]])["trailList"]:
        ct.create_trail(Name=f["trail_name"], S3BucketName=f["audit_bucket"], IsMultiRegionTrail=True,
                        EnableLogFileValidation=True)
    ct.put_event_selectors(TrailName=f["trail_name"], EventSelectors=[{
        "ReadWriteType": "All", "IncludeManagementEvents": True,
        "DataResources": [{"Type": "AWS::S3::Object",
                           "Values": [f"arn:aws:s3:::{f['model_bucket']}/{f['model_prefix']}/"]}]}])
    ct.start_logging(Name=f["trail_name"])
    invoke_as_app(ctx, f)
    if probes:
        probe(ctx, f, {"subnet": f["app_subnet_id"], "security_groups": [f["app_security_group_id"]]}, f["port"])
        probe(ctx, f, {"subnet": f["public_subnet_id"]}, f["port"])
    if read_flow_logs:
        logs.filter_log_events(logGroupName=f["flow_log_group"], filterPattern="REJECT")
    if review_trail:
        ct.lookup_events(MaxResults=50)


def solve(ctx: Any, facts: dict[str, Any]) -> None:
    step1_execution_role(ctx, facts)
    step2_endpoint(ctx, facts)
    step3_private_connectivity(ctx, facts)
    step4_verification(ctx, facts)
