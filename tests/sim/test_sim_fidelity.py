"""moto fidelity fixes: each behaviour through the simulator, plus a pin that fails when moto itself changes.

The pins run against the unpatched moto imported in this test process (the patches live only in the simulator
process). When a pin fails, moto changed: re-check the matching patch in seclab/sim/fidelity.py and drop it if moto
now behaves like AWS.
"""

from __future__ import annotations

import inspect
import io
import json
import uuid
import zipfile
from pathlib import Path

import pytest

from seclab.sim import cfn, sessions


# ---------------------------------------------------------------- SageMaker EnableNetworkIsolation


def test_pin_moto_drops_enable_network_isolation():
    from moto.sagemaker.models import Model

    assert "enable_network_isolation" not in inspect.signature(Model.__init__).parameters
    model = Model(account_id="210987654321", region_name="us-east-1", model_name="m", execution_role_arn="arn:r",
                  primary_container={}, vpc_config={})
    assert model.enable_network_isolation is False


@pytest.mark.parametrize("requested,expected", [(True, True), (False, False), (None, False)])
def test_enable_network_isolation_round_trips(learner, learner_client, requested, expected):
    sm = learner_client(learner, "sagemaker")
    name = f"m-{uuid.uuid4().hex[:8]}"
    kwargs = {} if requested is None else {"EnableNetworkIsolation": requested}
    sm.create_model(ModelName=name, ExecutionRoleArn=f"arn:aws:iam::{learner.home_account}:role/x",
                    PrimaryContainer={"Image": "img"}, **kwargs)
    assert sm.describe_model(ModelName=name)["EnableNetworkIsolation"] is expected


# ---------------------------------------------------------------- S3 bucket policies

DENY_INSECURE = {"Sid": "DenyInsecureTransport", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
                 "Resource": ["arn:aws:s3:::BUCKET", "arn:aws:s3:::BUCKET/*"],
                 "Condition": {"Bool": {"aws:SecureTransport": "false"}}}
DENY_UNENCRYPTED = {"Sid": "DenyUnencryptedUploads", "Effect": "Deny", "Principal": "*", "Action": "s3:PutObject",
                    "Resource": "arn:aws:s3:::BUCKET/*",
                    "Condition": {"StringNotEquals": {"s3:x-amz-server-side-encryption": "aws:kms"}}}


def _policy(bucket: str) -> str:
    text = json.dumps({"Version": "2012-10-17", "Statement": [DENY_INSECURE, DENY_UNENCRYPTED]})
    return text.replace("BUCKET", bucket)


def test_pin_moto_enforces_conditional_deny_on_compliant_requests():
    from moto.iam.access_control import PermissionResult
    from moto.s3.models import FakeBucket

    bucket = FakeBucket(name="pin-bucket", account_id="210987654321", region_name="us-east-1")
    bucket.policy = _policy("pin-bucket").encode()
    # A compliant (TLS, SSE-KMS) request would be allowed by AWS; moto denies it because it ignores conditions.
    assert bucket.get_permission("s3:PutObject", "arn:aws:s3:::pin-bucket/k") == PermissionResult.DENIED
    assert bucket.get_permission("s3:GetObject", "arn:aws:s3:::pin-bucket/k") == PermissionResult.DENIED


def test_object_io_works_under_lab_bucket_policies(learner, learner_client):
    s3 = learner_client(learner, "s3")
    bucket = f"pol-{uuid.uuid4().hex[:10]}"
    s3.create_bucket(Bucket=bucket)
    s3.put_bucket_policy(Bucket=bucket, Policy=_policy(bucket))
    s3.put_object(Bucket=bucket, Key="data.csv", Body=b"a,b\n", ServerSideEncryption="aws:kms")
    assert s3.get_object(Bucket=bucket, Key="data.csv")["Body"].read() == b"a,b\n"
    assert json.loads(s3.get_bucket_policy(Bucket=bucket)["Policy"]) == json.loads(_policy(bucket))


# ---------------------------------------------------------------- determinism (KMS keys, STS tokens, backends)


def test_pin_moto_kms_and_sts_randomness_is_unseeded():
    from moto.kms.models import generate_master_key
    from moto.moto_api._internal import mock_random
    from moto.sts.models import random_session_token

    mock_random.seed(7)
    key_a, token_a = generate_master_key(), random_session_token()
    mock_random.seed(7)
    key_b, token_b = generate_master_key(), random_session_token()
    assert key_a != key_b and token_a != token_b


def test_pin_moto_backend_creation_draws_from_shared_random():
    from moto.ec2.models import ec2_backends
    from moto.moto_api._internal import mock_random

    mock_random.seed(11)
    before = mock_random.getstate()
    ec2_backends[f"2{uuid.uuid4().int % 10**11:011d}"]["us-east-1"]
    assert mock_random.getstate() != before


def test_pin_moto_scans_its_package_to_route_every_request(monkeypatch):
    from moto import backends

    seen: list[str] = []
    real = backends.os.listdir
    monkeypatch.setattr(backends.os, "listdir", lambda path: seen.append(path) or real(path))
    list(backends.list_of_moto_modules())
    list(backends.list_of_moto_modules())
    assert len(seen) == 2


def test_routing_and_method_tables_are_computed_once(monkeypatch):
    from moto import backends
    from moto.core import responses as core_responses
    from moto.kms.responses import KmsResponse

    from seclab.sim import fidelity

    # the patch rebinds module attributes: have monkeypatch put them (and ORIGINALS) back afterwards
    monkeypatch.setattr(backends, "list_of_moto_modules", backends.list_of_moto_modules)
    monkeypatch.setattr(core_responses, "method_names_from_class", core_responses.method_names_from_class)
    monkeypatch.setattr(fidelity, "ORIGINALS", dict(fidelity.ORIGINALS))
    modules = sorted(backends.list_of_moto_modules())
    methods = set(core_responses.method_names_from_class(KmsResponse))
    fidelity._patch_per_request_scans()
    seen: list[str] = []
    monkeypatch.setattr(backends.os, "listdir", lambda path: seen.append(path) or [])
    assert sorted(backends.list_of_moto_modules()) == modules and "kms" in modules
    assert core_responses.method_names_from_class(KmsResponse) == methods and "list_keys" in methods
    assert core_responses.method_names_from_class(KmsResponse) is core_responses.method_names_from_class(KmsResponse)
    assert seen == []


def test_reads_do_not_shift_later_ids(sim, tmp_path, monkeypatch):
    """Same seed, same writes: the ids match whether or not reads (which create backends) happened in between."""
    from seclab.sim import control, registry

    monkeypatch.setenv("SECLAB_STATE_DIR", str(tmp_path / "state"))
    port = control.free_port()
    results = []
    for with_reads in (False, True):
        control.start(port=port, fresh=True)
        learner = registry.add_learner("reads-probe")
        s = sessions.learner_session(learner.name)
        if with_reads:
            s.client("ec2", region_name="eu-west-1").describe_vpcs()
            s.client("iam").list_roles()
            s.client("kms").list_keys()
        results.append((s.client("iam").create_role(RoleName="r", AssumeRolePolicyDocument="{}")["Role"]["RoleId"],
                        s.client("ec2").create_vpc(CidrBlock="10.1.0.0/16")["Vpc"]["VpcId"]))
        control.stop()
    assert results[0] == results[1]


# ---------------------------------------------------------------- S3 cross-account access


def test_pin_moto_allows_cross_account_bucket_access_by_default(monkeypatch):
    from moto import settings

    monkeypatch.delenv("MOTO_S3_ALLOW_CROSSACCOUNT_ACCESS", raising=False)
    assert settings.s3_allow_crossdomain_access() is True


def test_member_account_reaches_home_bucket_but_strangers_do_not(learner, learner_client):
    from seclab.sim import registry

    s3 = learner_client(learner, "s3")
    bucket = f"central-{uuid.uuid4().hex[:10]}"
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="k", Body=b"shared")
    org = learner_client(learner, "organizations")
    org.create_organization(FeatureSet="ALL")
    member = org.create_account(Email="m@example.com", AccountName="ml")["CreateAccountStatus"]["AccountId"]
    member_s3 = sessions.learner_session(learner.name, account=member).client("s3")
    assert member_s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"shared"
    stranger = registry.add_learner(f"t-{uuid.uuid4().hex[:10]}")
    import botocore.exceptions

    with pytest.raises(botocore.exceptions.ClientError):
        learner_client(stranger, "s3").get_object(Bucket=bucket, Key="k")


# ---------------------------------------------------------------- CloudFormation YAML


def test_pin_moto_cloudformation_uses_unsafe_loader():
    import moto

    source = (Path(moto.__file__).parent / "cloudformation" / "responses.py").read_text()
    assert "Loader=yaml.Loader" in source


def test_safe_yaml_shim_never_runs_python(tmp_path):
    marker = tmp_path / "ran"
    template = f"A: !!python/object/apply:os.makedirs ['{marker}']\n"
    shim = cfn.SafeYamlShim()
    shim.add_multi_constructor("", lambda *a: None)
    with pytest.raises(Exception):
        shim.load(template, Loader=shim.Loader)
    with pytest.raises(cfn.TemplateError):
        cfn.load_template(template)
    assert not marker.exists()
    data = cfn.load_template("R: !Ref X\nA: !GetAtt B.Arn\nS: !Sub 'x-${AWS::Region}'\nL: !Join [',', [a, b]]\n")
    assert data == {"R": {"Ref": "X"}, "A": {"Fn::GetAtt": ["B", "Arn"]}, "S": {"Fn::Sub": "x-${AWS::Region}"},
                    "L": {"Fn::Join": [",", ["a", "b"]]}}


# ---------------------------------------------------------------- Lambda without Docker


def test_pin_moto_lambda_defaults_to_docker():
    from moto.core.config import default_user_config

    assert default_user_config["lambda"]["use_docker"] is True


def test_lambda_invoke_starts_no_container(learner, learner_client):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as archive:
        archive.writestr("lambda_function.py", "def lambda_handler(event, context):\n    return {}\n")
    role = learner_client(learner, "iam").create_role(RoleName="fn", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    lam = learner_client(learner, "lambda")
    lam.create_function(FunctionName="fn", Runtime="python3.11", Role=role, Handler="lambda_function.lambda_handler",
                        Code={"ZipFile": buf.getvalue()})
    assert lam.invoke(FunctionName="fn", Payload=b"{}")["StatusCode"] == 200
