"""Builds cmk-pipeline.ipynb (the nbgrader source notebook). Run: .venv/bin/python labs/cmk-pipeline/make_notebook.py

Every solution cell is self-contained (it re-reads what it needs from AWS or from `facts`), and every cell outside
the solution regions runs without them, so the release version (solutions stripped) runs top to bottom.
"""

from pathlib import Path

from seclab.authoring import answer, code, md, solution, write_notebook

HERE = Path(__file__).resolve().parent

INTRO = """
# A customer-managed key for the whole ML pipeline, end to end

Your team trains a model on sensitive transaction data and serves it from a SageMaker endpoint. Security review
found that **everything is encrypted, but with keys nobody in the team controls**: the buckets use SSE-S3, the
training volumes and the endpoint use keys SageMaker owns, and the training role can do anything with S3 and KMS.
Your job: put the whole pipeline under **one customer-managed key (CMK)** whose policy you control, migrate the
data that is already there without losing a byte, and close the pipeline in transit and with an audit trail.

You work in your **own simulated AWS account** (nothing reaches real AWS). Build with ordinary `boto3`; after each
task, run the "check my progress" cell: the grader reads what you built and tells you, check by check, what holds,
why it matters and how to fix it.

### The seed project was written for Google Cloud: here is what each piece is on AWS

| In the seed (GCP) | Here (AWS) | Task |
|---|---|---|
| Cloud KMS customer-managed encryption key (CMEK) | AWS KMS customer-managed key (symmetric, rotation on) | 1 |
| Cloud KMS IAM: `cloudkms.admin` vs `cryptoKeyEncrypterDecrypter` | the **key policy**: an administrators statement and a users statement | 1 |
| BigQuery dataset with CMEK | the S3 data lake: the data bucket (Glue/Athena tables would sit on top of it) | 2, 3 |
| GCS bucket with a default CMEK | S3 bucket default encryption SSE-KMS with your key (+ S3 Bucket Keys) | 2 |
| "CMEK required" organization policy | bucket policy denying uploads not encrypted with your key | 2 |
| Vertex AI custom training job | SageMaker training job | 4 |
| Persistent-disk CMEK of the training VMs | `ResourceConfig.VolumeKmsKeyId` | 4 |
| Model artifacts / endpoint with CMEK | `OutputDataConfig.KmsKeyId`, endpoint config `KmsKeyId` | 4 |
| Service account with access to the key | the training execution role, named as a key user | 1, 4 |
| TLS by default; custom SSL certificate on the endpoint | an ACM certificate on an HTTPS load balancer with a TLS 1.2+ policy | 5 |
| Cloud Audit Logs (Cloud KMS data access logs) | CloudTrail (KMS calls are management events) | 5 |
| VPC Service Controls perimeter | S3 gateway endpoint policy + bucket policies on `aws:SourceVpce` (+ resource control policies in an AWS Organization) | 5 |
| Private Google Access | VPC endpoints (gateway for S3, interface for other services) | 5 |

### What you will build

```mermaid
flowchart LR
  subgraph vpc["VPC: private subnets only"]
    tj["SageMaker training job<br/>network isolation, encrypted inter-container traffic<br/>volume + output: CMK"]
    vpce{{"S3 gateway endpoint<br/>policy: the pipeline's buckets only"}}
    alb["internal load balancer<br/>HTTPS :443, TLS 1.2+, ACM certificate"]
  end
  data[("data bucket<br/>SSE-KMS with the CMK, Bucket Keys<br/>denies: plain HTTP, other keys, outside the endpoint")]
  art[("artifact bucket<br/>same rules")]
  key{"pipeline CMK<br/>rotation on<br/>admins cannot use, users cannot manage<br/>use only via S3 and SageMaker"}
  ep[/"SageMaker endpoint<br/>endpoint config KmsKeyId = CMK"/]
  trail["CloudTrail trail<br/>log file validation, audit key"]
  tj --> vpce --> data & art
  alb --> ep
  data & art & tj & ep -. encrypted with .-> key
  trail -. records every use of .-> key
```

> **What the simulator can and cannot show.** The simulator (moto behind seclab's gateway) stores key policies,
> bucket policies and endpoint policies but **enforces none of them**; the grader judges each one by evaluating
> concrete requests with seclab's IAM engine, the way AWS would. **S3 never calls KMS here**: an SSE-KMS object
> records which key encrypts it, but reading it does not need the key, and a **disabled key still decrypts**, so
> the classic demo "disable the key and watch reads fail" does not work. CloudTrail shows every call *you* make,
> but not the GenerateDataKey/Decrypt calls S3 and SageMaker would make on your behalf. Training jobs finish
> instantly and write no model file. The grade comes from the simulator's state, computed outside this notebook.
"""

SETUP = """
import datetime as dt
import hashlib
import json
import time

import boto3
from seclab.notebook import Lab

lab = Lab("cmk-pipeline")
facts = lab.setup(show=False)
REGION, ACCOUNT = facts["region"], facts["account_id"]
kms, s3, iam, ec2 = (boto3.client(n) for n in ("kms", "s3", "iam", "ec2"))
sm, ct, acm, elb = (boto3.client(n) for n in ("sagemaker", "cloudtrail", "acm", "elbv2"))


def pipeline_key_arn():
    \"\"\"The pipeline key's ARN, or None while task 1 is not done.\"\"\"
    try:
        return kms.describe_key(KeyId=facts["key_alias"])["KeyMetadata"]["Arn"]
    except kms.exceptions.NotFoundException:
        return None


for name in ("key_alias", "data_bucket", "artifact_bucket", "vpc_id", "private_subnets", "s3_endpoint_id",
             "key_admin_role_arn", "training_role_arn", "inference_role_arn", "steward_role_arn", "learner_arn",
             "training_job_prefix", "endpoint", "load_balancer", "trail_name", "trail_bucket"):
    print(f"{name:22} {facts[name]}")
"""

BROWNFIELD = """
for bucket in (facts["data_bucket"], facts["artifact_bucket"]):
    enc = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"][0]
    print(f"s3://{bucket}  default: {enc['ApplyServerSideEncryptionByDefault']['SSEAlgorithm']}")
    for obj in s3.list_objects_v2(Bucket=bucket).get("Contents", []):
        head = s3.head_object(Bucket=bucket, Key=obj["Key"])
        print(f"   {obj['Key']:34} {obj['Size']:6} bytes  {head.get('ServerSideEncryption')}  {head.get('SSEKMSKeyId') or ''}")
role = facts["training_role"]
print("\\ntraining role", role)
print("  managed:", [p["PolicyName"] for p in iam.list_attached_role_policies(RoleName=role)["AttachedPolicies"]])
print("  inline: ", iam.list_role_policies(RoleName=role)["PolicyNames"])
"""

TASK1 = """
## 1. A customer-managed key with rotation and a key policy that separates duties

The **key policy** is the only policy that guards a KMS key itself. Write it so that:

- **key administrators** (the security team's role `facts["key_admin_role_arn"]`, and you, `facts["learner_arn"]`,
  because AWS refuses a key policy that would lock its author out) can manage the key but **not use it**: no
  `Encrypt`, `Decrypt`, `ReEncrypt*`, `GenerateDataKey*`, and no `kms:Create*` (it includes `kms:CreateGrant`,
  which would let an administrator grant itself decryption);
- **key users**, the pipeline's roles (`facts["pipeline_role_arns"]`: training, inference, data steward), can use it
  but **not manage it**, and only **through S3 and SageMaker**: a `kms:ViaService` condition with
  `s3.us-east-1.amazonaws.com` and `sagemaker.us-east-1.amazonaws.com`. Stolen role credentials then cannot call
  `kms:Decrypt` directly from a laptop;
- SageMaker needs `kms:CreateGrant` to attach the key to training volumes: allow it to the training and inference
  roles only with `kms:GrantIsForAWSResource = true`;
- there is **no** "Enable IAM User Permissions" statement giving the account root `kms:*`: it would let any role
  whose IAM policy says `kms:*` (look at the training role above) use and manage the key.

Then create the key with that policy, give it the alias `facts["key_alias"]` and turn on **automatic rotation**.

Stuck? `lab.hint("key")` reveals one hint per run.
"""

TASK1_SOLUTION = """
### BEGIN SOLUTION
SERVICES = [f"s3.{REGION}.amazonaws.com", f"sagemaker.{REGION}.amazonaws.com"]
ADMIN_ACTIONS = [
    "kms:CreateAlias", "kms:UpdateAlias", "kms:DeleteAlias", "kms:DescribeKey", "kms:List*", "kms:Get*",
    "kms:PutKeyPolicy", "kms:EnableKey", "kms:DisableKey", "kms:EnableKeyRotation", "kms:DisableKeyRotation",
    "kms:RotateKeyOnDemand", "kms:UpdateKeyDescription", "kms:RevokeGrant", "kms:TagResource",
    "kms:UntagResource", "kms:ScheduleKeyDeletion", "kms:CancelKeyDeletion",
]
key_policy = {"Version": "2012-10-17", "Statement": [
    {"Sid": "KeyAdministrators", "Effect": "Allow",
     "Principal": {"AWS": [facts["key_admin_role_arn"], facts["learner_arn"]]},
     "Action": ADMIN_ACTIONS, "Resource": "*"},
    {"Sid": "KeyUsersThroughS3AndSageMaker", "Effect": "Allow",
     "Principal": {"AWS": facts["pipeline_role_arns"]},
     "Action": ["kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey*", "kms:DescribeKey"], "Resource": "*",
     "Condition": {"StringEquals": {"kms:ViaService": SERVICES}}},
    {"Sid": "KeyUsersGrantsForSageMakerVolumes", "Effect": "Allow",
     "Principal": {"AWS": [facts["training_role_arn"], facts["inference_role_arn"]]},
     "Action": "kms:CreateGrant", "Resource": "*",
     "Condition": {"Bool": {"kms:GrantIsForAWSResource": "true"},
                   "StringEquals": {"kms:ViaService": f"sagemaker.{REGION}.amazonaws.com"}}},
]}
key_arn = pipeline_key_arn()
if key_arn is None:
    key_arn = kms.create_key(Description="ML pipeline: training data, models, volumes",
                             Policy=json.dumps(key_policy))["KeyMetadata"]["Arn"]
    kms.create_alias(AliasName=facts["key_alias"], TargetKeyId=key_arn)
else:
    kms.put_key_policy(KeyId=key_arn, PolicyName="default", Policy=json.dumps(key_policy))
kms.enable_key_rotation(KeyId=key_arn, RotationPeriodInDays=365)
print("pipeline key:", key_arn, "rotation:", kms.get_key_rotation_status(KeyId=key_arn)["KeyRotationEnabled"])
### END SOLUTION
"""

ASK_ENGINE_KEY = """
# What the grader does with your key policy: it asks seclab's IAM engine about concrete requests.
from seclab.engines.iam import PolicySet, Request, evaluate

key_arn = pipeline_key_arn()
if key_arn is None:
    print("No key behind", facts["key_alias"], "yet.")
else:
    policy = json.loads(kms.get_key_policy(KeyId=key_arn, PolicyName="default")["Policy"])
    everything = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
    for who, action, via in ((facts["key_admin_role_arn"], "kms:Decrypt", None),
                             (facts["key_admin_role_arn"], "kms:PutKeyPolicy", None),
                             (facts["training_role_arn"], "kms:Decrypt", f"s3.{REGION}.amazonaws.com"),
                             (facts["training_role_arn"], "kms:Decrypt", None),
                             (facts["training_role_arn"], "kms:ScheduleKeyDeletion", None)):
        context = {"aws:PrincipalArn": who, "kms:CallerAccount": ACCOUNT, **({"kms:ViaService": via} if via else {})}
        # the caller's own IAM policies allow everything here: only the key policy decides
        d = evaluate(Request(who, ACCOUNT, action, key_arn, ACCOUNT, context),
                     PolicySet(identity=[everything], resource=[policy]))
        print(f"{who.rsplit('/', 1)[-1]:22} {action:26} {'via ' + via.split('.')[0] if via else 'directly':12} -> {d.decision}")
"""

TASK2 = """
## 2. Both buckets: default SSE-KMS with the key, and policies that refuse anything else and plain HTTP

For the data bucket and the artifact bucket:

1. **Default encryption**: SSE-KMS (`aws:kms`) with your key's **ARN**, and **S3 Bucket Keys** on (S3 then asks
   KMS for a bucket-level key once in a while instead of once per object: fewer KMS calls, lower cost).
2. A **bucket policy** with two Deny statements for `Principal: "*"`:
   - `DenyInsecureTransport`: `s3:*` on **both** the bucket ARN and `bucket/*` when `aws:SecureTransport` is `false`;
   - `DenyUploadsNotUnderPipelineKey`: `s3:PutObject` on `bucket/*` when
     `s3:x-amz-server-side-encryption-aws-kms-key-id` is not your key's ARN (`StringNotEquals` also matches a
     request without the header). From now on every upload must say
     `ServerSideEncryption="aws:kms", SSEKMSKeyId=<key ARN>`.

`put_bucket_policy` replaces the whole policy: task 5 will add a perimeter statement to the same policy.

> The simulator stores bucket policies but does not enforce them (moto's own enforcement treated every condition
> as true, so these very policies would have blocked every request; seclab switches it off). The grader evaluates
> them request by request instead: plain-HTTP reads, writes and configuration calls, and uploads with SSE-S3, with
> no key, with another key, from inside and outside the VPC.
"""

TASK2_SOLUTION = """
### BEGIN SOLUTION
key_arn = pipeline_key_arn()
for bucket in (facts["data_bucket"], facts["artifact_bucket"]):
    arn = f"arn:aws:s3:::{bucket}"
    s3.put_bucket_encryption(Bucket=bucket, ServerSideEncryptionConfiguration={"Rules": [{
        "ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": key_arn},
        "BucketKeyEnabled": True}]})
    s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps({"Version": "2012-10-17", "Statement": [
        {"Sid": "DenyInsecureTransport", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
         "Resource": [arn, f"{arn}/*"], "Condition": {"Bool": {"aws:SecureTransport": "false"}}},
        {"Sid": "DenyUploadsNotUnderPipelineKey", "Effect": "Deny", "Principal": "*", "Action": "s3:PutObject",
         "Resource": f"{arn}/*",
         "Condition": {"StringNotEquals": {"s3:x-amz-server-side-encryption-aws-kms-key-id": key_arn}}},
    ]}))
    print("configured", bucket)
### END SOLUTION
"""

ASK_ENGINE_BUCKET = """
# The grader's view of the data bucket's policy: a few of the requests it evaluates.
bucket = facts["data_bucket"]
try:
    policy = json.loads(s3.get_bucket_policy(Bucket=bucket)["Policy"])
except s3.exceptions.ClientError:
    policy = None
if policy is None:
    print("Bucket", bucket, "has no policy yet.")
else:
    everything = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
    who = facts["steward_role_arn"]
    key_arn = pipeline_key_arn() or "no-key-yet"
    for label, action, secure, headers in (
            ("GetObject over plain HTTP", "s3:GetObject", "false", {}),
            ("PutObject with SSE-S3", "s3:PutObject", "true", {"s3:x-amz-server-side-encryption": "AES256"}),
            ("PutObject with the pipeline key", "s3:PutObject", "true",
             {"s3:x-amz-server-side-encryption": "aws:kms", "s3:x-amz-server-side-encryption-aws-kms-key-id": key_arn})):
        context = {"aws:PrincipalArn": who, "aws:SecureTransport": secure, **headers}
        d = evaluate(Request(who, ACCOUNT, action, f"arn:aws:s3:::{bucket}/new.csv", ACCOUNT, context),
                     PolicySet(identity=[everything], resource=[policy]))
        print(f"{label:34} -> {d.decision}")
"""

TASK3 = """
## 3. Re-encrypt every existing object with the key, losing and changing nothing

Default encryption applies only to **new** writes: every object already in the buckets is still SSE-S3 (run the
brownfield cell again to see). Re-encrypt them **in place**: copy each object onto itself with
`ServerSideEncryption="aws:kms"`, `SSEKMSKeyId=<key ARN>` (the upload rule from task 2 wants the ARN) and
`BucketKeyEnabled=True`. A copy keeps the bytes; only the encryption changes.

Prove it: take an inventory **before** (key and ETag of each object), copy, take it again **after** and compare.
`facts["objects"]` also holds what set-up wrote (size, MD5, SHA-256 of each object): the grader checks object by
object that each one is present, unchanged (its ETag is still that MD5) and under your key.

> In the simulator an object's ETag is the MD5 of its content, also after SSE-KMS re-encryption. On AWS the ETag
> of an SSE-KMS object is **not** an MD5: there, copy with `ChecksumAlgorithm="SHA256"` and compare
> `ChecksumSHA256`, or download and hash (as the next cell does). For millions of objects use S3 Batch Operations
> with a Copy job and its completion report.
"""

TASK3_SOLUTION = """
### BEGIN SOLUTION
key_arn = pipeline_key_arn()


def inventory(bucket):
    return {o["Key"]: o["ETag"] for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket)
            for o in page.get("Contents", [])}


for bucket in (facts["data_bucket"], facts["artifact_bucket"]):
    before = inventory(bucket)
    copied = 0
    for key in sorted(before):
        head = s3.head_object(Bucket=bucket, Key=key)
        if head.get("ServerSideEncryption") == "aws:kms" and head.get("SSEKMSKeyId") == key_arn:
            continue  # already done: the migration can be re-run safely
        s3.copy_object(Bucket=bucket, Key=key, CopySource={"Bucket": bucket, "Key": key},
                       ServerSideEncryption="aws:kms", SSEKMSKeyId=key_arn, BucketKeyEnabled=True,
                       MetadataDirective="COPY")
        copied += 1
    after = inventory(bucket)
    assert after == before, f"the migration changed {bucket}: {set(before) ^ set(after)}"
    print(f"{bucket}: re-encrypted {copied} of {len(before)} objects, inventory unchanged")
### END SOLUTION
"""

VERIFY_OBJECTS = """
# Object by object: still there, same bytes (SHA-256 of the content), and which key protects it now.
key_arn = pipeline_key_arn()
for bucket, items in facts["objects"].items():
    for item in items:
        try:
            head = s3.head_object(Bucket=bucket, Key=item["key"])
            body = s3.get_object(Bucket=bucket, Key=item["key"])["Body"].read()
        except s3.exceptions.ClientError:
            print(f"MISSING  s3://{bucket}/{item['key']}")
            continue
        same = hashlib.sha256(body).hexdigest() == item["sha256"]
        under_key = head.get("ServerSideEncryption") == "aws:kms" and head.get("SSEKMSKeyId") == key_arn
        print(f"{'same bytes' if same else 'CHANGED':10} {'pipeline key' if under_key else head.get('ServerSideEncryption'):13}"
              f" s3://{bucket}/{item['key']}")
"""

TASK4 = """
## 4. Train and serve on the key: encrypted, isolated, least privilege

**a. The training role.** It has `AmazonS3FullAccess` and an inline `kms:*` on `*`: a compromised training
container could read every bucket and disable or delete your keys. Detach the managed policy, delete the inline
policy `kms-everything`, and add one policy with exactly what training needs: `s3:ListBucket` on the data bucket,
`s3:GetObject` on its objects, `s3:PutObject` under `training-output/` in the artifact bucket, `kms:Decrypt` and
`kms:GenerateDataKey` on the key's ARN (through S3 and SageMaker), and `kms:CreateGrant` only with
`kms:GrantIsForAWSResource = true`. Keep `training-runtime` (logs, image pull, network interfaces).

**b. The training job.** Run a job whose name starts with `facts["training_job_prefix"]`, as the training role,
reading `curated/` from the data bucket and writing to `s3://<artifact bucket>/training-output/`, with:
`ResourceConfig.VolumeKmsKeyId` and `OutputDataConfig.KmsKeyId` = the key, `EnableNetworkIsolation=True`,
`EnableInterContainerTrafficEncryption=True`, and `VpcConfig` in `facts["private_subnets"]` with
`facts["training_sg"]`. A job cannot be changed: to fix one, run a new one (the grader judges your latest).

**c. The endpoint.** `facts["endpoint"]` serves the baseline model through an endpoint config with no key. Create a
model from your job's artifacts (in the VPC, isolated), an endpoint config with `KmsKeyId` = the key, and move the
endpoint to it. On AWS that is `update_endpoint` (no downtime); the simulator lacks it, so delete the endpoint and
create it again with the new config.
"""

TASK4_ROLE = """
### BEGIN SOLUTION
key_arn = pipeline_key_arn()
role = facts["training_role"]
data_arn, art_arn = f"arn:aws:s3:::{facts['data_bucket']}", f"arn:aws:s3:::{facts['artifact_bucket']}"
if "arn:aws:iam::aws:policy/AmazonS3FullAccess" in [
        p["PolicyArn"] for p in iam.list_attached_role_policies(RoleName=role)["AttachedPolicies"]]:
    iam.detach_role_policy(RoleName=role, PolicyArn="arn:aws:iam::aws:policy/AmazonS3FullAccess")
if "kms-everything" in iam.list_role_policies(RoleName=role)["PolicyNames"]:
    iam.delete_role_policy(RoleName=role, PolicyName="kms-everything")
iam.put_role_policy(RoleName=role, PolicyName="training-data-access", PolicyDocument=json.dumps({
    "Version": "2012-10-17", "Statement": [
        {"Sid": "ListTrainingData", "Effect": "Allow", "Action": "s3:ListBucket", "Resource": data_arn},
        {"Sid": "ReadTrainingData", "Effect": "Allow", "Action": "s3:GetObject", "Resource": f"{data_arn}/*"},
        {"Sid": "WriteModelArtifacts", "Effect": "Allow", "Action": "s3:PutObject",
         "Resource": f"{art_arn}/{facts['training_output_prefix']}*"},
        {"Sid": "UsePipelineKeyThroughS3AndSageMaker", "Effect": "Allow",
         "Action": ["kms:Decrypt", "kms:GenerateDataKey"], "Resource": key_arn,
         "Condition": {"StringEquals": {"kms:ViaService": [f"s3.{REGION}.amazonaws.com",
                                                            f"sagemaker.{REGION}.amazonaws.com"]}}},
        {"Sid": "GrantsForTrainingVolumes", "Effect": "Allow", "Action": "kms:CreateGrant", "Resource": key_arn,
         "Condition": {"Bool": {"kms:GrantIsForAWSResource": "true"}}},
    ]}))
print("role policies now:", iam.list_role_policies(RoleName=role)["PolicyNames"],
      [p["PolicyName"] for p in iam.list_attached_role_policies(RoleName=role)["AttachedPolicies"]])
### END SOLUTION
"""

TASK4_JOB = """
### BEGIN SOLUTION
key_arn = pipeline_key_arn()
job_name = f"{facts['training_job_prefix']}-{int(time.time())}"
sm.create_training_job(
    TrainingJobName=job_name,
    RoleArn=facts["training_role_arn"],
    AlgorithmSpecification={"TrainingImage": facts["training_image"], "TrainingInputMode": "File"},
    HyperParameters={"objective": "binary:logistic", "num_round": "50"},
    InputDataConfig=[{"ChannelName": "train", "ContentType": "text/csv", "DataSource": {"S3DataSource": {
        "S3DataType": "S3Prefix", "S3Uri": f"s3://{facts['data_bucket']}/curated/"}}}],
    OutputDataConfig={"S3OutputPath": f"s3://{facts['artifact_bucket']}/{facts['training_output_prefix']}",
                      "KmsKeyId": key_arn},
    ResourceConfig={"InstanceType": "ml.m5.xlarge", "InstanceCount": 2, "VolumeSizeInGB": 30,
                    "VolumeKmsKeyId": key_arn},
    StoppingCondition={"MaxRuntimeInSeconds": 3600},
    VpcConfig={"Subnets": facts["private_subnets"], "SecurityGroupIds": [facts["training_sg"]]},
    EnableNetworkIsolation=True,
    EnableInterContainerTrafficEncryption=True,
)
print(job_name, sm.describe_training_job(TrainingJobName=job_name)["TrainingJobStatus"])
### END SOLUTION
"""

TASK4_ENDPOINT = """
### BEGIN SOLUTION
key_arn = pipeline_key_arn()
jobs = [j for j in sm.list_training_jobs(MaxResults=100, SortBy="CreationTime", SortOrder="Descending")
        ["TrainingJobSummaries"] if j["TrainingJobName"].startswith(facts["training_job_prefix"])]
latest = sm.describe_training_job(TrainingJobName=jobs[0]["TrainingJobName"])
stamp = int(time.time())
model, config = f"{facts['project']}-model-{stamp}", f"{facts['project']}-config-{stamp}"
sm.create_model(ModelName=model, ExecutionRoleArn=facts["inference_role_arn"],
                PrimaryContainer={"Image": facts["training_image"],
                                  "ModelDataUrl": latest["ModelArtifacts"]["S3ModelArtifacts"]},
                VpcConfig={"Subnets": facts["private_subnets"], "SecurityGroupIds": [facts["training_sg"]]},
                EnableNetworkIsolation=True)
sm.create_endpoint_config(EndpointConfigName=config, KmsKeyId=key_arn, ProductionVariants=[{
    "VariantName": "primary", "ModelName": model, "InitialInstanceCount": 1, "InstanceType": "ml.m5.large"}])
# AWS: sm.update_endpoint(EndpointName=facts["endpoint"], EndpointConfigName=config); the simulator lacks it
try:
    sm.delete_endpoint(EndpointName=facts["endpoint"])
except sm.exceptions.ClientError:
    pass
sm.create_endpoint(EndpointName=facts["endpoint"], EndpointConfigName=config)
print(facts["endpoint"], "->", sm.describe_endpoint(EndpointName=facts["endpoint"])["EndpointConfigName"])
### END SOLUTION
"""

TASK5 = """
## 5. In transit and audit: HTTPS front door, encrypted validated trail, VPC-endpoint perimeter

**a. HTTPS front door.** Clients inside the network reach the model through an internal load balancer
(`facts["load_balancer"]`, in `facts["private_subnets"]`, security group `facts["api_sg"]`). Give it an
**HTTPS:443 listener** with an **ACM certificate** for `facts["api_domain"]` (the seed's "custom SSL
certificate": here a self-signed one imported into ACM; in production ACM issues it or your private CA signs it)
and the security policy `ELBSecurityPolicy-TLS13-1-2-2021-06` (TLS 1.2 and 1.3 only). No plain-HTTP listener,
except one that only redirects to HTTPS.

**b. Audit trail.** Create a second key for the logs (`facts["audit_key_alias"]`) whose policy lets
`cloudtrail.amazonaws.com` call `kms:GenerateDataKey*` for your trail (on AWS CloudTrail refuses a key it may not
use; the simulator does not check, the grader does), then the trail `facts["trail_name"]` into
`facts["trail_bucket"]` with that key and **log file validation**, and start logging.

**c. Audit the key.** Look up the key's events: `lookup_events` with the attribute `EventSource =
kms.amazonaws.com` (or `ResourceName` = the key id). Read who did what.

**d. Perimeter** (the AWS counterpart of VPC Service Controls). Replace the S3 gateway endpoint's wide-open policy
with one that reaches **only the pipeline's buckets**, and add to both bucket policies a Deny on `s3:*` when
`aws:SourceVpce` is not `facts["s3_endpoint_id"]`, **except** for `aws:PrincipalArn` in
`facts["perimeter_exempt_arns"]` (the data steward, who loads data from outside, and you: without that exception
you would lock yourself out of your own buckets).
"""

TASK5_TLS = """
### BEGIN SOLUTION
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

domain = facts["api_domain"]
existing = [c for c in acm.list_certificates()["CertificateSummaryList"] if c["DomainName"] == domain]
if existing:
    cert_arn = existing[0]["CertificateArn"]
else:
    private_key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, domain)])
    now = dt.datetime.now(dt.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject)
            .public_key(private_key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(now + dt.timedelta(days=397))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(domain)]), critical=False)
            .sign(private_key, hashes.SHA256()))
    cert_arn = acm.import_certificate(
        Certificate=cert.public_bytes(serialization.Encoding.PEM),
        PrivateKey=private_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                             serialization.NoEncryption()))["CertificateArn"]

lbs = [b for b in elb.describe_load_balancers()["LoadBalancers"] if b["LoadBalancerName"] == facts["load_balancer"]]
lb_arn = lbs[0]["LoadBalancerArn"] if lbs else elb.create_load_balancer(
    Name=facts["load_balancer"], Subnets=facts["private_subnets"], SecurityGroups=[facts["api_sg"]],
    Scheme="internal", Type="application")["LoadBalancers"][0]["LoadBalancerArn"]
tg_name = f"{facts['project']}-inference"
tgs = [t for t in elb.describe_target_groups()["TargetGroups"] if t["TargetGroupName"] == tg_name]
tg_arn = tgs[0]["TargetGroupArn"] if tgs else elb.create_target_group(
    Name=tg_name, Protocol="HTTPS", Port=443, VpcId=facts["vpc_id"], TargetType="ip")["TargetGroups"][0]["TargetGroupArn"]
https = [x for x in elb.describe_listeners(LoadBalancerArn=lb_arn)["Listeners"] if x["Protocol"] == "HTTPS"]
if https:
    elb.modify_listener(ListenerArn=https[0]["ListenerArn"], SslPolicy="ELBSecurityPolicy-TLS13-1-2-2021-06",
                        Certificates=[{"CertificateArn": cert_arn}])
else:
    elb.create_listener(LoadBalancerArn=lb_arn, Protocol="HTTPS", Port=443,
                        SslPolicy="ELBSecurityPolicy-TLS13-1-2-2021-06", Certificates=[{"CertificateArn": cert_arn}],
                        DefaultActions=[{"Type": "forward", "TargetGroupArn": tg_arn}])
print(facts["load_balancer"], "HTTPS:443 with", domain)
### END SOLUTION
"""

TASK5_TRAIL = """
### BEGIN SOLUTION
trail_arn = f"arn:aws:cloudtrail:{REGION}:{ACCOUNT}:trail/{facts['trail_name']}"
audit_policy = {"Version": "2012-10-17", "Statement": [
    {"Sid": "KeyAdministrators", "Effect": "Allow",
     "Principal": {"AWS": [facts["key_admin_role_arn"], facts["learner_arn"]]},
     "Action": ["kms:CreateAlias", "kms:DescribeKey", "kms:List*", "kms:Get*", "kms:PutKeyPolicy",
                "kms:EnableKeyRotation", "kms:DisableKey", "kms:EnableKey", "kms:ScheduleKeyDeletion",
                "kms:CancelKeyDeletion", "kms:TagResource", "kms:UntagResource"], "Resource": "*"},
    {"Sid": "AllowCloudTrailToEncryptLogs", "Effect": "Allow",
     "Principal": {"Service": "cloudtrail.amazonaws.com"}, "Action": "kms:GenerateDataKey*", "Resource": "*",
     "Condition": {"StringEquals": {"aws:SourceArn": trail_arn},
                   "StringLike": {"kms:EncryptionContext:aws:cloudtrail:arn": f"arn:aws:cloudtrail:*:{ACCOUNT}:trail/*"}}},
    {"Sid": "AllowCloudTrailToDescribeKey", "Effect": "Allow",
     "Principal": {"Service": "cloudtrail.amazonaws.com"}, "Action": "kms:DescribeKey", "Resource": "*"},
    {"Sid": "AuditorsReadLogs", "Effect": "Allow", "Principal": {"AWS": facts["key_admin_role_arn"]},
     "Action": "kms:Decrypt", "Resource": "*",
     "Condition": {"Null": {"kms:EncryptionContext:aws:cloudtrail:arn": "false"}}},
]}
aliases = {a["AliasName"] for a in kms.list_aliases()["Aliases"]}
if facts["audit_key_alias"] in aliases:
    audit_key = kms.describe_key(KeyId=facts["audit_key_alias"])["KeyMetadata"]["Arn"]
    kms.put_key_policy(KeyId=audit_key, PolicyName="default", Policy=json.dumps(audit_policy))
else:
    audit_key = kms.create_key(Description="CloudTrail log files", Policy=json.dumps(audit_policy))["KeyMetadata"]["Arn"]
    kms.create_alias(AliasName=facts["audit_key_alias"], TargetKeyId=audit_key)
kms.enable_key_rotation(KeyId=audit_key)
trail_args = dict(Name=facts["trail_name"], S3BucketName=facts["trail_bucket"], KmsKeyId=audit_key,
                  EnableLogFileValidation=True, IsMultiRegionTrail=True, IncludeGlobalServiceEvents=True)
if facts["trail_name"] in {t["Name"] for t in ct.describe_trails()["trailList"]}:
    ct.update_trail(**trail_args)
else:
    ct.create_trail(**trail_args)
ct.start_logging(Name=facts["trail_name"])
print(ct.get_trail_status(Name=facts["trail_name"])["IsLogging"], ct.get_trail(Name=facts["trail_name"])["Trail"]["KmsKeyId"])
### END SOLUTION
"""

TASK5_AUDIT = """
### BEGIN SOLUTION
events = ct.lookup_events(LookupAttributes=[{"AttributeKey": "EventSource", "AttributeValue": "kms.amazonaws.com"}],
                          MaxResults=50)["Events"]
for e in events[:15]:
    detail = json.loads(e["CloudTrailEvent"])
    print(e["EventTime"], f"{e['EventName']:22}", detail["userIdentity"].get("arn"),
          (detail.get("requestParameters") or {}).get("keyId", ""))
### END SOLUTION
"""

TASK5_PERIMETER = """
### BEGIN SOLUTION
buckets = (facts["data_bucket"], facts["artifact_bucket"])
ec2.modify_vpc_endpoint(VpcEndpointId=facts["s3_endpoint_id"], PolicyDocument=json.dumps({
    "Version": "2012-10-17", "Statement": [{
        "Sid": "OnlyThePipelineBuckets", "Effect": "Allow", "Principal": "*",
        "Action": ["s3:GetObject", "s3:PutObject", "s3:ListBucket", "s3:GetBucketLocation"],
        "Resource": [f"arn:aws:s3:::{b}{suffix}" for b in buckets for suffix in ("", "/*")]}]}))
for bucket in buckets:
    arn = f"arn:aws:s3:::{bucket}"
    try:
        policy = json.loads(s3.get_bucket_policy(Bucket=bucket)["Policy"])
    except s3.exceptions.ClientError:
        policy = {"Version": "2012-10-17", "Statement": []}
    policy["Statement"] = [st for st in policy["Statement"] if st.get("Sid") != "DenyOutsidePerimeter"]
    policy["Statement"].append({
        "Sid": "DenyOutsidePerimeter", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
        "Resource": [arn, f"{arn}/*"],
        "Condition": {"StringNotEquals": {"aws:SourceVpce": facts["s3_endpoint_id"]},
                      "ArnNotEquals": {"aws:PrincipalArn": facts["perimeter_exempt_arns"]}}})
    s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps(policy))
    print(bucket, [st["Sid"] for st in policy["Statement"]])
### END SOLUTION
"""

MODEL_ANSWER = """
Roll it out like a migration, not a switch. 1) Key hierarchy first: one CMK per data domain and environment,
created by IaC with a reviewed key policy (security team administers, pipeline roles use through S3/SageMaker
only), rotation on, aliases as the stable names. 2) New writes next: set default SSE-KMS + Bucket Keys and put
the key into the training/serving templates (a shared IaC module or pipeline step injects the alias), so no new
data lands under SSE-S3. 3) Then enforce: bucket policies denying uploads under other keys and non-TLS requests,
first in a report-only way (CloudTrail/Access Analyzer findings, Config rules), then as Deny. 4) Migrate the
brownfield per bucket in a maintenance window with S3 Batch Operations (Copy with the new key), an inventory and
checksums before and after, and a rollback plan (versioning on, old key kept enabled until validated). 5) Prove
and keep it: CloudTrail alerts on key use by unexpected principals and on DisableKey/ScheduleKeyDeletion, and a
periodic check that no object or job uses another key. People: agree the design with each team, give them a
runbook and a migration script, and track adoption per pipeline.
"""


cells = [
    md(INTRO, grade_id="intro"),
    md("## Set up\nRun this cell first. It prepares your scenario and prints the names the grader will look for.",
       grade_id="setup-md"),
    code(SETUP, grade_id="setup"),
    md("### The brownfield\nWhat you inherit: every object is SSE-S3, and the training role is far too broad.",
       grade_id="brownfield-md"),
    code(BROWNFIELD, grade_id="brownfield"),
    md(TASK1, grade_id="task1-md"),
    solution(TASK1_SOLUTION, grade_id="task1"),
    md("Ask the IAM engine what your key policy allows (this is how the grader judges it: by evaluating requests, "
       "not by reading the text):", grade_id="engine-key-md"),
    code(ASK_ENGINE_KEY, grade_id="engine-key"),
    code('lab.check("key")', grade_id="check1"),
    md(TASK2, grade_id="task2-md"),
    solution(TASK2_SOLUTION, grade_id="task2"),
    code(ASK_ENGINE_BUCKET, grade_id="engine-bucket"),
    code('lab.check("buckets")', grade_id="check2"),
    md(TASK3, grade_id="task3-md"),
    solution(TASK3_SOLUTION, grade_id="task3"),
    code(VERIFY_OBJECTS, grade_id="verify-objects"),
    code('lab.check("migration")', grade_id="check3"),
    md(TASK4, grade_id="task4-md"),
    md("**a.** Cut the training role down to what training needs.", grade_id="task4a-md"),
    solution(TASK4_ROLE, grade_id="task4a"),
    md("**b.** Run the training job on the key, isolated in the private subnets.", grade_id="task4b-md"),
    solution(TASK4_JOB, grade_id="task4b"),
    md("**c.** Serve the new model through an endpoint config encrypted with the key.", grade_id="task4c-md"),
    solution(TASK4_ENDPOINT, grade_id="task4c"),
    code('lab.check("training")', grade_id="check4"),
    md(TASK5, grade_id="task5-md"),
    md("**a.** The HTTPS front door.", grade_id="task5a-md"),
    solution(TASK5_TLS, grade_id="task5a"),
    md("**b.** The encrypted, validated audit trail.", grade_id="task5b-md"),
    solution(TASK5_TRAIL, grade_id="task5b"),
    md("**c.** Audit the key: look up its events.", grade_id="task5c-md"),
    solution(TASK5_AUDIT, grade_id="task5c"),
    md("**d.** The perimeter: endpoint policy and bucket policies.", grade_id="task5d-md"),
    solution(TASK5_PERIMETER, grade_id="task5d"),
    code('lab.check("transit-audit")', grade_id="check5"),
    md("""
## Reflection (graded by your instructor)

The seed's interview question: *your organisation mandates customer-managed keys for every model pipeline, and
dozens of pipelines already run with service-managed keys.* How would you roll the change out across teams without
breaking production? Cover the technical plan (key hierarchy, new writes, enforcement, the brownfield migration,
proof) and the people side.
""", grade_id="reflection-md"),
    answer("reflection", 5, MODEL_ANSWER),
    md("## Check your progress\n\nThe whole lab, graded from the simulator's state; then a diagram of what you built.",
       grade_id="final-md"),
    code("result = lab.check()\nlab.diagram()", grade_id="final"),
]

if __name__ == "__main__":
    write_notebook(HERE / "cmk-pipeline.ipynb", cells, "A customer-managed key for the whole ML pipeline")
    print("wrote", HERE / "cmk-pipeline.ipynb")
