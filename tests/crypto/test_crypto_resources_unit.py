"""At rest per resource type, listeners and endpoints, the weakest-store rule and the summary: hand-built
inventories, no simulator and no IAM evaluation (bucket policies are covered in test_crypto_policies_unit.py)."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta, timezone

import pytest

from crypto_builders import ACCT, REGION, alias, bucket, inventory, key, key_arn
from seclab.engines.crypto import default_encryption, strength, summary
from seclab.engines.crypto import services, transit
from seclab.engines.crypto.report import account_resources
from seclab.engines.crypto.s3 import object_resources
from seclab.inventory.model import Acm, CloudTrail, Ec2, Ecr, Elbv2, Logs, SageMaker

CMK = "1234abcd-12ab-34cd-56ef-1234567890ab"
S3_MANAGED = "8c3faf07-f43c-4d11-abdb-9183079214c7"
NOW = datetime(2026, 6, 1, tzinfo=timezone.utc)


def base(**sections):
    return inventory(keys=(key(CMK, aliases=("alias/models",)),),
                     aliases=(alias("alias/aws/s3", S3_MANAGED), alias("alias/aws/ebs", "7adeb491-0000")), **sections)


def fields(rec):
    return (rec["encrypted"], rec["key_kind"], rec["key_arn"], rec["key_state"])


# ------------------------------------------------------------------------------------------------------- S3


@pytest.mark.parametrize("algorithm,ref,expect", [
    (None, None, (True, "aws_owned", None, None)),
    ("AES256", None, (True, "aws_owned", None, None)),
    ("aws:kms", None, (True, "aws_managed", key_arn(S3_MANAGED), None)),
    ("aws:kms", CMK, (True, "customer_managed", key_arn(CMK), "Enabled")),
    ("aws:kms", "alias/models", (True, "customer_managed", key_arn(CMK), "Enabled")),
    ("aws:kms:dsse", key_arn(CMK), (True, "customer_managed", key_arn(CMK), "Enabled")),
    ("aws:kms", "alias/gone", (True, "customer_managed", None, "NotFound")),
])
def test_bucket_default_encryption(algorithm, ref, expect):
    inv = base()
    info, detail = default_encryption(inv, bucket("b", algorithm=algorithm, key_ref=ref))
    assert fields(info.at_rest()) == expect
    assert detail["service_default"] is (algorithm is None)
    assert detail["encryption"] == {None: "SSE-S3", "AES256": "SSE-S3", "aws:kms": "SSE-KMS",
                                    "aws:kms:dsse": "DSSE-KMS"}[algorithm]


def test_objects_report_their_own_encryption_for_migrations():
    inv = base()
    b = bucket("b", algorithm="aws:kms", key_ref=key_arn(CMK), objects=(
        {"Key": "new.bin", "ServerSideEncryption": "aws:kms", "SSEKMSKeyId": key_arn(CMK)},
        {"Key": "old.bin", "ServerSideEncryption": "AES256"},
        {"Key": "older.bin"},
        {"Key": "managed.bin", "ServerSideEncryption": "aws:kms"},
        {"Key": "ghost.bin", "ServerSideEncryption": "aws:kms", "SSEKMSKeyId": "alias/gone"},
    ))
    info, _ = default_encryption(inv, b)
    objs = {o["key"]: o for o in object_resources(inv, b, info, True)}
    assert objs["new.bin"]["arn"] == "arn:aws:s3:::b/new.bin" and objs["new.bin"]["type"] == "AWS::S3::Object"
    assert objs["new.bin"]["matches_bucket_default"] is True and not objs["new.bin"]["findings"]
    assert fields(objs["old.bin"]["at_rest"]) == (True, "aws_owned", None, None)
    assert fields(objs["older.bin"]["at_rest"]) == (True, "aws_owned", None, None)
    assert objs["managed.bin"]["at_rest"]["key_kind"] == "aws_managed"
    assert objs["ghost.bin"]["at_rest"]["key_state"] == "NotFound"
    assert {k for k, o in objs.items() if not o["matches_bucket_default"]} == {
        "old.bin", "older.bin", "managed.bin", "ghost.bin"}
    assert all(o["in_transit"]["tls_enforced"] is True for o in objs.values())


# ------------------------------------------------------------------------------------------------ SageMaker


def _job(**over):
    job = {"TrainingJobName": "tj", "TrainingJobArn": f"arn:aws:sagemaker:{REGION}:{ACCT}:training-job/tj",
           "ResourceConfig": {"InstanceCount": 1}, "OutputDataConfig": {"S3OutputPath": "s3://models/out"}}
    job.update(over)
    return job


def test_training_job_defaults_volume_aws_owned_output_aws_managed_weakest_on_top():
    r = services.training_job(base(), _job(), {})
    stores = {s["name"]: s for s in r["stores"]}
    assert fields(stores["training_volume"]["at_rest"]) == (True, "aws_owned", None, None)
    assert fields(stores["model_output"]["at_rest"]) == (True, "aws_managed", key_arn(S3_MANAGED), None)
    assert r["weakest_store"] == "training_volume" and r["at_rest"] == stores["training_volume"]["at_rest"]
    assert r["in_transit"]["tls_enforced"] is False
    assert [f["severity"] for f in r["findings"] if f["code"] == "inter_container_traffic_unencrypted"] == ["low"]


def test_training_job_with_cmk_everywhere_and_ict():
    job = _job(ResourceConfig={"InstanceCount": 2, "VolumeKmsKeyId": "alias/models"},
               OutputDataConfig={"S3OutputPath": "s3://m/o", "KmsKeyId": key_arn(CMK)},
               EnableInterContainerTrafficEncryption=True)
    r = services.training_job(base(), job, {})
    assert fields(r["at_rest"]) == (True, "customer_managed", key_arn(CMK), "Enabled")
    assert all(s["at_rest"]["key_arn"] == key_arn(CMK) for s in r["stores"])
    assert r["in_transit"]["tls_enforced"] is True and not r["findings"]


def test_training_job_disabled_key_is_weaker_than_aws_owned():
    inv = inventory(keys=(key(CMK, state="Disabled"),))
    r = services.training_job(inv, _job(OutputDataConfig={"S3OutputPath": "s3://m", "KmsKeyId": CMK}), {})
    assert r["weakest_store"] == "model_output" and r["at_rest"]["key_state"] == "Disabled"
    assert any(f["code"] == "key_disabled" and f["store"] == "model_output" for f in r["findings"])


def test_processing_job_volume_and_outputs():
    job = {"ProcessingJobName": "pj", "ProcessingJobArn": "arn:aws:sagemaker:us-east-1:1:processing-job/pj",
           "ProcessingResources": {"ClusterConfig": {"InstanceCount": 3, "VolumeKmsKeyId": CMK}},
           "ProcessingOutputConfig": {"Outputs": [{"S3Output": {"S3Uri": "s3://x/y"}}]},
           "NetworkConfig": {"EnableInterContainerTrafficEncryption": False}}
    r = services.processing_job(base(), job, {})
    stores = {s["name"]: s for s in r["stores"]}
    assert stores["processing_volume"]["at_rest"]["key_kind"] == "customer_managed"
    assert stores["outputs"]["at_rest"]["key_kind"] == "aws_managed" and stores["outputs"]["location"] == ["s3://x/y"]
    assert r["weakest_store"] == "outputs"
    assert [f["severity"] for f in r["findings"] if f["code"] == "inter_container_traffic_unencrypted"] == ["medium"]
    job["NetworkConfig"]["EnableInterContainerTrafficEncryption"] = True
    assert services.processing_job(base(), job, {})["in_transit"]["tls_enforced"] is True


def test_endpoint_config_without_key_is_still_encrypted_by_aws_and_capture_is_a_store():
    cfg = {"EndpointConfigName": "ec", "EndpointConfigArn": "arn:aws:sagemaker:us-east-1:1:endpoint-config/ec",
           "DataCaptureConfig": {"EnableCapture": True, "DestinationS3Uri": "s3://cap", "KmsKeyId": CMK}}
    r = services.endpoint_config(base(), cfg, {})
    stores = {s["name"]: s for s in r["stores"]}
    assert fields(stores["ml_storage_volume"]["at_rest"]) == (True, "aws_owned", None, None)
    assert stores["data_capture"]["at_rest"]["key_arn"] == key_arn(CMK)
    assert r["at_rest"]["key_kind"] == "aws_owned" and r["in_transit"]["tls_enforced"] is None
    cfg["KmsKeyId"] = "alias/models"
    assert services.endpoint_config(base(), cfg, {})["at_rest"]["key_kind"] == "customer_managed"
    cfg["DataCaptureConfig"] = {"EnableCapture": False, "DestinationS3Uri": "s3://cap"}
    assert [s["name"] for s in services.endpoint_config(base(), cfg, {})["stores"]] == ["ml_storage_volume"]


def test_endpoint_uses_its_config_and_flags_a_missing_one():
    cfg = {"EndpointConfigName": "ec", "EndpointConfigArn": "arn:ec", "KmsKeyId": CMK}
    inv = base(sagemaker=SageMaker(endpoint_configs=(cfg,)))
    ep = services.endpoint(inv, {"EndpointName": "ep", "EndpointArn": "arn:ep", "EndpointConfigName": "ec"}, {})
    assert ep["at_rest"]["key_arn"] == key_arn(CMK)
    gone = services.endpoint(inv, {"EndpointName": "ep", "EndpointArn": "arn:ep", "EndpointConfigName": "x"}, {})
    assert gone["findings"][0]["code"] == "endpoint_config_missing" and gone["findings"][0]["severity"] == "error"


def test_notebook_instance():
    nb = {"NotebookInstanceName": "nb", "NotebookInstanceArn": "arn:nb"}
    assert services.notebook_instance(base(), nb, {})["at_rest"]["key_kind"] == "aws_owned"
    nb["KmsKeyId"] = CMK
    assert services.notebook_instance(base(), nb, {})["at_rest"]["key_arn"] == key_arn(CMK)


def test_model_artifacts_take_the_object_or_bucket_encryption():
    b = bucket("models", algorithm="aws:kms", key_ref=CMK,
               objects=({"Key": "m/model.tar.gz", "ServerSideEncryption": "AES256"},))
    inv = base(buckets=(b,))
    m = {"ModelName": "m", "ModelArn": "arn:m", "PrimaryContainer": {"ModelDataUrl": "s3://models/m/model.tar.gz"}}
    assert services.model(inv, m, {})["at_rest"]["key_kind"] == "aws_owned"  # the object itself is SSE-S3
    m["PrimaryContainer"]["ModelDataUrl"] = "s3://models/m/other/"
    assert services.model(inv, m, {})["at_rest"]["key_arn"] == key_arn(CMK)  # a prefix: the bucket default
    m["PrimaryContainer"]["ModelDataUrl"] = "s3://elsewhere/model.tar.gz"
    r = services.model(inv, m, {})
    assert r["at_rest"] == {"encrypted": True, "key_arn": None, "key_kind": None, "key_state": None}
    assert r["findings"][0]["code"] == "store_unknown"
    assert services.model(inv, {"ModelName": "x", "ModelArn": "arn:x", "PrimaryContainer": {"Image": "i"}},
                          {})["at_rest"]["encrypted"] is None


# ------------------------------------------------------------------------------------------ ECR, Logs, Trail


@pytest.mark.parametrize("enc,kind,arn", [
    ({"encryptionType": "AES256"}, "aws_owned", None),
    (None, "aws_owned", None),
    ({"encryptionType": "KMS", "kmsKey": key_arn(CMK)}, "customer_managed", key_arn(CMK)),
    ({"encryptionType": "KMS"}, "aws_managed", None),
    ({"encryptionType": "KMS_DSSE", "kmsKey": CMK}, "customer_managed", key_arn(CMK)),
])
def test_ecr_repository(enc, kind, arn):
    repo = {"repositoryName": "r", "repositoryArn": "arn:aws:ecr:us-east-1:1:repository/r"}
    if enc is not None:
        repo["encryptionConfiguration"] = enc
    r = services.ecr_repository(base(), repo, {})
    assert (r["at_rest"]["key_kind"], r["at_rest"]["key_arn"]) == (kind, arn)


def test_log_groups_are_always_encrypted():
    g = {"logGroupName": "g", "arn": f"arn:aws:logs:{REGION}:{ACCT}:log-group:g:*"}
    r = services.log_group(base(), g, {})
    assert r["arn"] == f"arn:aws:logs:{REGION}:{ACCT}:log-group:g"
    assert fields(r["at_rest"]) == (True, "aws_owned", None, None)
    g["kmsKeyId"] = key_arn(CMK)
    assert services.log_group(base(), g, {})["at_rest"]["key_kind"] == "customer_managed"


def test_trail_key_bucket_default_and_validation():
    t = {"Name": "t", "TrailARN": "arn:t", "S3BucketName": "logs", "LogFileValidationEnabled": False,
         "Status": {"IsLogging": True}}
    r = services.trail(base(), t, {})
    assert r["at_rest"]["key_kind"] == "aws_owned"
    assert r["log_file_validation"] is False
    assert "trail_log_file_validation_off" in [f["code"] for f in r["findings"]]
    inv = base(buckets=(bucket("logs", algorithm="aws:kms", key_ref=CMK),))
    assert services.trail(inv, t, {})["at_rest"]["key_arn"] == key_arn(CMK)
    t.update(KmsKeyId="alias/gone", LogFileValidationEnabled=True)
    r = services.trail(inv, t, {})
    assert r["at_rest"]["key_state"] == "NotFound"
    assert "trail_log_file_validation_off" not in [f["code"] for f in r["findings"]]


def test_ebs_default_encryption():
    assert services.ebs_default(base(), {}) is None  # not collected: not reported rather than guessed
    on = services.ebs_default(base(ec2=Ec2(ebs_encryption_by_default=True)), {})
    assert on["at_rest"]["key_kind"] == "aws_managed" and on["at_rest"]["encrypted"] is True
    off = services.ebs_default(base(ec2=Ec2(ebs_encryption_by_default=False)), {})
    assert fields(off["at_rest"]) == (False, "none", None, None)
    assert off["findings"][0]["code"] == "ebs_default_encryption_off"
    cmk = services.ebs_default(base(ec2=Ec2(ebs_encryption_by_default=True, ebs_default_kms_key_id=CMK)), {})
    assert cmk["at_rest"]["key_arn"] == key_arn(CMK)


# ------------------------------------------------------------------------------------------------ transit

LB = "arn:aws:elasticloadbalancing:us-east-1:1:loadbalancer/app/lb/1"
CERT = "arn:aws:acm:us-east-1:1:certificate/c1"
TLS12 = {"Name": "ELBSecurityPolicy-TLS13-1-2-2021-06", "SslProtocols": ["TLSv1.2", "TLSv1.3"]}
TLS10 = {"Name": "ELBSecurityPolicy-2016-08", "SslProtocols": [{"Name": "TLSv1"}, {"Name": "TLSv1.1"},
                                                                {"Name": "TLSv1.2"}]}  # tolerated record shape


def _lb(listeners, certs=(), policies=(TLS12, TLS10)):
    inv = base(elbv2=Elbv2(load_balancers=({"LoadBalancerArn": LB, "LoadBalancerName": "lb"},),
                           listeners=tuple(dict(x, LoadBalancerArn=LB) for x in listeners),
                           ssl_policies=tuple(policies)),
               acm=Acm(certificates=tuple(certs)))
    return transit.load_balancer(inv, inv.elbv2.load_balancers[0], NOW)


def _https(policy="ELBSecurityPolicy-TLS13-1-2-2021-06", cert=CERT):
    return {"ListenerArn": "arn:l443", "Port": 443, "Protocol": "HTTPS", "SslPolicy": policy,
            "Certificates": [{"CertificateArn": cert}] if cert else []}


def _cert(status="ISSUED", days=90):
    return {"CertificateArn": CERT, "DomainName": "api.example.com", "Status": status,
            "NotAfter": NOW + timedelta(days=days)}


def test_https_listener_with_tls12_and_issued_cert():
    r = _lb([_https()], [_cert()])
    assert r["in_transit"]["tls_enforced"] is True and r["in_transit"]["min_tls_version"] == "TLSv1.2"
    assert r["at_rest"]["encrypted"] is None and not r["findings"]


def test_http_redirect_counts_plain_http_does_not():
    redirect = {"ListenerArn": "arn:l80", "Port": 80, "Protocol": "HTTP", "DefaultActions": [
        {"Type": "redirect", "RedirectConfig": {"Protocol": "HTTPS", "Port": "443"}}]}
    assert _lb([_https(), redirect], [_cert()])["in_transit"]["tls_enforced"] is True
    plain = {"ListenerArn": "arn:l80", "Port": 80, "Protocol": "HTTP", "DefaultActions": [{"Type": "forward"}]}
    r = _lb([_https(), plain], [_cert()])
    assert r["in_transit"]["tls_enforced"] is False
    assert [f["code"] for f in r["findings"]] == ["listener_plain_text"]


@pytest.mark.parametrize("listener,certs,code", [
    (_https("ELBSecurityPolicy-2016-08"), [_cert()], "listener_weak_tls"),
    (_https("ELBSecurityPolicy-Bogus"), [_cert()], "listener_ssl_policy_unknown"),
    (_https(), [_cert(days=-1)], "listener_certificate_expired"),
    (_https(), [_cert(status="PENDING_VALIDATION")], "listener_certificate_not_issued"),
    (_https(), [], "listener_certificate_not_found"),
    (_https(cert=None), [], "listener_no_certificate"),
])
def test_listener_weaknesses(listener, certs, code):
    r = _lb([listener], certs)
    assert code in [f["code"] for f in r["findings"]]
    assert r["in_transit"]["tls_enforced"] is True  # still TLS; the weakness is a finding
    if code == "listener_weak_tls":
        assert r["in_transit"]["min_tls_version"] == "TLSv1"


def test_interface_endpoint_private_dns():
    ep = {"VpcEndpointId": "vpce-1", "VpcEndpointType": "Interface", "ServiceName": "com.amazonaws.us-east-1.s3",
          "PrivateDnsEnabled": False}
    r = transit.vpc_endpoint(base(), ep)
    assert r["type"] == "AWS::EC2::VPCEndpoint" and r["in_transit"] == {"tls_enforced": None,
                                                                         "private_dns_enabled": False}
    assert r["findings"][0]["code"] == "endpoint_private_dns_off"
    assert transit.vpc_endpoint(base(), dict(ep, VpcEndpointType="Gateway")) is None


# ------------------------------------------------------------------------------------ weakest and summary


def test_strength_order():
    recs = [
        {"encrypted": False, "key_arn": None, "key_kind": "none", "key_state": None},
        {"encrypted": True, "key_arn": "a", "key_kind": "customer_managed", "key_state": "NotFound"},
        {"encrypted": True, "key_arn": None, "key_kind": "aws_owned", "key_state": None},
        {"encrypted": True, "key_arn": "m", "key_kind": "aws_managed", "key_state": "Enabled"},
        {"encrypted": True, "key_arn": "c", "key_kind": "customer_managed", "key_state": "Enabled"},
        {"encrypted": None, "key_arn": None, "key_kind": None, "key_state": None},
    ]
    assert [strength(r) for r in recs] == [0, 1, 2, 3, 4, 5]


def test_summary_counts_stores_against_the_cmk_and_names_the_rest():
    inv = base(sagemaker=SageMaker(training_jobs=(_job(OutputDataConfig={"S3OutputPath": "s3://o",
                                                                         "KmsKeyId": CMK}),)),
               logs=Logs(log_groups=({"logGroupName": "g", "arn": "arn:aws:logs:us-east-1:1:log-group:g:*",
                                      "kmsKeyId": key_arn(CMK)},)),
               ecr=Ecr(repositories=({"repositoryName": "r", "repositoryArn": "arn:r",
                                      "encryptionConfiguration": {"encryptionType": "AES256"}},)),
               cloudtrail=CloudTrail(trails=()))
    report = {"accounts": [ACCT], "resources": account_resources(inv, analyze_policies=False), "errors": []}
    lines = summary(report, key_arn(CMK))
    assert lines[0].startswith("2 of 4 stores use your CMK (alias/models);")
    assert "the training volume of training job tj uses an AWS-owned key" in lines[0]
    assert "the images of repository r uses an AWS-owned key" in lines[0]
    key_res = next(r for r in report["resources"] if r["type"] == "AWS::KMS::Key")
    assert {(u["type"], u["store"]) for u in key_res["used_by"]} == {
        ("AWS::SageMaker::TrainingJob", "model_output"), ("AWS::Logs::LogGroup", "log_events")}
    generic = summary(report)
    assert generic[0].startswith("2 of 4 stores use a customer-managed key")
    assert summary(report, "alias/models")[0] == lines[0] == summary(report, CMK)[0]


def test_summary_reports_disabled_key_with_its_users():
    inv = inventory(keys=(key(CMK, state="Disabled", aliases=("alias/models",)),),
                    logs=Logs(log_groups=({"logGroupName": "g", "logGroupArn": "arn:g", "kmsKeyId": CMK},)))
    report = {"accounts": [ACCT], "resources": account_resources(inv, analyze_policies=False), "errors": []}
    lines = summary(report)
    assert "the log events of log group g uses a key that is disabled (alias/models)" in lines[0]
    assert "Key alias/models is disabled: 1 store still depends on it, and their data cannot be read." in lines
    assert summary({"resources": []}) == ["No resources that keep data at rest were found."]


def test_collection_errors_surface_in_summary():
    report = {"resources": [], "errors": [{"account": ACCT, "section": "s3", "message": "boom"}]}
    assert any(line.startswith("Could not evaluate: Account") for line in summary(report))


def test_report_keeps_the_contract_fields_everywhere():
    inv = replace(base(sagemaker=SageMaker(training_jobs=(_job(),))), ecr=Ecr(repositories=(
        {"repositoryName": "r", "repositoryArn": "arn:r"},)))
    for r in account_resources(inv, analyze_policies=False):
        assert set(r["at_rest"]) == {"encrypted", "key_arn", "key_kind", "key_state"}
        assert "tls_enforced" in r["in_transit"]
        assert r["at_rest"]["key_kind"] in ("customer_managed", "aws_managed", "aws_owned", "none", None)
        for s in r.get("stores", []):
            assert set(s["at_rest"]) == {"encrypted", "key_arn", "key_kind", "key_state"}
