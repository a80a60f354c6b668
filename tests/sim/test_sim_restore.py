"""kill -9 then restore loses nothing: same ids, same contents (B.9 #31, #32)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from seclab.sim import control, registry, sessions


@pytest.fixture
def private_sim(tmp_path, monkeypatch, sim):
    """A simulator of our own (this test kills it), in its own state dir."""
    monkeypatch.setenv("SECLAB_STATE_DIR", str(tmp_path / "state"))
    info = control.start(port=control.free_port())
    yield info
    control.stop()


def _build(name: str) -> dict:
    s = sessions.learner_session(name)
    ec2, kms, s3, iam, sm = (s.client(x) for x in ("ec2", "kms", "s3", "iam", "sagemaker"))
    out: dict = {}
    out["vpc"] = ec2.create_vpc(CidrBlock="10.20.0.0/16")["Vpc"]["VpcId"]
    ec2.describe_vpcs()  # reads in between writes must not shift later ids
    s.client("ec2", region_name="eu-west-1").describe_vpcs()
    out["subnet"] = ec2.create_subnet(VpcId=out["vpc"], CidrBlock="10.20.1.0/24")["Subnet"]["SubnetId"]
    out["sg"] = ec2.create_security_group(GroupName="model-sg", Description="d", VpcId=out["vpc"])["GroupId"]
    key = kms.create_key(Description="model key")["KeyMetadata"]
    out["key"] = key["KeyId"]
    out["ciphertext"] = kms.encrypt(KeyId=key["KeyId"], Plaintext=b"model-secret")["CiphertextBlob"]
    bucket = f"restore-{uuid.uuid4().hex[:10]}"
    s3.create_bucket(Bucket=bucket)
    s3.put_bucket_encryption(Bucket=bucket, ServerSideEncryptionConfiguration={"Rules": [
        {"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": key["Arn"]}}]})
    s3.put_object(Bucket=bucket, Key="models/model.tar.gz", Body=b"\x00weights\xff" * 100)
    out["bucket"] = bucket
    iam.list_roles()
    role = iam.create_role(RoleName="sagemaker-exec", AssumeRolePolicyDocument=json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                                 "Principal": {"Service": "sagemaker.amazonaws.com"}}]}))["Role"]
    iam.attach_role_policy(RoleName="sagemaker-exec", PolicyArn="arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess")
    out["role_id"] = role["RoleId"]
    sm.create_model(ModelName="fraud-model", ExecutionRoleArn=role["Arn"],
                    PrimaryContainer={"Image": "123.dkr.ecr.us-east-1.amazonaws.com/m:1",
                                      "ModelDataUrl": f"s3://{bucket}/models/model.tar.gz"},
                    VpcConfig={"SecurityGroupIds": [out["sg"]], "Subnets": [out["subnet"]]},
                    EnableNetworkIsolation=True)
    creds = s.client("sts").assume_role(RoleArn=role["Arn"], RoleSessionName="before-crash")["Credentials"]
    out["creds"] = creds
    return out


def _read(name: str, built: dict) -> dict:
    s = sessions.learner_session(name)
    ec2, kms, s3, iam, sm = (s.client(x) for x in ("ec2", "kms", "s3", "iam", "sagemaker"))
    model = sm.describe_model(ModelName="fraud-model")
    return {
        "vpcs": sorted(v["VpcId"] for v in ec2.describe_vpcs()["Vpcs"]),
        "subnet": ec2.describe_subnets(SubnetIds=[built["subnet"]])["Subnets"][0]["VpcId"],
        "sg": ec2.describe_security_groups(GroupIds=[built["sg"]])["SecurityGroups"][0]["GroupName"],
        "key": kms.describe_key(KeyId=built["key"])["KeyMetadata"]["Description"],
        "plaintext": kms.decrypt(CiphertextBlob=built["ciphertext"])["Plaintext"],
        "object": s3.get_object(Bucket=built["bucket"], Key="models/model.tar.gz")["Body"].read(),
        "sse": s3.get_bucket_encryption(Bucket=built["bucket"])["ServerSideEncryptionConfiguration"],
        "role_id": iam.get_role(RoleName="sagemaker-exec")["Role"]["RoleId"],
        "attached": iam.list_attached_role_policies(RoleName="sagemaker-exec")["AttachedPolicies"],
        "model_vpc": model["VpcConfig"],
        "isolation": model["EnableNetworkIsolation"],
    }


def test_kill9_then_restore_loses_nothing(private_sim):
    alice = registry.add_learner(f"t-{uuid.uuid4().hex[:10]}")
    built = _build(alice.name)
    bob = registry.add_learner(f"t-{uuid.uuid4().hex[:10]}")
    bob_vpc = sessions.learner_session(bob.name).client("ec2").create_vpc(CidrBlock="10.30.0.0/16")["Vpc"]["VpcId"]
    before = _read(alice.name, built)
    assert built["vpc"] in before["vpcs"] and before["isolation"] is True

    os.kill(private_sim.pid, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while control.status().running and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not control.status().running

    info = control.restore()
    assert info.restored >= 10
    after = _read(alice.name, built)
    assert after == before
    assert bob_vpc in [v["VpcId"] for v in
                       sessions.learner_session(bob.name).client("ec2").describe_vpcs()["Vpcs"]]
    assert bob_vpc not in after["vpcs"]
    # credentials issued before the crash still work, in the same account
    import boto3

    creds = built["creds"]
    assumed = boto3.session.Session(aws_access_key_id=creds["AccessKeyId"],
                                    aws_secret_access_key=creds["SecretAccessKey"],
                                    aws_session_token=creds["SessionToken"], region_name="us-east-1")
    ident = assumed.client("sts", endpoint_url=info.endpoint).get_caller_identity()
    assert ident["Account"] == alice.home_account
    # the audit history survived too
    events = sessions.learner_session(alice.name).client("cloudtrail").lookup_events(
        LookupAttributes=[{"AttributeKey": "EventName", "AttributeValue": "CreateModel"}])["Events"]
    assert len(events) == 1


def test_cli_start_restores_automatically_and_fresh_discards(private_sim):
    learner = registry.add_learner(f"t-{uuid.uuid4().hex[:10]}")
    vpc = sessions.learner_session(learner.name).client("ec2").create_vpc(CidrBlock="10.40.0.0/16")["Vpc"]["VpcId"]
    seclab = str(Path(sys.executable).with_name("seclab"))
    env = dict(os.environ)
    port = str(private_sim.port)
    assert subprocess.run([seclab, "sim", "stop"], env=env, capture_output=True, text=True).returncode == 0
    run = subprocess.run([seclab, "sim", "start", "--port", port], env=env, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    assert "Restored" in run.stdout
    vpcs = [v["VpcId"] for v in sessions.learner_session(learner.name).client("ec2").describe_vpcs()["Vpcs"]]
    assert vpc in vpcs
    subprocess.run([seclab, "sim", "stop"], env=env, capture_output=True, text=True)
    run = subprocess.run([seclab, "sim", "start", "--port", port, "--fresh"], env=env, capture_output=True,
                         text=True)
    assert run.returncode == 0 and "Restored" not in run.stdout
    vpcs = [v["VpcId"] for v in sessions.learner_session(learner.name).client("ec2").describe_vpcs()["Vpcs"]]
    assert vpc not in vpcs


def test_same_seed_gives_same_ids_on_a_fresh_start(private_sim):
    """Two fresh starts from the same seed hand out the same ids for the same calls (lab set-up targets stay valid)."""
    learner = registry.add_learner(f"t-{uuid.uuid4().hex[:10]}")

    def build() -> tuple[str, str]:
        s = sessions.learner_session(learner.name)
        vpc = s.client("ec2").create_vpc(CidrBlock="10.50.0.0/16")["Vpc"]["VpcId"]
        key = s.client("kms").create_key()["KeyMetadata"]["KeyId"]
        return vpc, key

    first = build()
    control.stop()
    control.start(port=private_sim.port, fresh=True)
    assert build() == first


def test_trail_log_files_come_back_after_restore(private_sim):
    learner = registry.add_learner(f"t-{uuid.uuid4().hex[:10]}")
    s = sessions.learner_session(learner.name)
    s3, ct = s.client("s3"), s.client("cloudtrail")
    bucket = f"logs-{uuid.uuid4().hex[:10]}"
    s3.create_bucket(Bucket=bucket)
    ct.create_trail(Name="main", S3BucketName=bucket)
    ct.start_logging(Name="main")
    s.client("kms").create_key()
    sessions.flush_trails()  # (the background flusher may have delivered first)
    keys = sorted(o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", []))
    assert keys
    bodies = [s3.get_object(Bucket=bucket, Key=k)["Body"].read() for k in keys]
    os.kill(private_sim.pid, signal.SIGKILL)
    while control.status().running:
        time.sleep(0.05)
    control.restore()
    s3 = sessions.learner_session(learner.name).client("s3")
    assert sorted(o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]) == keys
    assert [s3.get_object(Bucket=bucket, Key=k)["Body"].read() for k in keys] == bodies
    sessions.flush_trails()
    assert sorted(o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]) == keys  # nothing twice
