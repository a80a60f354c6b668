"""The latest training job names the pipeline key for its volume and its output (references resolved by the
encryption engine: the simulator validates none of them) and writes to the artifact bucket."""

from __future__ import annotations

from seclab.grading import CheckContext, Finding, check_library


def run(ctx: CheckContext) -> Finding:
    lib = check_library("cmk_pipeline")
    inv, facts = ctx.inventory, ctx.facts
    prefix = str(facts["training_job_prefix"])
    key = lib.usable_cmk(inv, facts)
    if key is None:
        return ctx.fail("no_key", alias=facts["key_alias"])
    jobs = lib.training_jobs(inv, prefix)
    if not jobs:
        return ctx.fail("no_job", prefix=prefix)
    job = jobs[0]
    name = str(job.get("TrainingJobName"))
    volume = (job.get("ResourceConfig") or {}).get("VolumeKmsKeyId")
    output = job.get("OutputDataConfig") or {}
    evidence = {"training_job": name, "VolumeKmsKeyId": volume, "OutputDataConfig": output,
                "jobs_considered": [j.get("TrainingJobName") for j in jobs]}
    problems: list[str] = []
    ok, info = lib.same_key(inv, volume, key.arn)
    if not volume:
        problems.append("ResourceConfig.VolumeKmsKeyId is missing (the volume gets a key SageMaker owns)")
    elif not ok:
        problems.append(f"the volume is encrypted with {lib.key_label(info, volume)}")
    out_key = output.get("KmsKeyId")
    ok, info = lib.same_key(inv, out_key, key.arn)
    if not out_key:
        problems.append("OutputDataConfig.KmsKeyId is missing (the model is written with the aws/s3 key or the "
                        "bucket default)")
    elif not ok:
        problems.append(f"the output is encrypted with {lib.key_label(info, out_key)}")
    location = lib.s3_uri(output.get("S3OutputPath"))
    if location is None or location[0] != facts["artifact_bucket"]:
        problems.append(f"the output goes to {output.get('S3OutputPath')}, not the artifact bucket "
                        f"{facts['artifact_bucket']}")
    if problems:
        return ctx.fail("problems", evidence=evidence, job=name, key_arn=key.arn, details="; ".join(problems),
                        prefix=prefix)
    return ctx.ok("pass", evidence=evidence, job=name, bucket=facts["artifact_bucket"], key_arn=key.arn)
