"""Two learners on one simulator never see or change each other's resources (B.9 #29)."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
import uuid

import botocore.exceptions
import pytest

from seclab.sim import registry, sessions


def _spoofing(client, header: str, value: str):
    client.meta.events.register("before-sign.*.*", lambda request, **_: request.headers.__setitem__(header, value))
    return client


def _names(s3) -> list[str]:
    return [b["Name"] for b in s3.list_buckets()["Buckets"]]


def test_learners_get_distinct_accounts_and_identities(learner, learner_client):
    other = registry.add_learner(f"t-{uuid.uuid4().hex[:12]}")
    me = learner_client(learner, "sts").get_caller_identity()
    them = learner_client(other, "sts").get_caller_identity()
    assert me["Account"] == learner.home_account
    assert them["Account"] == other.home_account
    assert me["Account"] != them["Account"]
    assert me["Arn"] == f"arn:aws:iam::{learner.home_account}:user/{learner.name}"
    assert "123456789012" not in (me["Account"], them["Account"])


def test_normal_api_isolation(learner, learner_client):
    other = registry.add_learner(f"t-{uuid.uuid4().hex[:12]}")
    bucket = f"iso-{uuid.uuid4().hex[:12]}"
    mine = learner_client(learner, "s3")
    theirs = learner_client(other, "s3")
    mine.create_bucket(Bucket=bucket)
    mine.put_object(Bucket=bucket, Key="model.tar.gz", Body=b"weights")
    assert bucket in _names(mine)
    assert bucket not in _names(theirs)
    with pytest.raises(botocore.exceptions.ClientError):
        theirs.get_object(Bucket=bucket, Key="model.tar.gz")
    with pytest.raises(botocore.exceptions.ClientError):
        theirs.put_object(Bucket=bucket, Key="evil", Body=b"x")
    with pytest.raises(botocore.exceptions.ClientError):
        theirs.delete_object(Bucket=bucket, Key="model.tar.gz")
    assert mine.get_object(Bucket=bucket, Key="model.tar.gz")["Body"].read() == b"weights"
    vpc = learner_client(learner, "ec2").create_vpc(CidrBlock="10.9.0.0/16")["Vpc"]["VpcId"]
    their_vpcs = [v["VpcId"] for v in learner_client(other, "ec2").describe_vpcs()["Vpcs"]]
    assert vpc not in their_vpcs
    learner_client(learner, "iam").create_role(RoleName="only-mine", AssumeRolePolicyDocument="{}")
    their_roles = [r["RoleName"] for r in learner_client(other, "iam").list_roles()["Roles"]]
    assert "only-mine" not in their_roles


@pytest.mark.parametrize("header", ["x-moto-account-id", "x-seclab-account"])
def test_spoofed_account_header_is_ignored(learner, learner_client, header):
    other = registry.add_learner(f"t-{uuid.uuid4().hex[:12]}")
    bucket = f"spoof-{uuid.uuid4().hex[:12]}"
    learner_client(learner, "s3").create_bucket(Bucket=bucket)
    spoof = _spoofing(learner_client(other, "s3"), header, learner.home_account)
    try:
        names = _names(spoof)
    except botocore.exceptions.ClientError:
        names = []
    assert bucket not in names
    sts = _spoofing(learner_client(other, "sts"), header, learner.home_account)
    assert sts.get_caller_identity()["Account"] == other.home_account


@pytest.mark.parametrize(
    "method,path",
    [
        ("GET", "/moto-api/data.json"),
        ("POST", "/moto-api/reset"),
        ("GET", "/moto-api/recorder/download-recording"),
        ("POST", "/moto-api/config"),
        ("POST", "/moto-api/seed?a=1"),
        ("POST", "/moto-api/static/sagemaker/endpoint-results"),
        ("GET", "/moto-api/"),
    ],
)
def test_moto_api_closed_to_everyone_but_admin(sim, learner, learner_client, method, path):
    bucket = f"keep-{uuid.uuid4().hex[:12]}"
    learner_client(learner, "s3").create_bucket(Bucket=bucket)
    request = urllib.request.Request(sim.endpoint + path, method=method, data=b"{}" if method == "POST" else None)
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(request, timeout=10)
    assert err.value.code == 403
    # signed by a learner: still closed
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    signed = AWSRequest(method=method, url=sim.endpoint + path, data=b"")
    SigV4Auth(Credentials(learner.access_key_id, learner.secret_access_key), "s3", "us-east-1").add_auth(signed)
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(urllib.request.Request(sim.endpoint + path, method=method,
                                                      headers=dict(signed.headers.items())), timeout=10)
    assert err.value.code == 403
    assert bucket in _names(learner_client(learner, "s3"))  # nothing was reset


def test_admin_reaches_moto_api_and_any_account(sim, learner, learner_client):
    bucket = f"adm-{uuid.uuid4().hex[:12]}"
    learner_client(learner, "s3").create_bucket(Bucket=bucket)
    status, body = sessions.admin_request("GET", "/moto-api/config")
    assert status < 300 and b"batch" in body
    admin_s3 = sessions.admin_session(learner.home_account).client("s3")
    assert bucket in _names(admin_s3)


def test_assumed_role_confined_to_own_accounts(learner, learner_client):
    other = registry.add_learner(f"t-{uuid.uuid4().hex[:12]}")
    trust = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                                                 "Principal": {"AWS": "*"}}]})
    learner_client(learner, "iam").create_role(RoleName="worker", AssumeRolePolicyDocument=trust)
    learner_client(other, "iam").create_role(RoleName="worker", AssumeRolePolicyDocument=trust)
    sts = learner_client(learner, "sts")
    with pytest.raises(botocore.exceptions.ClientError) as err:
        sts.assume_role(RoleArn=f"arn:aws:iam::{other.home_account}:role/worker", RoleSessionName="xx")
    assert err.value.response["Error"]["Code"] == "AccessDenied"
    creds = sts.assume_role(RoleArn=f"arn:aws:iam::{learner.home_account}:role/worker",
                            RoleSessionName="s1")["Credentials"]
    import boto3

    assumed = boto3.session.Session(aws_access_key_id=creds["AccessKeyId"],
                                    aws_secret_access_key=creds["SecretAccessKey"],
                                    aws_session_token=creds["SessionToken"], region_name="us-east-1")
    endpoint = sessions.control.current_endpoint()
    ident = assumed.client("sts", endpoint_url=endpoint).get_caller_identity()
    assert ident["Account"] == learner.home_account
    assert "assumed-role/worker/s1" in ident["Arn"]
    # the assumed role cannot hop into the other learner's account either
    with pytest.raises(botocore.exceptions.ClientError):
        assumed.client("sts", endpoint_url=endpoint).assume_role(
            RoleArn=f"arn:aws:iam::{other.home_account}:role/worker", RoleSessionName="hop")
    bucket = f"assumed-{uuid.uuid4().hex[:10]}"
    assumed.client("s3", endpoint_url=endpoint).create_bucket(Bucket=bucket)
    assert bucket in _names(learner_client(learner, "s3"))
    assert bucket not in _names(learner_client(other, "s3"))
    # a forged session token is refused
    forged = boto3.session.Session(aws_access_key_id=creds["AccessKeyId"],
                                   aws_secret_access_key=creds["SecretAccessKey"],
                                   aws_session_token="forged", region_name="us-east-1")
    with pytest.raises(botocore.exceptions.ClientError) as err:
        forged.client("sts", endpoint_url=endpoint).get_caller_identity()
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403


def test_organizations_member_account_is_owned_by_learner(learner, learner_client):
    other = registry.add_learner(f"t-{uuid.uuid4().hex[:12]}")
    org = learner_client(learner, "organizations")
    org.create_organization(FeatureSet="ALL")
    status = org.create_account(Email=f"{learner.name}@example.com", AccountName="prod")["CreateAccountStatus"]
    member = status["AccountId"]
    assert member in registry.get_learner(learner.name).accounts
    member_session = sessions.learner_session(learner.name, account=member)
    assert member_session.client("sts").get_caller_identity()["Account"] == member
    bucket = f"member-{uuid.uuid4().hex[:10]}"
    member_session.client("s3").create_bucket(Bucket=bucket)
    assert bucket not in _names(learner_client(learner, "s3"))  # a different account
    with pytest.raises(botocore.exceptions.ClientError) as err:
        learner_client(other, "sts").assume_role(
            RoleArn=f"arn:aws:iam::{member}:role/OrganizationAccountAccessRole", RoleSessionName="steal")
    assert err.value.response["Error"]["Code"] == "AccessDenied"


def test_service_allow_list(learner, learner_client):
    registry.set_allowed_services(learner.name, ["s3", "sts"])
    learner_client(learner, "s3").list_buckets()
    with pytest.raises(botocore.exceptions.ClientError) as err:
        learner_client(learner, "ec2").describe_vpcs()
    assert "not part of this lab" in str(err.value)
    with pytest.raises(botocore.exceptions.ClientError) as err:
        learner_client(learner, "sagemaker").list_models()
    assert "sagemaker is not part of this lab" in str(err.value)
    registry.set_allowed_services(learner.name, None)
    learner_client(learner, "ec2").describe_vpcs()


def test_shared_admin_session_acts_in_the_account_each_thread_names(sim, learner, learner_client):
    import threading

    other = registry.add_learner(f"t-{uuid.uuid4().hex[:12]}")
    mine, theirs = f"sh-{uuid.uuid4().hex[:12]}", f"sh-{uuid.uuid4().hex[:12]}"
    learner_client(learner, "s3").create_bucket(Bucket=mine)
    learner_client(other, "s3").create_bucket(Bucket=theirs)
    s3 = sessions.shared_admin_session().client("s3")
    with pytest.raises(RuntimeError, match="named no account"):
        s3.list_buckets()  # never a request without an account
    seen: dict[str, list[list[str]]] = {learner.home_account: [], other.home_account: []}

    def read(account: str) -> None:
        for _ in range(5):
            with sessions.acting_in(account):
                seen[account].append(_names(s3))

    threads = [threading.Thread(target=read, args=(a,)) for a in seen for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(mine in names and theirs not in names for names in seen[learner.home_account])
    assert all(theirs in names and mine not in names for names in seen[other.home_account])
    assert len(seen[learner.home_account]) == 10
    with sessions.acting_in(learner.home_account):
        with sessions.acting_in(other.home_account):
            assert theirs in _names(s3)
        assert mine in _names(s3)  # the outer account again
