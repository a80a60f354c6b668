"""What the learner built, as a mermaid diagram drawn from the live inventory (`lab.diagram()` in the notebook).

Why a lab-specific diagram: the generic one lists resources; this lab is about which key protects what, so every
store is drawn with an edge to the key that actually encrypts it (solid: the pipeline key; dotted: anything else).
"""

from __future__ import annotations

import re
from typing import Any

from seclab.engines.crypto import resolve_key
from seclab.inventory.model import OrgInventory


def _id(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_]", "_", text)


def _label(text: Any) -> str:
    return str(text).replace('"', "'")


def diagram(org: OrgInventory, facts: dict[str, Any]) -> str:
    inv = org.management
    lines = ["flowchart LR"]
    cmk = resolve_key(inv, str(facts.get("key_alias", "")))
    cmk_arn = cmk.arn if cmk.exists else None
    record = next((k for k in inv.kms.keys if cmk_arn and k.arn == cmk_arn), None)
    if record is not None:
        state = f"{record.metadata.get('KeyState')}, rotation {'on' if record.rotation_enabled else 'OFF'}"
        lines.append(f'  pkey{{"pipeline key {facts["key_alias"]}<br/>{state}"}}')
    else:
        lines.append(f'  pkey{{"no key behind {facts.get("key_alias")} yet"}}')

    def edge(node: str, ref: Any, what: str) -> None:
        if ref and cmk_arn and resolve_key(inv, str(ref)).arn == cmk_arn:
            lines.append(f"  {node} -->|{what}| pkey")
        else:
            lines.append(f'  {node} -.->|"{what}: {_label(ref or "not the pipeline key")}"| other_keys')

    lines.append('  other_keys(["keys you do not control<br/>(SSE-S3, AWS-managed, service-owned)"])')
    lines.append(f'  subgraph vpc["VPC {_label(facts.get("vpc_id"))}"]')
    ep = next((e for e in inv.ec2.vpc_endpoints if e.get("VpcEndpointId") == facts.get("s3_endpoint_id")), None)
    if ep is not None:
        doc = ep.get("PolicyDocument") or {}
        wide = any(s.get("Resource") in ("*", ["*"]) and s.get("Effect") == "Allow" for s in doc.get("Statement", []))
        lines.append(f'    vpce{{{{"S3 gateway endpoint<br/>{"policy: ANY bucket" if wide else "policy: scoped"}"}}}}')
    jobs = sorted((j for j in inv.sagemaker.training_jobs
                   if str(j.get("TrainingJobName", "")).startswith(str(facts.get("training_job_prefix")))),
                  key=lambda j: str(j.get("CreationTime")))
    if jobs:
        job = jobs[-1]
        flags = [f for f, on in (("isolated", job.get("EnableNetworkIsolation")),
                                 ("ICT encrypted", job.get("EnableInterContainerTrafficEncryption")),
                                 ("in VPC", job.get("VpcConfig"))) if on]
        lines.append(f'    tj["training job {_label(job.get("TrainingJobName"))}<br/>{", ".join(flags) or "not isolated"}"]')
    lb = next((b for b in inv.elbv2.load_balancers if b.get("LoadBalancerName") == facts.get("load_balancer")), None)
    if lb is not None:
        listeners = [x for x in inv.elbv2.listeners if x.get("LoadBalancerArn") == lb.get("LoadBalancerArn")]
        desc = ", ".join(f"{x.get('Protocol')}:{x.get('Port')} {x.get('SslPolicy') or ''}".strip() for x in listeners)
        lines.append(f'    alb["load balancer {_label(facts.get("load_balancer"))}<br/>{_label(desc) or "no listener"}"]')
    lines.append("  end")
    for fact in ("data_bucket", "artifact_bucket"):
        bucket = inv.s3.bucket(str(facts.get(fact)))
        if bucket is None:
            continue
        node = _id("b_" + bucket.name)
        under = sum(1 for o in bucket.objects if cmk_arn and o.get("SSEKMSKeyId")
                    and resolve_key(inv, str(o["SSEKMSKeyId"])).arn == cmk_arn)
        sids = [str(s.get("Sid", "?")) for s in (bucket.policy or {}).get("Statement", [])] if isinstance(
            bucket.policy, dict) else []
        lines.append(f'  {node}[("s3://{_label(bucket.name)}<br/>{under}/{len(bucket.objects)} objects under the '
                     f'pipeline key<br/>policy: {_label(", ".join(sids) or "none")}")]')
        rules = (bucket.encryption or {}).get("Rules") or [{}]
        edge(node, (rules[0].get("ApplyServerSideEncryptionByDefault") or {}).get("KMSMasterKeyID"), "default")
        if ep is not None:
            lines.append(f"  vpce --- {node}")
    if jobs:
        edge("tj", (jobs[-1].get("ResourceConfig") or {}).get("VolumeKmsKeyId"), "volume")
        edge("tj", (jobs[-1].get("OutputDataConfig") or {}).get("KmsKeyId"), "output")
    endpoint = next((e for e in inv.sagemaker.endpoints if e.get("EndpointName") == facts.get("endpoint")), None)
    if endpoint is not None:
        lines.append(f'  sme[/"endpoint {_label(endpoint.get("EndpointName"))}<br/>'
                     f'{_label(endpoint.get("EndpointConfigName"))}"/]')
        cfg = next((c for c in inv.sagemaker.endpoint_configs
                    if c.get("EndpointConfigName") == endpoint.get("EndpointConfigName")), {})
        edge("sme", cfg.get("KmsKeyId"), "volumes")
        if lb is not None:
            lines.append("  alb --> sme")
    trail = next((t for t in inv.cloudtrail.trails if t.get("Name") == facts.get("trail_name")), None)
    if trail is not None:
        logging = (trail.get("Status") or {}).get("IsLogging")
        lines.append(f'  trail["trail {_label(trail.get("Name"))}<br/>{"logging" if logging else "NOT logging"}, '
                     f'validation {"on" if trail.get("LogFileValidationEnabled") else "OFF"}<br/>'
                     f'key {_label((resolve_key(inv, str(trail.get("KmsKeyId"))).aliases or (trail.get("KmsKeyId"),))[0])}"]')
        lines.append("  trail -.->|records every call| pkey")
    return "```mermaid\n" + "\n".join(lines) + "\n```\n"
