"""The lab's endpoint exists and serves the team's model artifact with the dedicated execution role.

Follows endpoint -> endpoint config -> models in the inventory; every model must run as the lab's execution role
(not the legacy role with full access) and load the scenario's artifact.
"""

from __future__ import annotations

from typing import Any

from seclab.grading import CheckContext, Finding, check_library


def run(ctx: CheckContext) -> Finding:
    pe = check_library("private_endpoint")
    f, inv = ctx.facts, ctx.inventory
    ch = pe.chain(inv, f)
    if ch.endpoint is None:
        return ctx.fail("endpoint_missing", evidence={"endpoints": [e.get("EndpointName") for e in
                                                                    inv.sagemaker.endpoints]},
                        **pe.endpoint_missing_params(f))
    if ch.missing:
        return ctx.fail("chain_broken", evidence={"endpoint": ch.endpoint.get("EndpointName")},
                        endpoint=f["endpoint_name"], missing=", ".join(ch.missing))
    expected = str(f["execution_role_arn"])
    evidence: dict[str, Any] = {"endpoint": f["endpoint_name"], "config": ch.config.get("EndpointConfigName") if
                                ch.config else None, "models": []}
    for m in ch.models:
        containers = [m.get("PrimaryContainer")] if m.get("PrimaryContainer") else list(m.get("Containers") or [])
        urls = [str(c.get("ModelDataUrl")) for c in containers if c]
        evidence["models"].append({"ModelName": m.get("ModelName"), "ExecutionRoleArn": m.get("ExecutionRoleArn"),
                                   "ModelDataUrl": urls})
    for m, e in zip(ch.models, evidence["models"]):
        role = str(m.get("ExecutionRoleArn") or "")
        if role.rsplit("/", 1)[-1] != expected.rsplit("/", 1)[-1] or role.split(":")[4:5] != expected.split(":")[4:5]:
            return ctx.fail("other_role", evidence=evidence, model=m.get("ModelName"), endpoint=f["endpoint_name"],
                            role_arn=role or "no role", expected=expected)
        wrong = [u for u in e["ModelDataUrl"] if u != f["model_data_url"]]
        if wrong or not e["ModelDataUrl"]:
            return ctx.fail("other_artifact", evidence=evidence, model=m.get("ModelName"),
                            url=(wrong or ["no artifact"])[0], expected=f["model_data_url"])
    return ctx.ok("pass", evidence=evidence, endpoint=f["endpoint_name"], role=f["execution_role_name"],
                  url=f["model_data_url"])
