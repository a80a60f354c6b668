"""Learner-facing sentences about a whole report, and the report as text.

Why: a notebook cell should be able to say, in words, where the learner stands ("3 of 5 stores use your CMK; the
training volume of training job tj-1 uses an AWS-owned key") without the learner reading JSON. Everything here is
derived from the report dict alone, so the CLI, the notebooks and the graders tell the same story.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from .findings import UNUSABLE_STATES

TYPE_LABELS: dict[str, str] = {
    "AWS::S3::Bucket": "bucket",
    "AWS::S3::Object": "object",
    "AWS::SageMaker::TrainingJob": "training job",
    "AWS::SageMaker::ProcessingJob": "processing job",
    "AWS::SageMaker::Model": "model",
    "AWS::SageMaker::EndpointConfig": "endpoint config",
    "AWS::SageMaker::Endpoint": "endpoint",
    "AWS::SageMaker::NotebookInstance": "notebook instance",
    "AWS::ECR::Repository": "repository",
    "AWS::Logs::LogGroup": "log group",
    "AWS::CloudTrail::Trail": "trail",
    "AWS::EC2::EBSEncryptionByDefault": "EBS default encryption",
    "AWS::KMS::Key": "key",
    "AWS::ElasticLoadBalancingV2::LoadBalancer": "load balancer",
    "AWS::EC2::VPCEndpoint": "VPC endpoint",
}
STORE_LABELS: dict[str, str] = {
    "training_volume": "training volume",
    "model_output": "model output",
    "processing_volume": "processing volume",
    "outputs": "outputs",
    "ml_storage_volume": "ML storage volume",
    "data_capture": "data capture",
    "async_inference_output": "async inference output",
    "model_artifacts": "model artifacts",
    "images": "images",
    "log_events": "log events",
    "log_files": "log files",
    "new_volumes": "new volumes",
}
# counted elsewhere: keys are not stores, objects get their own sentence, an endpoint repeats its config's stores
_NOT_STORES = frozenset({"AWS::KMS::Key", "AWS::S3::Object", "AWS::SageMaker::Endpoint"})
_MAX_LISTED = 5


def _label(r: Mapping[str, Any]) -> str:
    kind = TYPE_LABELS.get(str(r.get("type")), str(r.get("type")))
    if r.get("type") == "AWS::EC2::EBSEncryptionByDefault":
        return f"EBS default encryption ({r.get('account')})"
    return f"{kind} {r.get('name') or r.get('arn')}"


def _stores(report: Mapping[str, Any]) -> list[tuple[str, Mapping[str, Any]]]:
    out: list[tuple[str, Mapping[str, Any]]] = []
    for r in report.get("resources") or []:
        if r.get("type") in _NOT_STORES:
            continue
        if "stores" in r:
            for s in r["stores"]:
                name = str(s.get("name"))
                base = STORE_LABELS.get(name.rstrip("_0123456789"), name.replace("_", " "))
                out.append((f"the {base} of {_label(r)}", s["at_rest"]))
        elif r.get("at_rest", {}).get("key_kind") is not None:
            out.append((_label(r), r["at_rest"]))
    return out


def _key_names(report: Mapping[str, Any]) -> dict[str, str]:
    return {str(r["arn"]): str(r.get("name") or r["arn"]) for r in report.get("resources") or []
            if r.get("type") == "AWS::KMS::Key"}


def _phrase(rec: Mapping[str, Any], names: Mapping[str, str], cmk: str | None) -> str:
    arn, kind, state = rec.get("key_arn"), rec.get("key_kind"), rec.get("key_state")
    name = names.get(str(arn), str(arn) if arn else "")
    if not rec.get("encrypted"):
        return "no encryption"
    if state == "NotFound":
        return f"a key that does not exist ({name or 'unnamed'})"
    if state in UNUSABLE_STATES:
        what = "pending deletion" if state == "PendingDeletion" else str(state).lower()
        return f"a key that is {what} ({name})"
    if kind == "aws_owned":
        return "an AWS-owned key"
    if kind == "aws_managed":
        return f"the AWS-managed key{f' ({name})' if name else ''}"
    if kind == "customer_managed":
        return f"another customer-managed key ({name})" if cmk else f"a customer-managed key ({name})"
    return "a key that could not be determined"


def _listing(items: list[str]) -> str:
    shown = items[:_MAX_LISTED]
    more = len(items) - len(shown)
    text = "; ".join(shown)
    return f"{text}; and {more} more" if more else text


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def _store_sentence(report: Mapping[str, Any], cmk: str | None) -> str:
    stores = _stores(report)
    names = _key_names(report)
    if not stores:
        return "No resources that keep data at rest were found."
    if cmk:
        good = [s for s in stores if s[1].get("key_arn") == cmk]
        target = f"your CMK ({names.get(cmk, cmk)})"
    else:
        good = [s for s in stores if s[1].get("key_kind") == "customer_managed"
                and s[1].get("key_state") not in UNUSABLE_STATES]
        target = "a customer-managed key"
    bad = [f"{label} uses {_phrase(rec, names, cmk)}" for label, rec in stores if (label, rec) not in good]
    verb = "uses" if len(good) == 1 or len(stores) == 1 else "use"
    if not bad:
        return f"All {len(stores)} stores use {target}." if len(stores) > 1 else f"The only store uses {target}."
    return f"{len(good)} of {_plural(len(stores), 'store')} {verb} {target}; {_listing(bad)}."


def _object_sentences(report: Mapping[str, Any]) -> list[str]:
    per_bucket: dict[str, list[Mapping[str, Any]]] = {}
    for r in report.get("resources") or []:
        if r.get("type") == "AWS::S3::Object":
            per_bucket.setdefault(str(r.get("bucket")), []).append(r)
    out = []
    for bucket, objs in per_bucket.items():
        stale = [str(o.get("key")) for o in objs if not o.get("matches_bucket_default")]
        if stale:
            out.append(f"Not encrypted with the default key of bucket {bucket}: {len(stale)} of "
                       f"{_plural(len(objs), 'object')} ({', '.join(stale[:_MAX_LISTED])}"
                       f"{', ...' if len(stale) > _MAX_LISTED else ''}); copy them onto themselves to re-encrypt.")
    return out


def _tls_sentence(report: Mapping[str, Any]) -> list[str]:
    buckets = [r for r in report.get("resources") or [] if r.get("type") == "AWS::S3::Bucket"]
    if not buckets:
        return []
    ok = [b for b in buckets if b["in_transit"].get("tls_enforced") is True]
    unknown = [b for b in buckets if b["in_transit"].get("tls_enforced") is None]
    bad = [b for b in buckets if b["in_transit"].get("tls_enforced") is False]
    text = f"Requests without TLS are refused by {len(ok)} of {_plural(len(buckets), 'bucket')}"
    details = []
    for b in bad:
        nd = b["in_transit"].get("not_denied") or []
        if nd:
            first = nd[0]
            details.append(f"bucket {b['name']} does not deny {first['action']} by {first['principal']} over "
                           "plain HTTP")
        else:
            details.append(f"bucket {b['name']} has no policy that denies them")
    details += [f"bucket {b['name']} could not be evaluated" for b in unknown]
    return [f"{text}; {_listing(details)}." if details else f"{text}."]


def _upload_sentence(report: Mapping[str, Any]) -> list[str]:
    weak = [r for r in report.get("resources") or [] if r.get("type") == "AWS::S3::Bucket"
            and (r.get("upload_encryption_policy") or {}).get("enforced") is False]
    if not weak:
        return []
    names = ", ".join(str(r["name"]) for r in weak[:_MAX_LISTED])
    return [f"Uploads that would not be encrypted with the bucket's key are not refused by the policy of: {names}."]


def _finding_sentences(report: Mapping[str, Any], codes: Iterable[str]) -> list[str]:
    wanted = set(codes)
    seen: set[str] = set()
    out = []
    for r in report.get("resources") or []:
        if r.get("type") == "AWS::S3::Object":
            continue
        for f in r.get("findings") or []:
            if f.get("code") in wanted and f.get("message") not in seen:
                seen.add(str(f.get("message")))
                out.append(str(f.get("message")))
    return out


def _key_sentences(report: Mapping[str, Any]) -> list[str]:
    out = []
    for r in report.get("resources") or []:
        if r.get("type") != "AWS::KMS::Key":
            continue
        state = r["at_rest"].get("key_state")
        if state in UNUSABLE_STATES:
            users = r.get("used_by") or []
            objects = int(r.get("objects_using") or 0)
            what = "pending deletion" if state == "PendingDeletion" else str(state).lower()
            parts = [_plural(len(users), "store")] if users else []
            parts += [_plural(objects, "object")] if objects else []
            verb = "depends" if len(users) + objects == 1 else "depend"
            tail = (f": {' and '.join(parts)} still {verb} on it, and their data cannot be read" if parts else "")
            out.append(f"Key {r.get('name')} is {what}{tail}.")
    return out


def _canonical_key(report: Mapping[str, Any], ref: str | None) -> str | None:
    """The ARN of the key resource `ref` names (ARN, key id or alias of a key in the report); else `ref` as is."""
    if not ref:
        return None
    for r in report.get("resources") or []:
        if r.get("type") != "AWS::KMS::Key":
            continue
        key = r.get("key") or {}
        if ref in (r.get("arn"), key.get("key_id")) or ref in (key.get("aliases") or []):
            return str(r["arn"])
    return ref


def summary(report: Mapping[str, Any], customer_key_arn: str | None = None) -> list[str]:
    """Learner-facing sentences about the whole report, most important first.

    `customer_key_arn`: the CMK the lab asks for (its ARN, id or alias); stores are then counted against that key,
    else against any usable customer-managed key."""
    customer_key_arn = _canonical_key(report, customer_key_arn)
    lines = [_store_sentence(report, customer_key_arn)]
    lines += _key_sentences(report)
    lines += _object_sentences(report)
    lines += _tls_sentence(report)
    lines += _upload_sentence(report)
    lines += _finding_sentences(report, (
        "key_no_separation_of_duties", "key_external_use", "key_external_admin", "key_open_in_account",
        "key_grant_external", "inter_container_traffic_unencrypted", "trail_log_file_validation_off",
        "ebs_default_encryption_off", "listener_plain_text", "listener_weak_tls", "listener_certificate_expired",
        "listener_certificate_not_issued", "listener_certificate_not_found", "listener_ssl_policy_unknown",
        "endpoint_private_dns_off", "key_rotation_disabled"))
    errors = _finding_sentences(report, ("evaluation_error",))
    errors += [f"Account {e['account']}: the {e['section']} section could not be read ({e['message']})."
               for e in report.get("errors") or []]
    lines += [f"Could not evaluate: {e}" for e in errors]
    return lines


def _at_rest_text(rec: Mapping[str, Any]) -> str:
    if rec.get("encrypted") is None and rec.get("key_kind") is None:
        return "n/a"
    if not rec.get("encrypted"):
        return "NOT encrypted"
    key = rec.get("key_arn") or ""
    state = f", {rec.get('key_state')}" if rec.get("key_state") else ""
    return f"{rec.get('key_kind') or 'unknown key'}{f' {key}' if key else ''}{state}"


def render_text(report: Mapping[str, Any], customer_key_arn: str | None = None) -> str:
    """The report for a terminal: one block per resource, its findings, then the summary."""
    lines: list[str] = []
    by_account: dict[str, list[Mapping[str, Any]]] = {}
    for r in report.get("resources") or []:
        by_account.setdefault(str(r.get("account")), []).append(r)
    for acct in report.get("accounts") or by_account:
        lines.append(f"Account {acct}")
        for r in by_account.get(str(acct), []):
            tls = r.get("in_transit", {}).get("tls_enforced")
            tls_text = {True: "TLS enforced", False: "TLS NOT enforced", None: "TLS n/a"}[tls]
            lines.append(f"  {r['type']}  {r.get('name') or r['arn']}")
            lines.append(f"    at rest: {_at_rest_text(r['at_rest'])} | in transit: {tls_text}")
            for s in r.get("stores") or []:
                if len(r["stores"]) > 1:
                    lines.append(f"      {s['name']}: {_at_rest_text(s['at_rest'])}")
            for f in r.get("findings") or []:
                if f.get("severity") != "info":
                    lines.append(f"    ! [{f['severity']}] {f['message']}")
        lines.append("")
    lines.append("Summary:")
    lines += [f"  - {s}" for s in summary(report, customer_key_arn)]
    return "\n".join(lines) + "\n"
