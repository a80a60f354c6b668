"""The endpoint's current config: KmsKeyId (and DataCaptureConfig.KmsKeyId when capturing) is the pipeline key."""

from __future__ import annotations

from seclab.grading import CheckContext, Finding, check_library


def run(ctx: CheckContext) -> Finding:
    lib = check_library("cmk_pipeline")
    inv, facts = ctx.inventory, ctx.facts
    key = lib.usable_cmk(inv, facts)
    if key is None:
        return ctx.fail("no_key", alias=facts["key_alias"])
    name = str(facts["endpoint"])
    endpoint = next((e for e in inv.sagemaker.endpoints if e.get("EndpointName") == name), None)
    if endpoint is None:
        return ctx.fail("no_endpoint", endpoint=name)
    config_name = str(endpoint.get("EndpointConfigName"))
    config = next((c for c in inv.sagemaker.endpoint_configs if c.get("EndpointConfigName") == config_name), None)
    if config is None:
        return ctx.fail("config_missing", endpoint=name, config=config_name)
    evidence = {"endpoint": name, "EndpointConfigName": config_name, "KmsKeyId": config.get("KmsKeyId"),
                "DataCaptureConfig": config.get("DataCaptureConfig")}
    problems: list[str] = []
    ref = config.get("KmsKeyId")
    ok, info = lib.same_key(inv, ref, key.arn)
    if not ref:
        problems.append("names no KmsKeyId (the instance volumes get a key SageMaker owns)")
    elif not ok:
        problems.append(f"encrypts with {lib.key_label(info, ref)}")
    capture = config.get("DataCaptureConfig") or {}
    if capture.get("EnableCapture"):
        cref = capture.get("KmsKeyId")
        cok, cinfo = lib.same_key(inv, cref, key.arn)
        if not cok:
            problems.append(f"captures requests to {capture.get('DestinationS3Uri')} with "
                            f"{lib.key_label(cinfo, cref) if cref else 'no KMS key'}")
    if problems:
        return ctx.fail("problems", evidence=evidence, endpoint=name, config=config_name,
                        details=" and ".join(problems), key_arn=key.arn)
    return ctx.ok("pass", evidence=evidence, endpoint=name, config=config_name, key_arn=key.arn)
