"""The encryption engine against the real simulator: resources built as the learner, read back with the inventory
collector, judged by the engine. One learner per test; each test builds many resources at once to keep the
collector runs few."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest

from seclab.engines.crypto import report, summary
from seclab.inventory.collect import collect_learner

REGION = "us-east-1"
SECTIONS = ("iam", "kms", "s3", "sagemaker", "ecr", "logs", "cloudtrail", "ec2", "elbv2", "acm")
ROOT = Path(__file__).resolve().parents[2]


def _session(learner: Any, account: str | None = None) -> Any:
    from seclab.sim.sessions import learner_session

    return learner_session(learner.name, account=account)


def _resources(learner: Any) -> dict[str, dict[str, Any]]:
    inv = collect_learner(learner.name, sections=SECTIONS)
    doc = report(inv)
    assert not doc["errors"], doc["errors"]
    return {r["arn"]: r for r in doc["resources"]}


def _fields(r: dict[str, Any]) -> tuple[Any, ...]:
    a = r["at_rest"]
    return a["encrypted"], a["key_kind"], a["key_arn"], a["key_state"]


def _bucket(s3: Any, tag: str) -> str:
    name = f"cr-{tag}-{uuid.uuid4().hex[:8]}"
    s3.create_bucket(Bucket=name)
    return name


def _encrypt(s3: Any, bucket: str, algorithm: str, key: str | None = None, bucket_key: bool = False) -> None:
    rule: dict[str, Any] = {"SSEAlgorithm": algorithm}
    if key:
        rule["KMSMasterKeyID"] = key
    s3.put_bucket_encryption(Bucket=bucket, ServerSideEncryptionConfiguration={
        "Rules": [{"ApplyServerSideEncryptionByDefault": rule, "BucketKeyEnabled": bucket_key}]})


def _policy(s3: Any, bucket: str, *statements: dict[str, Any]) -> None:
    s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps({"Version": "2012-10-17", "Statement": list(statements)}))


def _tls_statement(bucket: str, **over: Any) -> dict[str, Any]:
    st = {"Sid": "DenyInsecureTransport", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
          "Resource": [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"],
          "Condition": {"Bool": {"aws:SecureTransport": "false"}}}
    st.update(over)
    return st


def test_buckets_and_objects_every_key_kind_and_reference_form(learner):
    s = _session(learner)
    s3, kms = s.client("s3"), s.client("kms")
    cmk = kms.create_key(Description="models")["KeyMetadata"]
    kms.create_alias(AliasName="alias/models", TargetKeyId=cmk["KeyId"])
    disabled = kms.create_key(Description="off")["KeyMetadata"]
    kms.disable_key(KeyId=disabled["KeyId"])
    doomed = kms.create_key(Description="doomed")["KeyMetadata"]
    kms.schedule_key_deletion(KeyId=doomed["KeyId"], PendingWindowInDays=7)
    acct = learner.home_account
    foreign = f"arn:aws:kms:{REGION}:999999999999:key/11111111-2222-4333-8444-555555555555"
    missing = "0badc0de-0000-4000-8000-000000000000"

    cases = {
        "plain": (None, None, (True, "aws_owned", None, None)),
        "sses3": ("AES256", None, (True, "aws_owned", None, None)),
        "byid": ("aws:kms", cmk["KeyId"], (True, "customer_managed", cmk["Arn"], "Enabled")),
        "byarn": ("aws:kms", cmk["Arn"], (True, "customer_managed", cmk["Arn"], "Enabled")),
        "byalias": ("aws:kms", "alias/models", (True, "customer_managed", cmk["Arn"], "Enabled")),
        "byaliasarn": ("aws:kms", f"arn:aws:kms:{REGION}:{acct}:alias/models",
                       (True, "customer_managed", cmk["Arn"], "Enabled")),
        "dsse": ("aws:kms:dsse", cmk["Arn"], (True, "customer_managed", cmk["Arn"], "Enabled")),
        "disabled": ("aws:kms", disabled["Arn"], (True, "customer_managed", disabled["Arn"], "Disabled")),
        "doomed": ("aws:kms", doomed["KeyId"], (True, "customer_managed", doomed["Arn"], "PendingDeletion")),
        "missing": ("aws:kms", missing, (True, "customer_managed", f"arn:aws:kms:{REGION}:{acct}:key/{missing}",
                                         "NotFound")),
        "foreign": ("aws:kms", foreign, (True, "customer_managed", foreign, None)),
    }
    names = {}
    for tag, (algorithm, ref, _) in cases.items():
        names[tag] = _bucket(s3, tag)
        if algorithm:
            _encrypt(s3, names[tag], algorithm, ref, bucket_key=(tag == "byarn"))
    managed = _bucket(s3, "managed")
    _encrypt(s3, managed, "aws:kms")
    # objects for a migration: one written before the CMK default, one after, one with an explicit other key
    mig = names["byarn"]
    s3.put_object(Bucket=mig, Key="new.txt", Body=b"x")
    s3.put_object(Bucket=mig, Key="old.txt", Body=b"x", ServerSideEncryption="AES256")
    s3.put_object(Bucket=mig, Key="other.txt", Body=b"x", ServerSideEncryption="aws:kms",
                  SSEKMSKeyId=disabled["Arn"])

    res = _resources(learner)
    for tag, (_, _, expect) in cases.items():
        r = res[f"arn:aws:s3:::{names[tag]}"]
        assert r["type"] == "AWS::S3::Bucket"
        assert _fields(r) == expect, tag
        assert r["in_transit"]["tls_enforced"] is False
    assert res[f"arn:aws:s3:::{names['byarn']}"]["default_encryption"]["bucket_key_enabled"] is True
    assert res[f"arn:aws:s3:::{names['plain']}"]["default_encryption"]["service_default"] is True
    assert "bucket_key_named_by_alias" in [f["code"] for f in res[f"arn:aws:s3:::{names['byalias']}"]["findings"]]
    assert "key_not_found" in [f["code"] for f in res[f"arn:aws:s3:::{names['missing']}"]["findings"]]
    m = res[f"arn:aws:s3:::{managed}"]["at_rest"]
    assert m["key_kind"] == "aws_managed"
    assert m["key_arn"] and m["key_arn"].startswith(f"arn:aws:kms:{REGION}:{acct}:key/")

    objs = {k: res[f"arn:aws:s3:::{mig}/{k}"] for k in ("new.txt", "old.txt", "other.txt")}
    assert _fields(objs["new.txt"]) == (True, "customer_managed", cmk["Arn"], "Enabled")
    assert objs["new.txt"]["matches_bucket_default"] is True
    assert _fields(objs["old.txt"]) == (True, "aws_owned", None, None)
    assert _fields(objs["other.txt"]) == (True, "customer_managed", disabled["Arn"], "Disabled")
    assert not objs["old.txt"]["matches_bucket_default"] and objs["old.txt"]["type"] == "AWS::S3::Object"

    key_res = res[cmk["Arn"]]
    assert key_res["type"] == "AWS::KMS::Key" and key_res["name"] == "alias/models"
    assert key_res["policy"]["root_delegates_to_iam"] is True
    assert {u["arn"] for u in key_res["used_by"]} == {
        f"arn:aws:s3:::{names[t]}" for t in ("byid", "byarn", "byalias", "byaliasarn", "dsse")}
    assert key_res["objects_using"] == 1
    assert res[doomed["Arn"]]["key"]["deletion_date"]


def test_bucket_tls_and_upload_policies_judged_by_effect(learner):
    s = _session(learner)
    s3, kms = s.client("s3"), s.client("kms")
    cmk = kms.create_key()["KeyMetadata"]

    def b(tag: str) -> str:
        name = _bucket(s3, tag)
        _encrypt(s3, name, "aws:kms", cmk["Arn"], True)
        return name

    good, get_only, bucket_only, objects_only, allow, str_false, str_cap, inverted, account_only = (
        b("good"), b("getonly"), b("bktonly"), b("objonly"), b("allow"), b("streq"), b("strcap"), b("inv"), b("acct"))
    _policy(s3, good, _tls_statement(good), {
        "Sid": "RequireKey", "Effect": "Deny", "Principal": "*", "Action": "s3:PutObject",
        "Resource": f"arn:aws:s3:::{good}/*",
        "Condition": {"StringNotEquals": {"s3:x-amz-server-side-encryption-aws-kms-key-id": cmk["Arn"]}}})
    _policy(s3, get_only, _tls_statement(get_only, Action="s3:GetObject", Resource=f"arn:aws:s3:::{get_only}/*"))
    _policy(s3, bucket_only, _tls_statement(bucket_only, Resource=f"arn:aws:s3:::{bucket_only}"))
    _policy(s3, objects_only, _tls_statement(objects_only, Resource=f"arn:aws:s3:::{objects_only}/*"))
    _policy(s3, allow, _tls_statement(allow, Effect="Allow", Condition={"Bool": {"aws:SecureTransport": "true"}}),
            {"Sid": "RequireKms", "Effect": "Deny", "Principal": "*", "Action": "s3:PutObject",
             "Resource": f"arn:aws:s3:::{allow}/*",
             "Condition": {"StringNotEquals": {"s3:x-amz-server-side-encryption": "aws:kms"}}})
    _policy(s3, str_false, _tls_statement(str_false, Condition={"StringEquals": {"aws:SecureTransport": "false"}}))
    _policy(s3, str_cap, _tls_statement(str_cap, Condition={"StringEquals": {"aws:SecureTransport": "False"}}))
    _policy(s3, inverted, _tls_statement(inverted, Condition={"Bool": {"aws:SecureTransport": "true"}}))
    _policy(s3, account_only, _tls_statement(account_only,
                                             Principal={"AWS": f"arn:aws:iam::{learner.home_account}:root"}))

    res = _resources(learner)

    def tls(name: str) -> Any:
        return res[f"arn:aws:s3:::{name}"]["in_transit"]["tls_enforced"]

    assert tls(good) is True
    assert tls(str_false) is True  # StringEquals "false" matches exactly like Bool
    for name in (get_only, bucket_only, objects_only, allow, str_cap, inverted, account_only):
        assert tls(name) is False, name
    assert any(n["action"] == "s3:PutObject" for n in res[f"arn:aws:s3:::{get_only}"]["in_transit"]["not_denied"])
    assert any(n["resource"].endswith("/seclab-probe/object.bin")
               for n in res[f"arn:aws:s3:::{bucket_only}"]["in_transit"]["not_denied"])
    assert {n["action"] for n in res[f"arn:aws:s3:::{objects_only}"]["in_transit"]["not_denied"]} >= {
        "s3:ListBucket", "s3:PutBucketPolicy"}
    assert res[f"arn:aws:s3:::{good}"]["upload_encryption_policy"]["enforced"] is True
    upload = res[f"arn:aws:s3:::{allow}"]["upload_encryption_policy"]
    assert upload["enforced"] is False and upload["probes"]["kms_other_key"]["denied"] is False
    assert upload["probes"]["sse_s3"]["denied"] is True
    lines = summary({"resources": list(res.values())}, cmk["Arn"])
    assert any(line.startswith("Requests without TLS are refused by 2 of 9 buckets") for line in lines), lines


def _role(iam: Any, name: str, policy: dict[str, Any] | None = None) -> str:
    trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                                     "Principal": {"Service": "sagemaker.amazonaws.com"}}]}
    arn = iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
    if policy:
        iam.put_role_policy(RoleName=name, PolicyName="inline", PolicyDocument=json.dumps(policy))
    return str(arn)


def test_sagemaker_ecr_logs_trail_ebs(learner):
    s = _session(learner)
    kms, s3, sm, iam = s.client("kms"), s.client("s3"), s.client("sagemaker"), s.client("iam")
    cmk = kms.create_key()["KeyMetadata"]
    kms.create_alias(AliasName="alias/ml", TargetKeyId=cmk["KeyId"])
    role = _role(iam, "sm-exec")
    models = _bucket(s3, "models")
    _encrypt(s3, models, "aws:kms", cmk["Arn"], True)
    s3.put_object(Bucket=models, Key="m/model.tar.gz", Body=b"model")
    common = {"AlgorithmSpecification": {"TrainingImage": "123.dkr.ecr.us-east-1.amazonaws.com/t:1",
                                         "TrainingInputMode": "File"},
              "RoleArn": role, "StoppingCondition": {"MaxRuntimeInSeconds": 3600}}
    sm.create_training_job(TrainingJobName="tj-cmk", **common,
                           OutputDataConfig={"S3OutputPath": f"s3://{models}/out", "KmsKeyId": cmk["Arn"]},
                           ResourceConfig={"InstanceType": "ml.m5.xlarge", "InstanceCount": 2, "VolumeSizeInGB": 10,
                                           "VolumeKmsKeyId": "alias/ml"},
                           EnableInterContainerTrafficEncryption=True)
    sm.create_training_job(TrainingJobName="tj-default", **common,
                           OutputDataConfig={"S3OutputPath": f"s3://{models}/out"},
                           ResourceConfig={"InstanceType": "ml.m5.xlarge", "InstanceCount": 1, "VolumeSizeInGB": 10})
    sm.create_processing_job(ProcessingJobName="pj", RoleArn=role,
                             AppSpecification={"ImageUri": "123.dkr.ecr.us-east-1.amazonaws.com/p:1"},
                             ProcessingResources={"ClusterConfig": {"InstanceCount": 1,
                                                                    "InstanceType": "ml.m5.xlarge",
                                                                    "VolumeSizeInGB": 10}},
                             ProcessingOutputConfig={"Outputs": [{"OutputName": "o", "S3Output": {
                                 "S3Uri": f"s3://{models}/proc", "LocalPath": "/opt/ml/processing/o",
                                 "S3UploadMode": "EndOfJob"}}], "KmsKeyId": cmk["KeyId"]},
                             NetworkConfig={"EnableInterContainerTrafficEncryption": False})
    sm.create_model(ModelName="m", ExecutionRoleArn=role,
                    PrimaryContainer={"Image": "123.dkr.ecr.us-east-1.amazonaws.com/i:1",
                                      "ModelDataUrl": f"s3://{models}/m/model.tar.gz"})
    variant = [{"VariantName": "v", "ModelName": "m", "InitialInstanceCount": 1, "InstanceType": "ml.m5.large"}]
    sm.create_endpoint_config(EndpointConfigName="ec-cmk", ProductionVariants=variant, KmsKeyId=cmk["Arn"],
                              DataCaptureConfig={"EnableCapture": True, "InitialSamplingPercentage": 100,
                                                 "DestinationS3Uri": f"s3://{models}/capture",
                                                 "KmsKeyId": cmk["KeyId"],
                                                 "CaptureOptions": [{"CaptureMode": "Input"}]})
    sm.create_endpoint_config(EndpointConfigName="ec-default", ProductionVariants=variant)
    sm.create_notebook_instance(NotebookInstanceName="nb", InstanceType="ml.t3.medium", RoleArn=role,
                                KmsKeyId=cmk["KeyId"])
    ecr = s.client("ecr")
    repo_aes = ecr.create_repository(repositoryName="ml/aes")["repository"]["repositoryArn"]
    repo_kms = ecr.create_repository(repositoryName="ml/kms", encryptionConfiguration={
        "encryptionType": "KMS", "kmsKey": cmk["Arn"]})["repository"]["repositoryArn"]
    logs = s.client("logs")
    logs.create_log_group(logGroupName="/ml/plain")
    logs.create_log_group(logGroupName="/ml/cmk", kmsKeyId=cmk["Arn"])
    trail_bucket = _bucket(s3, "trail")
    ct = s.client("cloudtrail")
    trail_arn = ct.create_trail(Name="ml-trail", S3BucketName=trail_bucket, KmsKeyId="alias/ml",
                                EnableLogFileValidation=False)["TrailARN"]
    s.client("ec2").enable_ebs_encryption_by_default()

    res = _resources(learner)
    acct = learner.home_account
    arn = f"arn:aws:sagemaker:{REGION}:{acct}"
    tj = res[f"{arn}:training-job/tj-cmk"]
    assert tj["type"] == "AWS::SageMaker::TrainingJob"
    assert {st["name"]: st["at_rest"]["key_arn"] for st in tj["stores"]} == {
        "training_volume": cmk["Arn"], "model_output": cmk["Arn"]}
    assert _fields(tj) == (True, "customer_managed", cmk["Arn"], "Enabled")
    assert tj["in_transit"]["tls_enforced"] is True
    td = res[f"{arn}:training-job/tj-default"]
    kinds = {st["name"]: st["at_rest"]["key_kind"] for st in td["stores"]}
    assert kinds == {"training_volume": "aws_owned", "model_output": "aws_managed"}
    assert td["weakest_store"] == "training_volume" and td["in_transit"]["tls_enforced"] is False
    pj = res[f"{arn}:processing-job/pj"]
    assert {st["name"]: st["at_rest"]["key_kind"] for st in pj["stores"]} == {
        "processing_volume": "aws_owned", "outputs": "customer_managed"}
    assert pj["in_transit"]["tls_enforced"] is False
    assert _fields(res[f"{arn}:model/m"]) == (True, "customer_managed", cmk["Arn"], "Enabled")
    ec = res[f"{arn}:endpoint-config/ec-cmk"]
    assert [st["name"] for st in ec["stores"]] == ["ml_storage_volume", "data_capture"]
    assert all(st["at_rest"]["key_arn"] == cmk["Arn"] for st in ec["stores"])
    assert _fields(res[f"{arn}:endpoint-config/ec-default"]) == (True, "aws_owned", None, None)
    assert _fields(res[f"{arn}:notebook-instance/nb"]) == (True, "customer_managed", cmk["Arn"], "Enabled")
    assert _fields(res[repo_aes]) == (True, "aws_owned", None, None)
    assert _fields(res[repo_kms]) == (True, "customer_managed", cmk["Arn"], "Enabled")
    groups = {r["name"]: r for r in res.values() if r["type"] == "AWS::Logs::LogGroup"}
    assert _fields(groups["/ml/plain"]) == (True, "aws_owned", None, None)
    assert _fields(groups["/ml/cmk"])[2] == cmk["Arn"]
    trail = res[trail_arn]
    assert _fields(trail) == (True, "customer_managed", cmk["Arn"], "Enabled")
    assert trail["log_file_validation"] is False
    assert "trail_log_file_validation_off" in [f["code"] for f in trail["findings"]]
    ebs = res[f"arn:aws:ec2:{REGION}:{acct}:ebs-encryption-by-default"]
    assert ebs["at_rest"]["encrypted"] is True and ebs["at_rest"]["key_kind"] == "aws_managed"

    lines = summary({"resources": list(res.values())}, cmk["Arn"])
    assert "the training volume of training job tj-default uses an AWS-owned key" in lines[0]
    assert lines[0].split(";")[0].endswith(f"use your CMK (alias/ml)")


def test_key_policy_roles_and_states(learner):
    s = _session(learner)
    kms, iam = s.client("kms"), s.client("iam")
    acct = learner.home_account
    admin = _role(iam, "key-admin", {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "kms:*", "Resource": "*"}]})
    app = _role(iam, "app", {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": ["kms:Decrypt", "kms:GenerateDataKey"], "Resource": "*"}]})
    _role(iam, "bystander")
    shared = kms.create_key()["KeyMetadata"]  # default policy: IAM decides; key-admin can administer AND use
    split = kms.create_key(Policy=json.dumps({"Version": "2012-10-17", "Statement": [
        {"Sid": "Admins", "Effect": "Allow", "Principal": {"AWS": admin},
         "Action": ["kms:Put*", "kms:Disable*", "kms:Enable*", "kms:ScheduleKeyDeletion", "kms:Describe*"],
         "Resource": "*"},
        {"Sid": "UseViaS3", "Effect": "Allow", "Principal": {"AWS": app},
         "Action": ["kms:Decrypt", "kms:GenerateDataKey"], "Resource": "*",
         "Condition": {"StringEquals": {"kms:ViaService": f"s3.{REGION}.amazonaws.com"}}},
    ]}))["KeyMetadata"]
    kms.create_grant(KeyId=shared["KeyId"], GranteePrincipal=f"arn:aws:iam::210987654321:role/partner",
                     Operations=["Decrypt"])
    res = _resources(learner)
    pol = res[shared["Arn"]]["policy"]
    assert pol["root_delegates_to_iam"] is True
    assert pol["separation_of_duties"] is False and pol["admins_who_can_use"] == [admin]
    assert {u["principal"] for u in pol["users"]} >= {admin, app, "arn:aws:iam::210987654321:role/partner"}
    assert "key_grant_external" in [f["code"] for f in res[shared["Arn"]]["findings"]]
    pol = res[split["Arn"]]["policy"]
    assert pol["root_delegates_to_iam"] is False and pol["root_can_administer"] is False
    assert [a["principal"] for a in pol["administrators"]] == [admin]
    assert pol["separation_of_duties"] is True
    assert pol["use_limited_to_services"] is True and pol["via_services"] == [f"s3.{REGION}.amazonaws.com"]
    assert {f["code"] for f in res[split["Arn"]]["findings"]} >= {"key_root_locked_out", "key_rotation_disabled"}
    assert all(not u["principal"].endswith("bystander") for u in pol["users"])
    assert acct in shared["Arn"]


def test_cross_account_key_resolved_through_member_inventory(learner):
    s = _session(learner)
    org = s.client("organizations")
    org.create_organization(FeatureSet="ALL")
    status = org.create_account(AccountName="data", Email=f"{learner.name}@example.com")["CreateAccountStatus"]
    member = status.get("AccountId") or org.describe_create_account_status(
        CreateAccountRequestId=status["Id"])["CreateAccountStatus"]["AccountId"]
    member_kms = _session(learner, member).client("kms")
    shared = member_kms.create_key(Description="shared")["KeyMetadata"]
    member_kms.disable_key(KeyId=shared["KeyId"])
    s3 = s.client("s3")
    name = _bucket(s3, "xacct")
    _encrypt(s3, name, "aws:kms", shared["Arn"])
    res = _resources(learner)
    r = res[f"arn:aws:s3:::{name}"]
    assert _fields(r) == (True, "customer_managed", shared["Arn"], "Disabled")
    assert "key_in_other_account" in [f["code"] for f in r["findings"]]
    assert res[shared["Arn"]]["account"] == member


def test_load_balancers_and_interface_endpoints(learner):
    s = _session(learner)
    ec2, elb, acm = s.client("ec2"), s.client("elbv2"), s.client("acm")
    vpc = ec2.create_vpc(CidrBlock="10.40.0.0/16")["Vpc"]["VpcId"]
    zones = sorted(z["ZoneName"] for z in ec2.describe_availability_zones()["AvailabilityZones"])[:2]
    subnets = [ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.40.{i}.0/24", AvailabilityZone=z)["Subnet"]["SubnetId"]
               for i, z in enumerate(zones)]
    cert = acm.request_certificate(DomainName="api.example.com", ValidationMethod="DNS")["CertificateArn"]
    fixed = [{"Type": "fixed-response", "FixedResponseConfig": {"StatusCode": "200"}}]
    good = elb.create_load_balancer(Name="good", Subnets=subnets, Scheme="internal")["LoadBalancers"][0]
    elb.create_listener(LoadBalancerArn=good["LoadBalancerArn"], Protocol="HTTPS", Port=443,
                        SslPolicy="ELBSecurityPolicy-TLS13-1-2-2021-06", Certificates=[{"CertificateArn": cert}],
                        DefaultActions=fixed)
    elb.create_listener(LoadBalancerArn=good["LoadBalancerArn"], Protocol="HTTP", Port=80, DefaultActions=[
        {"Type": "redirect", "RedirectConfig": {"Protocol": "HTTPS", "Port": "443", "StatusCode": "HTTP_301"}}])
    bad = elb.create_load_balancer(Name="bad", Subnets=subnets, Scheme="internal")["LoadBalancers"][0]
    elb.create_listener(LoadBalancerArn=bad["LoadBalancerArn"], Protocol="HTTP", Port=80, DefaultActions=fixed)
    elb.create_listener(LoadBalancerArn=bad["LoadBalancerArn"], Protocol="HTTPS", Port=443,
                        SslPolicy="ELBSecurityPolicy-TLS-1-0-2015-04", Certificates=[{"CertificateArn": cert}],
                        DefaultActions=fixed)
    ep = ec2.create_vpc_endpoint(VpcId=vpc, ServiceName=f"com.amazonaws.{REGION}.sagemaker.runtime",
                                 VpcEndpointType="Interface", SubnetIds=subnets[:1],
                                 PrivateDnsEnabled=False)["VpcEndpoint"]["VpcEndpointId"]
    res = _resources(learner)
    g, b = res[good["LoadBalancerArn"]], res[bad["LoadBalancerArn"]]
    assert g["type"] == "AWS::ElasticLoadBalancingV2::LoadBalancer"
    assert g["in_transit"]["tls_enforced"] is True and g["in_transit"]["min_tls_version"] == "TLSv1.2"
    assert g["at_rest"] == {"encrypted": None, "key_arn": None, "key_kind": None, "key_state": None}
    https = next(x for x in g["in_transit"]["listeners"] if x["protocol"] == "HTTPS")
    assert https["certificates"][0]["arn"] == cert and https["certificates"][0]["status"]
    assert b["in_transit"]["tls_enforced"] is False
    codes = {f["code"] for f in b["findings"]}
    assert "listener_plain_text" in codes
    assert codes & {"listener_weak_tls", "listener_ssl_policy_unknown"}
    e = next(r for r in res.values() if r["type"] == "AWS::EC2::VPCEndpoint" and r["name"] == ep)
    assert e["in_transit"] == {"tls_enforced": None, "private_dns_enabled": False}


def test_cli_crypto_report_json_and_text(learner):
    s3 = _session(learner).client("s3")
    name = _bucket(s3, "cli")
    _encrypt(s3, name, "AES256")
    cli = str(ROOT / ".venv" / "bin" / "seclab")
    out = subprocess.run([cli, "crypto", "report", "--learner", learner.name, "--format", "json"],
                         capture_output=True, text=True, timeout=120, check=False)
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    r = next(x for x in doc["resources"] if x["arn"] == f"arn:aws:s3:::{name}")
    assert _fields(r) == (True, "aws_owned", None, None) and r["in_transit"]["tls_enforced"] is False
    assert doc["summary"] and doc["accounts"] == [learner.home_account]
    text = subprocess.run([cli, "crypto", "report", "--learner", learner.name, "--account", learner.home_account],
                          capture_output=True, text=True, timeout=120, check=False)
    assert text.returncode == 0 and f"AWS::S3::Bucket  {name}" in text.stdout and "Summary:" in text.stdout
    wrong = subprocess.run([cli, "crypto", "report", "--learner", learner.name, "--account", "000000000001"],
                           capture_output=True, text=True, timeout=60, check=False)
    assert wrong.returncode == 5 and "Traceback" not in wrong.stderr and wrong.stderr.count("\n") == 1
    assert sys.executable  # the CLI ran as a separate process with the project's own interpreter
