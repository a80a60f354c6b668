"""The gateway refuses what it cannot authenticate and answers moto's gaps in the protocol's own shape."""

from __future__ import annotations

import os
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import boto3
import botocore.exceptions
import pytest
from botocore.config import Config

from seclab.sim import registry


def _raw_client(sim, service: str, key: str, secret: str, token: str | None = None):
    return boto3.session.Session(aws_access_key_id=key, aws_secret_access_key=secret, aws_session_token=token,
                                 region_name="us-east-1").client(
        service, endpoint_url=sim.endpoint, config=Config(retries={"max_attempts": 0}))


@pytest.mark.parametrize("service,call,code", [
    ("s3", lambda c: c.list_buckets(), "InvalidAccessKeyId"),
    ("sts", lambda c: c.get_caller_identity(), "InvalidClientTokenId"),
    ("sagemaker", lambda c: c.list_models(), "InvalidClientTokenId"),
    ("ec2", lambda c: c.describe_vpcs(), "InvalidClientTokenId"),
])
def test_unknown_key_is_403(sim, service, call, code):
    client = _raw_client(sim, service, "AKIAUNKNOWNKEY000000", "whatever")
    with pytest.raises(botocore.exceptions.ClientError) as err:
        call(client)
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    assert err.value.response["Error"]["Code"] == code


@pytest.mark.parametrize("service,call", [
    ("s3", lambda c: c.list_buckets()),
    ("iam", lambda c: c.list_roles()),
    ("kms", lambda c: c.list_keys()),
])
def test_bad_signature_is_403(sim, learner, service, call):
    client = _raw_client(sim, service, learner.access_key_id, "not-" + learner.secret_access_key)
    with pytest.raises(botocore.exceptions.ClientError) as err:
        call(client)
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    assert err.value.response["Error"]["Code"] == "SignatureDoesNotMatch"


def test_unsigned_request_is_403(sim):
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(sim.endpoint + "/", timeout=10)
    assert err.value.code == 403
    assert b"MissingAuthenticationToken" in err.value.read()


def test_not_implemented_is_one_clear_501(learner, learner_client):
    iam = learner_client(learner, "iam", config=Config(retries={"max_attempts": 0}))
    with pytest.raises(botocore.exceptions.ClientError) as err:
        iam.simulate_principal_policy(PolicySourceArn=f"arn:aws:iam::{learner.home_account}:user/x",
                                      ActionNames=["s3:GetObject"])
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 501
    assert err.value.response["Error"]["Code"] == "NotImplemented"
    assert "not supported by the simulator" in err.value.response["Error"]["Message"]


def test_cloudformation_python_tag_refused(tmp_path, learner, learner_client):
    marker = tmp_path / "pwned"
    template = f"Description: !!python/object/apply:os.makedirs ['{marker}']\nResources: {{}}\n"
    cfn = learner_client(learner, "cloudformation")
    for call in (lambda: cfn.create_stack(StackName="evil", TemplateBody=template),
                 lambda: cfn.validate_template(TemplateBody=template)):
        with pytest.raises(botocore.exceptions.ClientError) as err:
            call()
        assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
        assert "tag" in err.value.response["Error"]["Message"]
    assert not marker.exists()


def test_localstack_client_reaches_simulator_as_default_learner(sim, monkeypatch):
    pytest.importorskip("localstack_client")
    import localstack_client.session

    monkeypatch.setenv("AWS_ENDPOINT_URL", sim.endpoint)
    default = registry.get_learner("default")
    ident = localstack_client.session.Session().client("sts").get_caller_identity()
    assert ident["Account"] == default.home_account
    from localstack_client.patch import DEFAULT_ACCESS_KEY_ID, DEFAULT_SECRET_ACCESS_KEY

    client = boto3.client("sts", endpoint_url=sim.endpoint, region_name="us-east-1",
                          aws_access_key_id=DEFAULT_ACCESS_KEY_ID, aws_secret_access_key=DEFAULT_SECRET_ACCESS_KEY)
    assert client.get_caller_identity()["Account"] == default.home_account


def test_iam_user_access_keys_created_in_the_simulator_work(sim, learner, learner_client):
    iam = learner_client(learner, "iam")
    iam.create_user(UserName="analyst")
    key = iam.create_access_key(UserName="analyst")["AccessKey"]
    s3 = _raw_client(sim, "s3", key["AccessKeyId"], key["SecretAccessKey"])
    bucket = f"user-{uuid.uuid4().hex[:10]}"
    s3.create_bucket(Bucket=bucket)
    assert bucket in [b["Name"] for b in learner_client(learner, "s3").list_buckets()["Buckets"]]


def test_large_and_odd_requests(learner, learner_client):
    s3 = learner_client(learner, "s3")
    bucket = f"odd-{uuid.uuid4().hex[:10]}"
    s3.create_bucket(Bucket=bucket)
    body = os.urandom(3 * 1024 * 1024)
    for key in ("a b/c+d=e&f.bin", "ünïcødé/ключ.txt", "x" * 900):
        s3.put_object(Bucket=bucket, Key=key, Body=body)
        assert s3.get_object(Bucket=bucket, Key=key)["Body"].read() == body
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket, Prefix="a b/")["Contents"]]
    assert keys == ["a b/c+d=e&f.bin"]
    path = Path(__file__)
    s3.upload_file(str(path), bucket, "multi/test.py")
    assert s3.get_object(Bucket=bucket, Key="multi/test.py")["Body"].read() == path.read_bytes()


def test_s3control_account_host_prefix_is_handled(learner, learner_client):
    other = registry.add_learner(f"t-{uuid.uuid4().hex[:12]}")
    control = learner_client(learner, "s3control")
    config = {"BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True,
              "RestrictPublicBuckets": True}
    control.put_public_access_block(AccountId=learner.home_account, PublicAccessBlockConfiguration=config)
    assert control.get_public_access_block(AccountId=learner.home_account)["PublicAccessBlockConfiguration"] == config
    with pytest.raises(botocore.exceptions.ClientError):
        control.put_public_access_block(AccountId=other.home_account, PublicAccessBlockConfiguration=config)
