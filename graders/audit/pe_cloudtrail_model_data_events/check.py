"""A CloudTrail trail records S3 data events (reads included) for the model artifact's prefix.

Management events never show object reads. Basic selectors need an AWS::S3::Object data resource whose value
covers the artifact (the bucket, the prefix, or all buckets) with ReadWriteType All or ReadOnly; advanced selectors
need a Data category selector for AWS::S3::Object whose ARN filter covers the artifact and does not exclude reads.
"""

from __future__ import annotations

from typing import Any

from seclab.grading import CheckContext, Finding


def _covers(values: Any, arn: str) -> bool:
    for v in values or []:
        v = str(v)
        if v in ("arn:aws:s3", "arn:aws:s3:::", "arn:aws:s3:::*") or arn.startswith(v):
            return True
    return False


def _records_reads(trail: Any, arn: str) -> bool:
    sel = trail.get("EventSelectors") or {}
    for a in sel.get("AdvancedEventSelectors") or []:
        fields = {str(x.get("Field")): x for x in a.get("FieldSelectors", []) or []}
        if "Data" not in (fields.get("eventCategory", {}).get("Equals") or []):
            continue
        if "AWS::S3::Object" not in (fields.get("resources.type", {}).get("Equals") or []):
            continue
        if (fields.get("readOnly", {}).get("Equals") or ["true"]) == ["false"]:
            continue
        arn_sel = fields.get("resources.ARN")
        if arn_sel is None or _covers(arn_sel.get("StartsWith"), arn) or arn in (arn_sel.get("Equals") or []):
            return True
    for b in sel.get("EventSelectors") or []:
        if str(b.get("ReadWriteType", "All")) == "WriteOnly":
            continue
        for res in b.get("DataResources", []) or []:
            if res.get("Type") == "AWS::S3::Object" and _covers(res.get("Values"), arn):
                return True
    return False


def run(ctx: CheckContext) -> Finding:
    f, inv = ctx.facts, ctx.inventory
    arn = f"arn:aws:s3:::{f['model_bucket']}/{f['model_artifact_key']}"
    params = {"trail": f["trail_name"], "bucket": f["model_bucket"], "prefix": f["model_prefix"]}
    trails = list(inv.cloudtrail.trails)
    evidence = {"trails": [{"Name": t.get("Name"), "EventSelectors": t.get("EventSelectors")} for t in trails]}
    if not trails:
        return ctx.fail("no_trail", evidence=evidence, **params)
    good = [t for t in trails if _records_reads(t, arn)]
    if not good:
        return ctx.fail("no_data_events", evidence=evidence, name=trails[0].get("Name"), **params)
    return ctx.ok("pass", evidence=evidence, name=good[0].get("Name"), **params)
