"""Nothing lost or altered: every object recorded at set-up is present under its key with the recorded MD5 as its
ETag (the simulator's ETag for a single-part upload is the MD5 of the content; see the lab's cheat sheet)."""

from __future__ import annotations

from typing import Any

from seclab.grading import CheckContext, Finding, check_library


def run(ctx: CheckContext) -> Finding:
    lib = check_library("cmk_pipeline")
    inv, facts = ctx.inventory, ctx.facts
    recorded: dict[str, list[dict[str, Any]]] = facts["objects"]
    problems: list[str] = []
    evidence: list[dict[str, Any]] = []
    count = 0
    for name, items in recorded.items():
        bucket = inv.s3.bucket(name)
        if bucket is None:
            return ctx.error("bucket_missing", bucket=name)
        present = lib.bucket_objects(bucket)
        for item in items:
            count += 1
            where = f"s3://{name}/{item['key']}"
            obj = present.get(item["key"])
            if obj is None:
                problems.append(f"{where} is missing")
                evidence.append({"object": where, "present": False, "expected_md5": item["md5"]})
                continue
            etag = lib.etag_md5(obj)
            entry = {"object": where, "present": True, "expected_md5": item["md5"], "etag": etag,
                     "expected_size": item["size"], "size": obj.get("Size")}
            evidence.append(entry)
            if etag != item["md5"] or (obj.get("Size") is not None and int(obj["Size"]) != int(item["size"])):
                problems.append(f"{where} changed (ETag {etag or '?'}, size {obj.get('Size')}; was {item['md5']}, "
                                f"size {item['size']})")
    if problems:
        return ctx.fail("damaged", evidence=evidence, problems=lib.listing(problems, 5))
    per = ", ".join(f"{len(items)} in {name}" for name, items in recorded.items())
    return ctx.ok("pass", evidence=evidence, count=count, buckets=per)
