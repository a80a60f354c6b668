"""At rest (and, for SageMaker jobs, inter-container traffic) for the services other than S3.

Each function follows the service's documented default when no key is named, because a missing KmsKeyId rarely
means "unencrypted":
- SageMaker ML storage volumes (training, processing, endpoints): a transient key SageMaker owns; notebook
  instances: a system-managed key (the "encryption at rest" pages of the SageMaker developer guide). Both AWS-owned.
- SageMaker outputs written to S3 (model artifacts, processing outputs, data capture, async inference): "the
  default KMS key for Amazon S3 for your role's account", i.e. the AWS-managed aws/s3 key (OutputDataConfig).
- ECR: AES256 (SSE-S3, AWS-owned) unless KMS is chosen; KMS without a key is the AWS-managed aws/ecr key.
- CloudWatch Logs: always encrypted; a key AWS owns unless the group names a KMS key.
- CloudTrail: SSE-S3 unless KmsKeyId is set (log files are objects in the trail's bucket, so the bucket's default
  applies when the bucket is known).
- EBS default encryption: off unless enabled; when on and no key is set, the AWS-managed aws/ebs key.
A resource that keeps data in several places lists each as a store; its top-level at_rest is the weakest store.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from seclab.inventory.model import AccountInventory

from .findings import KEY_LEVEL_CODES, NOT_APPLICABLE_AT_REST, Finding, Severity, at_rest, strength
from .keys import KeyInfo, aws_managed_key, aws_owned, resolve_key
from .s3 import default_encryption

Known = Mapping[str, AccountInventory]


def store(name: str, description: str, info: KeyInfo, key_ref: str | None, **extra: Any) -> dict[str, Any]:
    """One place a resource keeps data, with the contract's at-rest record for it."""
    return {"name": name, "description": description, "key_ref": key_ref, "at_rest": info.at_rest(),
            "findings": [f.to_dict() for f in info.findings if f.code not in KEY_LEVEL_CODES], **extra}


def weakest(stores: list[dict[str, Any]]) -> tuple[dict[str, Any], str | None]:
    """The weakest store's at-rest record (see findings.strength; ties go to the first listed)."""
    if not stores:
        return dict(NOT_APPLICABLE_AT_REST), None
    worst = min(stores, key=lambda s: strength(s["at_rest"]))
    return dict(worst["at_rest"]), str(worst["name"])


def resource(arn: str, rtype: str, account: str, name: str, stores: list[dict[str, Any]],
             tls: bool | None = None, findings: list[Finding] | None = None, **extra: Any) -> dict[str, Any]:
    """A resource entry with stores: top-level at_rest = the weakest store, findings = its own plus its stores'."""
    top, weakest_name = weakest(stores)
    all_findings = [f.to_dict() for f in findings or []]
    for s in stores:
        all_findings += [dict(f, store=s["name"]) for f in s["findings"]]
    return {"arn": arn, "type": rtype, "account": account, "name": name, "at_rest": top,
            "in_transit": {"tls_enforced": tls}, "weakest_store": weakest_name, "stores": stores,
            **extra, "findings": all_findings}


def _key(inv: AccountInventory, ref: Any, known: Known, owned: str | None = None,
         managed: str | None = None) -> KeyInfo:
    """A named key, else the service default: AWS-owned (owned=description) or AWS-managed (managed=service)."""
    if ref:
        return resolve_key(inv, str(ref), accounts=known)
    if managed:
        return aws_managed_key(inv, managed)
    return aws_owned("service", owned or "the service encrypts it with a key AWS owns")


# ------------------------------------------------------------------------------------------------ SageMaker

_VOLUME = "SageMaker encrypts this volume with a transient key it owns"


def _ict(job: Mapping[str, Any], name: str, kind: str, instances: int) -> tuple[bool, list[Finding]]:
    on = bool(job.get("EnableInterContainerTrafficEncryption")
              or (job.get("NetworkConfig") or {}).get("EnableInterContainerTrafficEncryption"))
    if on:
        return True, []
    severity: Severity = "medium" if instances > 1 else "low"
    return False, [Finding("inter_container_traffic_unencrypted", severity,
                           f"{kind} {name} does not encrypt traffic between its containers "
                           f"(EnableInterContainerTrafficEncryption is off; {instances} instance(s)): distributed "
                           "jobs exchange data in the clear.")]


def training_job(inv: AccountInventory, job: Mapping[str, Any], known: Known) -> dict[str, Any]:
    name = str(job.get("TrainingJobName"))
    rc = job.get("ResourceConfig") or {}
    out = job.get("OutputDataConfig") or {}
    stores = [store("training_volume", "the training instances' storage volume",
                    _key(inv, rc.get("VolumeKmsKeyId"), known, owned=_VOLUME), rc.get("VolumeKmsKeyId"))]
    if out:
        stores.append(store("model_output", f"the model artifacts written to {out.get('S3OutputPath')}",
                            _key(inv, out.get("KmsKeyId"), known, managed="s3"), out.get("KmsKeyId"),
                            location=out.get("S3OutputPath")))
    instances = int(rc.get("InstanceCount") or 1)
    tls, findings = _ict(job, name, "Training job", instances)
    return resource(str(job.get("TrainingJobArn")), "AWS::SageMaker::TrainingJob", inv.account_id, name, stores,
                    tls, findings, inter_container_traffic_encryption=tls)


def processing_job(inv: AccountInventory, job: Mapping[str, Any], known: Known) -> dict[str, Any]:
    name = str(job.get("ProcessingJobName"))
    cluster = (job.get("ProcessingResources") or {}).get("ClusterConfig") or {}
    out = job.get("ProcessingOutputConfig") or {}
    stores = [store("processing_volume", "the processing instances' storage volume",
                    _key(inv, cluster.get("VolumeKmsKeyId"), known, owned=_VOLUME), cluster.get("VolumeKmsKeyId"))]
    if out:
        dests = [((o.get("S3Output") or {}).get("S3Uri")) for o in out.get("Outputs") or []]
        stores.append(store("outputs", "the job's outputs written to S3",
                            _key(inv, out.get("KmsKeyId"), known, managed="s3"), out.get("KmsKeyId"),
                            location=[d for d in dests if d]))
    instances = int(cluster.get("InstanceCount") or 1)
    tls, findings = _ict(job, name, "Processing job", instances)
    return resource(str(job.get("ProcessingJobArn")), "AWS::SageMaker::ProcessingJob", inv.account_id, name,
                    stores, tls, findings, inter_container_traffic_encryption=tls)


def _config_stores(inv: AccountInventory, cfg: Mapping[str, Any], known: Known) -> list[dict[str, Any]]:
    stores = [store("ml_storage_volume", "the endpoint instances' ML storage volume",
                    _key(inv, cfg.get("KmsKeyId"), known, owned=_VOLUME), cfg.get("KmsKeyId"))]
    capture = cfg.get("DataCaptureConfig") or {}
    if capture and capture.get("EnableCapture", True):
        stores.append(store("data_capture", f"captured requests and responses in {capture.get('DestinationS3Uri')}",
                            _key(inv, capture.get("KmsKeyId"), known, managed="s3"), capture.get("KmsKeyId"),
                            location=capture.get("DestinationS3Uri")))
    async_out = ((cfg.get("AsyncInferenceConfig") or {}).get("OutputConfig")) or {}
    if async_out:
        stores.append(store("async_inference_output", "asynchronous inference results in S3",
                            _key(inv, async_out.get("KmsKeyId"), known, managed="s3"), async_out.get("KmsKeyId"),
                            location=async_out.get("S3OutputPath")))
    return stores


def endpoint_config(inv: AccountInventory, cfg: Mapping[str, Any], known: Known) -> dict[str, Any]:
    name = str(cfg.get("EndpointConfigName"))
    return resource(str(cfg.get("EndpointConfigArn")), "AWS::SageMaker::EndpointConfig", inv.account_id, name,
                    _config_stores(inv, cfg, known))


def endpoint(inv: AccountInventory, ep: Mapping[str, Any], known: Known) -> dict[str, Any]:
    name = str(ep.get("EndpointName"))
    cfg_name = ep.get("EndpointConfigName")
    cfg = next((c for c in inv.sagemaker.endpoint_configs if c.get("EndpointConfigName") == cfg_name), None)
    findings: list[Finding] = []
    if cfg is None:
        findings.append(Finding("endpoint_config_missing", "error",
                                f"Endpoint {name} names endpoint config {cfg_name}, which was not found: its "
                                "encryption cannot be judged."))
        stores: list[dict[str, Any]] = []
    else:
        stores = _config_stores(inv, cfg, known)
    return resource(str(ep.get("EndpointArn")), "AWS::SageMaker::Endpoint", inv.account_id, name, stores,
                    None, findings, endpoint_config=cfg_name)


def notebook_instance(inv: AccountInventory, nb: Mapping[str, Any], known: Known) -> dict[str, Any]:
    name = str(nb.get("NotebookInstanceName"))
    info = _key(inv, nb.get("KmsKeyId"), known,
                owned="SageMaker encrypts the notebook's volumes with a system-managed key AWS owns")
    return resource(str(nb.get("NotebookInstanceArn")), "AWS::SageMaker::NotebookInstance", inv.account_id, name,
                    [store("ml_storage_volume", "the notebook's ML storage volume", info, nb.get("KmsKeyId"))])


def _s3_location(uri: str) -> tuple[str, str] | None:
    if not uri.startswith("s3://"):
        return None
    bucket, _, key = uri[len("s3://"):].partition("/")
    return bucket, key


def _artifact_store(inv: AccountInventory, uri: str, known: Known, index: int) -> dict[str, Any]:
    from .s3 import object_key  # local import: s3 imports nothing from here, keep the dependency one-way

    loc = _s3_location(uri)
    name = "model_artifacts" if index == 0 else f"model_artifacts_{index + 1}"
    if loc is None:
        rec = at_rest(True, None, None, None)
        return {"name": name, "description": f"model artifacts at {uri}", "key_ref": None, "at_rest": rec,
                "location": uri, "findings": [Finding("store_unknown", "info",
                                                      f"The model data at {uri} is not in S3: its encryption "
                                                      "is unknown.").to_dict()]}
    bucket_name, key = loc
    for acct_inv in [inv, *(i for a, i in known.items() if a != inv.account_id)]:
        bucket = acct_inv.s3.bucket(bucket_name)
        if bucket is None:
            continue
        obj = next((o for o in bucket.objects if o.get("Key") == key), None)
        if obj is not None:
            info = object_key(acct_inv, obj, known)
            return store(name, f"model artifacts in s3://{bucket_name}/{key}", info, obj.get("SSEKMSKeyId"),
                         location=uri)
        info, _ = default_encryption(acct_inv, bucket, known)
        return store(name, f"model artifacts under s3://{bucket_name}/{key} (the bucket's default encryption)",
                     info, None, location=uri)
    rec = at_rest(True, None, None, None)  # S3 encrypts every object; which key is unknown
    return {"name": name, "description": f"model artifacts in s3://{bucket_name}/{key}", "key_ref": None,
            "at_rest": rec, "location": uri,
            "findings": [Finding("store_unknown", "info",
                                 f"Bucket {bucket_name} was not inventoried: the artifacts' key is "
                                 "unknown.").to_dict()]}


def model(inv: AccountInventory, m: Mapping[str, Any], known: Known) -> dict[str, Any]:
    """A model keeps its data in its artifacts (S3): each container's ModelDataUrl is a store."""
    name = str(m.get("ModelName"))
    containers = [c for c in [m.get("PrimaryContainer"), *(m.get("Containers") or [])] if c]
    uris: list[str] = []
    for c in containers:
        uri = c.get("ModelDataUrl") or ((c.get("ModelDataSource") or {}).get("S3DataSource") or {}).get("S3Uri")
        if uri and uri not in uris:
            uris.append(str(uri))
    stores = [_artifact_store(inv, u, known, i) for i, u in enumerate(uris)]
    return resource(str(m.get("ModelArn")), "AWS::SageMaker::Model", inv.account_id, name, stores)


# ------------------------------------------------------------------------------------------ ECR, Logs, Trail


def ecr_repository(inv: AccountInventory, repo: Mapping[str, Any], known: Known) -> dict[str, Any]:
    name = str(repo.get("repositoryName"))
    enc = repo.get("encryptionConfiguration") or {}
    etype = str(enc.get("encryptionType") or "AES256")
    if etype.startswith("KMS"):
        info = _key(inv, enc.get("kmsKey"), known, managed="ecr")
    else:
        info = aws_owned("ecr", "ECR stores the images with SSE-S3 (AES256), keys AWS owns")
    return resource(str(repo.get("repositoryArn")), "AWS::ECR::Repository", inv.account_id, name,
                    [store("images", "the repository's image layers", info, enc.get("kmsKey"),
                           encryption_type=etype)], encryption_type=etype)


def log_group(inv: AccountInventory, group: Mapping[str, Any], known: Known) -> dict[str, Any]:
    name = str(group.get("logGroupName"))
    arn = str(group.get("logGroupArn") or str(group.get("arn") or "").removesuffix(":*"))
    info = _key(inv, group.get("kmsKeyId"), known,
                owned="CloudWatch Logs encrypts log data with a key AWS owns")
    return resource(arn, "AWS::Logs::LogGroup", inv.account_id, name,
                    [store("log_events", "the group's log events", info, group.get("kmsKeyId"))])


def trail(inv: AccountInventory, t: Mapping[str, Any], known: Known) -> dict[str, Any]:
    name = str(t.get("Name"))
    bucket_name = t.get("S3BucketName")
    findings: list[Finding] = []
    if t.get("KmsKeyId"):
        info = resolve_key(inv, str(t["KmsKeyId"]), accounts=known)
        how = "SSE-KMS named by the trail"
    else:
        bucket = next((i.s3.bucket(str(bucket_name)) for i in [inv, *known.values()]
                       if bucket_name and i.s3.bucket(str(bucket_name)) is not None), None)
        if bucket is not None:
            info, _ = default_encryption(inv, bucket, known)
            how = f"the default encryption of bucket {bucket_name}"
        else:
            info = aws_owned("cloudtrail", "CloudTrail log files are encrypted with SSE-S3, keys AWS owns")
            how = "SSE-S3 (CloudTrail's default)"
    validation = bool(t.get("LogFileValidationEnabled"))
    if not validation:
        findings.append(Finding("trail_log_file_validation_off", "medium",
                                f"Trail {name} does not validate its log files: tampering with delivered logs would "
                                "go unnoticed. Turn on log file validation."))
    logging = (t.get("Status") or {}).get("IsLogging")
    if logging is False:
        findings.append(Finding("trail_not_logging", "medium", f"Trail {name} is not logging."))
    return resource(str(t.get("TrailARN")), "AWS::CloudTrail::Trail", inv.account_id, name,
                    [store("log_files", f"log files delivered to s3://{bucket_name} ({how})", info, t.get("KmsKeyId"),
                           location=f"s3://{bucket_name}/{t.get('S3KeyPrefix') or ''}")],
                    None, findings, log_file_validation=validation, is_logging=logging)


def ebs_default(inv: AccountInventory, known: Known) -> dict[str, Any] | None:
    """The account's EBS encryption-by-default setting, as a pseudo-resource (it has no CloudFormation type)."""
    on = inv.ec2.ebs_encryption_by_default
    if on is None:
        return None
    arn = f"arn:aws:ec2:{inv.region}:{inv.account_id}:ebs-encryption-by-default"
    findings: list[Finding] = []
    if on:
        info = _key(inv, inv.ec2.ebs_default_kms_key_id, known, managed="ebs")
        st = store("new_volumes", "new EBS volumes and snapshot copies in this region", info,
                   inv.ec2.ebs_default_kms_key_id)
    else:
        findings.append(Finding("ebs_default_encryption_off", "medium",
                                f"EBS encryption by default is off in {inv.region}: new volumes are created "
                                "unencrypted unless each request asks for encryption."))
        st = {"name": "new_volumes", "description": "new EBS volumes in this region", "key_ref": None,
              "at_rest": at_rest(False, None, "none", None), "findings": []}
    return resource(arn, "AWS::EC2::EBSEncryptionByDefault", inv.account_id, "ebs-encryption-by-default", [st],
                    None, findings, enabled=bool(on))
