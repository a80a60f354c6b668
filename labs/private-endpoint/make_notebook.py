"""Builds private-endpoint.ipynb (the nbgrader source notebook).

Run: .venv/bin/python labs/private-endpoint/make_notebook.py

Rules the cells follow: every cell after a solution region re-reads what it needs from AWS or from `facts`, so the
release version (solutions stripped) runs top to bottom without errors; "check my progress" cells only call the
out-of-kernel grader.
"""

from pathlib import Path

from seclab.authoring import answer, code, md, solution, write_notebook

HERE = Path(__file__).resolve().parent

TARGET = """
```mermaid
flowchart LR
  internet(("Internet"))
  subgraph vpc["Your VPC"]
    subgraph app["App subnet 10.N.1.0/24"]
      A["Invoking application<br/>role: InvokeEndpoint on ONE endpoint ARN"]
    end
    subgraph priv["Private model subnet(s): no route to an internet gateway"]
      E[/"SageMaker endpoint<br/>network isolation ON<br/>model SG: tcp 8080 from the app subnet only"/]
      R{{"Interface endpoint: sagemaker.runtime<br/>private DNS ON<br/>SG: tcp 443 from the app subnet only"}}
    end
    subgraph pub["Public web subnet (route to the internet gateway): never for the model"]
      W["web servers"]
    end
    G{{"S3 gateway endpoint<br/>policy: the model bucket only"}}
  end
  S3[("s3://model bucket/models/.../model.tar.gz")]
  X["Execution role<br/>trust: sagemaker.amazonaws.com + aws:SourceAccount<br/>s3:GetObject on the model prefix, its own logs"]
  A -->|"InvokeEndpoint over HTTPS (443)"| R --> E
  A -.->|"tcp 8080: ACCEPT"| E
  W -.->|"tcp 8080: REJECT"| E
  internet -.->|"no path"| E
  E -->|"model download"| G --> S3
  X -.- E
  FL[["VPC flow logs -> CloudWatch Logs"]] -.- vpc
  CT[["CloudTrail trail + S3 data events on the model prefix"]]
```
"""

cells = [
    md(f"""
# A private, least-privilege SageMaker endpoint

**The situation.** Your team trained an image classifier (PyTorch). The artifact sits in S3. It must go live as a
real-time SageMaker endpoint that is **not publicly accessible** and that **only the internal application can
invoke**. The account you inherit works, but the way many accounts "work": the application's role has
`AmazonSageMakerFullAccess`, a legacy SageMaker role can read every bucket, a security group is open to the
internet, and there is a public subnet right next to the private ones.

You will, in four graded steps:

1. create a **dedicated execution role** that can read only the model's own S3 prefix and write only its own logs;
2. deploy the model and endpoint **in a private subnet** with **network isolation**, behind a security group that
   admits **only the app subnet on port 8080**;
3. keep traffic on the AWS network with **VPC endpoints** (an S3 gateway endpoint limited to the model bucket, an
   interface endpoint for the SageMaker Runtime) and cut the app's role down to **one `InvokeEndpoint`**;
4. **prove it**: VPC flow logs showing the app's connection accepted and another subnet's rejected, and CloudTrail
   showing only the calls you expect.

The target architecture:
{TARGET}

**About the simulator.** Everything runs in your own simulated AWS account (moto behind seclab's gateway): nothing
reaches real AWS. The simulator stores what you configure but **does not enforce** IAM policies, security groups or
routes, so a call that AWS would refuse may succeed here. That is why the grader does not trust "it worked": it reads
your configuration and asks seclab's **IAM engine** (AWS's documented policy evaluation) and **network engine**
(reachability through security groups, NACLs and route tables) what AWS would decide. Two simulator gaps to know:
`update_endpoint` is not implemented (delete the endpoint and create it again instead), and nothing produces flow-log
records by itself (seclab's **probes** play a connection and write the records AWS would write).

> Your grade is computed outside this notebook, from the simulator's state. Editing the notebook cannot change it.
""", grade_id="intro"),
    md("## Set up\nRun this first. It prepares your scenario and prints the names, CIDRs and prefixes the grader "
       "will look for (they are yours: another learner's differ).", grade_id="setup-md"),
    code("""
import json

import boto3
from seclab.notebook import Lab

lab = Lab("private-endpoint")
facts = lab.setup()
""", grade_id="setup"),
    md("""
### Look around first

Before changing an account, see what is there. This cell lists the VPC's subnets (public means: its route table
sends `0.0.0.0/0` to an internet gateway), the objects in the model bucket, and the policies on the application's
role. Then `lab.diagram()` draws what exists right now.
""", grade_id="explore-md"),
    code("""
ec2 = boto3.client("ec2")
for sn in ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [facts["vpc_id"]]}])["Subnets"]:
    name = next((t["Value"] for t in sn.get("Tags", []) if t["Key"] == "Name"), sn["SubnetId"])
    tables = ec2.describe_route_tables(
        Filters=[{"Name": "association.subnet-id", "Values": [sn["SubnetId"]]}])["RouteTables"]
    igw = [r["GatewayId"] for t in tables for r in t["Routes"] if r.get("GatewayId", "").startswith("igw-")]
    print(f"{name:30} {sn['SubnetId']:26} {sn['CidrBlock']:15} {'PUBLIC via ' + igw[0] if igw else 'private'}")

print("\\nModel bucket:")
for obj in boto3.client("s3").list_objects_v2(Bucket=facts["model_bucket"])["Contents"]:
    print(f"  {obj['Key']:55} {obj['Size']:>7} bytes")

iam = boto3.client("iam")
attached = iam.list_attached_role_policies(RoleName=facts["app_role_name"])["AttachedPolicies"]
print("\\nThe application's role", facts["app_role_name"], "has:", [p["PolicyName"] for p in attached])
lab.diagram();
""", grade_id="explore"),

    # ------------------------------------------------------------------------------------------ task 1
    md("""
## 1. A dedicated, least-privilege execution role

SageMaker runs your model's container **as the execution role**. Whoever controls the container (your inference
code, its dependencies, an attacker who compromises it) gets what the role can do. So the role gets exactly what the
endpoint needs and nothing else:

- **Trust**: only `sagemaker.amazonaws.com` may assume it, and only on behalf of your account: a condition
  `StringEquals aws:SourceAccount = <your account>` (without it, another customer's SageMaker resource could be
  pointed at your role: the *confused deputy*).
- **S3**: `s3:GetObject` on `arn:aws:s3:::<model_bucket>/<model_prefix>/*`. Not `bucket/*` (the bucket also holds a
  customer dataset and other teams' models), not `s3:*` (which could overwrite the model).
- **CloudWatch Logs**: create and write streams in `/aws/sagemaker/Endpoints/<endpoint_name>` only. Log streams
  live *under* the log group's ARN, so list both `...:log-group:NAME` and `...:log-group:NAME:*`.
- No AWS managed policies. On AWS a model in a VPC also needs the EC2 network-interface actions
  (`ec2:CreateNetworkInterface`, ...); the grader accepts those documented ones and nothing broader.

Create the role named `facts["execution_role_name"]`. Stuck? `lab.hint("execution-role")` reveals one hint per run.
""", grade_id="task1-md"),
    solution("""
### BEGIN SOLUTION
iam = boto3.client("iam")
account, region = facts["account_id"], facts["region"]
trust = {"Version": "2012-10-17", "Statement": [{
    "Effect": "Allow", "Principal": {"Service": "sagemaker.amazonaws.com"}, "Action": "sts:AssumeRole",
    "Condition": {"StringEquals": {"aws:SourceAccount": account}}}]}
iam.create_role(RoleName=facts["execution_role_name"], AssumeRolePolicyDocument=json.dumps(trust),
                Description="Execution role of one SageMaker endpoint")

log_group = f"arn:aws:logs:{region}:{account}:log-group:{facts['endpoint_log_group']}"
policy = {"Version": "2012-10-17", "Statement": [
    {"Sid": "ReadTheModelArtifact", "Effect": "Allow", "Action": "s3:GetObject",
     "Resource": f"arn:aws:s3:::{facts['model_bucket']}/{facts['model_prefix']}/*"},
    {"Sid": "ListOnlyTheModelPrefix", "Effect": "Allow", "Action": "s3:ListBucket",
     "Resource": f"arn:aws:s3:::{facts['model_bucket']}",
     "Condition": {"StringLike": {"s3:prefix": [f"{facts['model_prefix']}/*"]}}},
    {"Sid": "WriteThisEndpointsLogs", "Effect": "Allow",
     "Action": ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
     "Resource": [log_group, f"{log_group}:*"]},
    {"Sid": "VpcNetworkInterfacesForTheModel", "Effect": "Allow",
     "Action": ["ec2:CreateNetworkInterface", "ec2:CreateNetworkInterfacePermission", "ec2:DeleteNetworkInterface",
                "ec2:DeleteNetworkInterfacePermission", "ec2:DescribeNetworkInterfaces", "ec2:DescribeVpcs",
                "ec2:DescribeDhcpOptions", "ec2:DescribeSubnets", "ec2:DescribeSecurityGroups"],
     "Resource": "*"},
]}
iam.put_role_policy(RoleName=facts["execution_role_name"], PolicyName="model-artifact-logs-network",
                    PolicyDocument=json.dumps(policy))
print("Created", facts["execution_role_arn"])
### END SOLUTION
""", grade_id="task1"),
    code('lab.check("execution-role")', grade_id="check1"),

    # ------------------------------------------------------------------------------------------ task 2
    md("""
## 2. The model and endpoint in a private subnet, reachable only from the app

1. **Pick the subnet.** The listing above shows which subnets are private. The model goes into
   `facts["model_subnet_ids"]` (for two AZs, you may add a subnet with `facts["spare_model_subnet_cidr"]` in
   `facts["az_b"]`, associated with the private route table `facts["model_route_table_id"]`).
2. **A security group for the model**, in `facts["vpc_id"]`, with one inbound rule: tcp **8080** from the app
   subnet's CIDR `facts["app_subnet_cidr"]` (or from the app's own security group `facts["app_security_group_id"]`).
   Never reuse the legacy web group: it admits `0.0.0.0/0`.
3. **The model**: `sm.create_model(...)` with your execution role, the image `facts["image_uri"]`, the artifact
   `facts["model_data_url"]`, a `VpcConfig` (subnets + your group) and `EnableNetworkIsolation=True` (the container
   gets no outbound network at all).
4. **The endpoint config and the endpoint**, named `facts["endpoint_config_name"]` and `facts["endpoint_name"]`.

Then ask the network engine who can reach what you built:
`!seclab net exposure --learner $SECLAB_LEARNER --destination '{"sagemaker_endpoint": "<endpoint>"}' --format text`.

Stuck? `lab.hint("private-endpoint")`.
""", grade_id="task2-md"),
    solution("""
### BEGIN SOLUTION
ec2 = boto3.client("ec2")
sm = boto3.client("sagemaker")
model_sg = ec2.create_security_group(GroupName=f"{facts['prefix']}-model-sg", VpcId=facts["vpc_id"],
                                     Description="SageMaker model: app subnet on 8080 only")["GroupId"]
ec2.authorize_security_group_ingress(GroupId=model_sg, IpPermissions=[{
    "IpProtocol": "tcp", "FromPort": facts["port"], "ToPort": facts["port"],
    "IpRanges": [{"CidrIp": facts["app_subnet_cidr"], "Description": "invoking application subnet"}]}])

sm.create_model(
    ModelName=facts["model_name"],
    ExecutionRoleArn=facts["execution_role_arn"],
    PrimaryContainer={"Image": facts["image_uri"], "ModelDataUrl": facts["model_data_url"],
                      "Environment": {"SAGEMAKER_PROGRAM": "inference.py",
                                      "SAGEMAKER_SUBMIT_DIRECTORY": "/opt/ml/model/code"}},
    VpcConfig={"Subnets": facts["model_subnet_ids"], "SecurityGroupIds": [model_sg]},
    EnableNetworkIsolation=True,
)
sm.create_endpoint_config(EndpointConfigName=facts["endpoint_config_name"], ProductionVariants=[{
    "VariantName": "AllTraffic", "ModelName": facts["model_name"], "InitialInstanceCount": 1,
    "InstanceType": "ml.m5.large"}])
sm.create_endpoint(EndpointName=facts["endpoint_name"], EndpointConfigName=facts["endpoint_config_name"])
print(sm.describe_endpoint(EndpointName=facts["endpoint_name"])["EndpointStatus"])
### END SOLUTION
""", grade_id="task2"),
    code('lab.check("private-endpoint")', grade_id="check2"),

    # ------------------------------------------------------------------------------------------ task 3
    md("""
## 3. VPC endpoints, and an application role that can only invoke

The private subnets have no route to the internet, which is the point, so the model needs a private road to S3 and
the application a private road to the SageMaker Runtime API.

1. **S3 gateway endpoint** (`facts["s3_service_name"]`, type `Gateway`) on the model subnets' route table
   `facts["model_route_table_id"]`, with an **endpoint policy** that admits only the model bucket. Without a policy
   a gateway endpoint is a private road to *every* bucket in the world, an attacker's included.
2. **Interface endpoint** for the SageMaker Runtime (`facts["runtime_service_name"]`, type `Interface`) in the
   private subnet(s), with **private DNS** on (the app's ordinary SDK calls then resolve to it) and its own security
   group admitting tcp **443** from the app subnet only.
3. **The application's role** (`facts["app_role_name"]`): detach `AmazonSageMakerFullAccess` and allow only
   `sagemaker:InvokeEndpoint` on `facts["endpoint_arn"]`.

Stuck? `lab.hint("private-connectivity")`.
""", grade_id="task3-md"),
    solution("""
### BEGIN SOLUTION
ec2 = boto3.client("ec2")
iam = boto3.client("iam")
bucket = facts["model_bucket"]
endpoint_policy = {"Version": "2012-10-17", "Statement": [{
    "Sid": "OnlyTheModelBucket", "Effect": "Allow", "Principal": "*", "Action": ["s3:GetObject", "s3:ListBucket"],
    "Resource": [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"]}]}
ec2.create_vpc_endpoint(VpcEndpointType="Gateway", VpcId=facts["vpc_id"], ServiceName=facts["s3_service_name"],
                        RouteTableIds=[facts["model_route_table_id"]], PolicyDocument=json.dumps(endpoint_policy))

runtime_sg = ec2.create_security_group(GroupName=f"{facts['prefix']}-runtime-vpce-sg", VpcId=facts["vpc_id"],
                                       Description="SageMaker Runtime endpoint: app on 443")["GroupId"]
ec2.authorize_security_group_ingress(GroupId=runtime_sg, IpPermissions=[{
    "IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "IpRanges": [{"CidrIp": facts["app_subnet_cidr"]}]}])
ec2.create_vpc_endpoint(VpcEndpointType="Interface", VpcId=facts["vpc_id"], ServiceName=facts["runtime_service_name"],
                        SubnetIds=facts["model_subnet_ids"], SecurityGroupIds=[runtime_sg], PrivateDnsEnabled=True)

app_role = facts["app_role_name"]
for p in iam.list_attached_role_policies(RoleName=app_role)["AttachedPolicies"]:
    iam.detach_role_policy(RoleName=app_role, PolicyArn=p["PolicyArn"])
iam.put_role_policy(RoleName=app_role, PolicyName="invoke-model-endpoint", PolicyDocument=json.dumps({
    "Version": "2012-10-17", "Statement": [{"Sid": "InvokeOnlyOurEndpoint", "Effect": "Allow",
                                            "Action": "sagemaker:InvokeEndpoint", "Resource": facts["endpoint_arn"]}]}))
### END SOLUTION
""", grade_id="task3"),
    code('lab.check("private-connectivity")', grade_id="check3"),

    # ------------------------------------------------------------------------------------------ task 4
    md("""
## 4. Prove it: flow logs, probes and CloudTrail

**Turn the recorders on.** Create the log group `facts["flow_log_group"]` and a flow log on the VPC: all traffic
(`TrafficType="ALL"`, you want to see the *rejected* attempts too), to CloudWatch Logs, delivered by the role
`facts["flow_logs_role_arn"]`. Create the trail `facts["trail_name"]` to the audit bucket `facts["audit_bucket"]`
(multi-region, log file validation), add an **S3 data-event selector** for the model prefix (management events never
show who *read* an object), and start logging. Stuck? `lab.hint("verification")`.
""", grade_id="task4a-md"),
    solution("""
### BEGIN SOLUTION
logs = boto3.client("logs")
ec2 = boto3.client("ec2")
ct = boto3.client("cloudtrail")
logs.create_log_group(logGroupName=facts["flow_log_group"])
logs.put_retention_policy(logGroupName=facts["flow_log_group"], retentionInDays=90)
ec2.create_flow_logs(ResourceIds=[facts["vpc_id"]], ResourceType="VPC", TrafficType="ALL",
                     LogDestinationType="cloud-watch-logs", LogGroupName=facts["flow_log_group"],
                     DeliverLogsPermissionArn=facts["flow_logs_role_arn"])

ct.create_trail(Name=facts["trail_name"], S3BucketName=facts["audit_bucket"], IsMultiRegionTrail=True,
                EnableLogFileValidation=True)
ct.put_event_selectors(TrailName=facts["trail_name"], EventSelectors=[{
    "ReadWriteType": "All", "IncludeManagementEvents": True,
    "DataResources": [{"Type": "AWS::S3::Object",
                       "Values": [f"arn:aws:s3:::{facts['model_bucket']}/{facts['model_prefix']}/"]}]}])
ct.start_logging(Name=facts["trail_name"])
### END SOLUTION
""", grade_id="task4a"),
    md("""
**Probe the network.** On AWS you would open a connection from an instance in the app subnet and from one elsewhere.
Here, `probe()` below asks seclab's network engine to play that connection through your security groups, NACLs and
route tables, and writes the VPC Flow Log records AWS would write into your flow log's group (it is the Python form of
`seclab net probe`). Run two probes **after** creating the flow log: from the app subnet (carrying the app's security
group) to the endpoint on 8080, and from the public web subnet `facts["public_subnet_id"]`.
Then read the records with `logs.filter_log_events`, and test the real path: borrow the app's role and call
`invoke_endpoint` (on AWS only EC2 and Lambda could assume that role; the simulator lets you borrow it to test).
""", grade_id="task4b-md"),
    code("""
def probe(source, port=facts["port"]):
    \"\"\"Play one tcp connection from `source` to the endpoint; your flow logs record it as AWS would.\"\"\"
    return lab.probe(source, {"sagemaker_endpoint": facts["endpoint_name"]}, port)
""", grade_id="probe-helper"),
    solution("""
### BEGIN SOLUTION
probe({"subnet": facts["app_subnet_id"], "security_groups": [facts["app_security_group_id"]]})   # expect ACCEPT
probe({"subnet": facts["public_subnet_id"]})                                                    # expect REJECT

logs = boto3.client("logs")
for event in logs.filter_log_events(logGroupName=facts["flow_log_group"], filterPattern="REJECT")["events"]:
    print(event["logStreamName"], event["message"])

creds = boto3.client("sts").assume_role(RoleArn=facts["app_role_arn"], RoleSessionName="connectivity-test")
c = creds["Credentials"]
runtime = boto3.client("sagemaker-runtime", aws_access_key_id=c["AccessKeyId"],
                       aws_secret_access_key=c["SecretAccessKey"], aws_session_token=c["SessionToken"])
reply = runtime.invoke_endpoint(EndpointName=facts["endpoint_name"], ContentType="application/json",
                                Body=json.dumps({"image_s3_uri": "s3://incoming/cat.jpg"}))
print("The endpoint answered:", reply["Body"].read())
### END SOLUTION
""", grade_id="task4b"),
    md("""
**Read the audit trail.** Call `cloudtrail.lookup_events()` and look at *who* made each call (`Username`), to which
service (`EventSource`) and what (`EventName`). The app's role should appear only for what the app does (its
`InvokeEndpoint` calls are *data* events, recorded by the trail's data selectors, not in this management history);
the execution role should never be assumed by a person.
""", grade_id="task4c-md"),
    solution("""
### BEGIN SOLUTION
ct = boto3.client("cloudtrail")
for ev in ct.lookup_events(MaxResults=50)["Events"]:
    print(ev["EventTime"], f"{ev.get('Username', '-'):40}", ev["EventSource"].split(".")[0], ev["EventName"])
### END SOLUTION
""", grade_id="task4c"),
    code('lab.check("verification")', grade_id="check4"),

    # ------------------------------------------------------------------------------------------ interview
    md("""
## Interview question (graded by your instructor)

*"A colleague deployed a SageMaker endpoint in a **public subnet**, with a security group **open to 0.0.0.0/0**, and
gave it a role with **AmazonSageMakerFullAccess**. What are the risks, and how would you fix them?"*

Answer in your own words: name each misconfiguration, the risk it creates and a concrete fix (you have just built
most of them). A few short paragraphs are enough.
""", grade_id="interview-md"),
    answer("interview", 10, """
**Network exposure.** A public subnet (route to an internet gateway) plus an inbound rule from 0.0.0.0/0 makes the
model server reachable from the whole internet: anyone can scan it, flood it (denial of service and cost), query it
at will to extract the model or probe for adversarial inputs, and exploit any vulnerability in the serving stack.
Fix: move the endpoint into private subnets with no internet-gateway route, with `VpcConfig` and network isolation;
give it its own security group admitting only the calling application's subnet (or security group) on the model
port; reach S3 and the SageMaker Runtime through VPC endpoints (gateway endpoint with a policy limited to the model
bucket, interface endpoint with private DNS). If outside clients truly need it, put an authenticated front door
(API Gateway or an ALB with TLS, WAF, restricted source ranges) in the public subnet instead of the model.

**Over-privileged IAM.** AmazonSageMakerFullAccess lets whoever controls the role (a compromised container or
application) create, update and delete endpoints and models, pass roles to SageMaker, and read broadly in S3: a
foothold becomes control of the ML platform and a path to data exfiltration. Fix: a dedicated execution role that
trusts only sagemaker.amazonaws.com with an aws:SourceAccount condition, with s3:GetObject on the artifact's prefix
and writes to its own log group only; the application's role gets only sagemaker:InvokeEndpoint on this endpoint's
ARN. Verify with VPC flow logs (only the app's connections accepted) and CloudTrail (only the expected calls, S3
data events on the model prefix), and keep both on.
"""),

    # ------------------------------------------------------------------------------------------ wrap-up
    md("""
## Check your progress

The whole lab, graded from the simulator's state, then a diagram of what you built: compare it with the target at the
top. Green is what the lab asks for; red is a finding; grey is not built yet.
""", grade_id="final-md"),
    code("result = lab.check()\nlab.diagram();", grade_id="final"),
]

if __name__ == "__main__":
    write_notebook(HERE / "private-endpoint.ipynb", cells, "A private, least-privilege SageMaker endpoint")
    print("wrote", HERE / "private-endpoint.ipynb")
