"""Audit: every call as a CloudTrail event, CloudTrail LookupEvents over them, and log-file delivery to trails.

Why our own: moto's CloudTrail stores trail configuration only (no LookupEvents, nothing delivered; moto-feasibility
§1.5). The gateway sees every call with its authenticated identity, so it writes the event CloudTrail would have
written, keeps it per account in memory and appends it to audit.jsonl in the state dir (so history survives
restarts), answers `cloudtrail:LookupEvents` for the caller's own account from it, and periodically delivers
gzipped log files to the S3 bucket of every trail that is logging.

Fidelity choices: LookupEvents returns management events only, newest first, at most 50 per page, one lookup
attribute at a time (as AWS does); S3 object-level calls and endpoint invocations are data events (delivered only to
trails whose event selectors ask for them); seclab's own admin calls are recorded in the file but never shown to
learners.
"""

from __future__ import annotations

import base64
import datetime as dt
import gzip
import hashlib
import json
import re
import secrets
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from seclab.sim import state

HIDDEN = "HIDDEN_DUE_TO_SECURITY_REASONS"
_SECRET_KEY = re.compile(r"secret|password|passwd|token|plaintext|private_?key|passphrase|credential|sessionkey",
                         re.IGNORECASE)
_NOT_SECRET = {"nexttoken", "clienttoken", "paginationtoken", "continuationtoken", "idempotencytoken",
               "clientrequesttoken", "maxresults"}
LOOKUP_KEYS = {"EventId", "EventName", "ReadOnly", "Username", "ResourceType", "ResourceName", "EventSource",
               "AccessKeyId"}
_RESOURCE_PARAMS = {
    "bucketName": "AWS::S3::Bucket",
    "roleName": "AWS::IAM::Role",
    "userName": "AWS::IAM::User",
    "groupName": "AWS::IAM::Group",
    "policyArn": "AWS::IAM::Policy",
    "keyId": "AWS::KMS::Key",
    "modelName": "AWS::SageMaker::Model",
    "endpointName": "AWS::SageMaker::Endpoint",
    "endpointConfigName": "AWS::SageMaker::EndpointConfig",
    "trainingJobName": "AWS::SageMaker::TrainingJob",
    "notebookInstanceName": "AWS::SageMaker::NotebookInstance",
    "vpcId": "AWS::EC2::VPC",
    "subnetId": "AWS::EC2::Subnet",
    "groupId": "AWS::EC2::SecurityGroup",
    "vpcEndpointId": "AWS::EC2::VPCEndpoint",
    "repositoryName": "AWS::ECR::Repository",
    "logGroupName": "AWS::Logs::LogGroup",
    "functionName": "AWS::Lambda::Function",
    "stackName": "AWS::CloudFormation::Stack",
    "secretId": "AWS::SecretsManager::Secret",
    "topicArn": "AWS::SNS::Topic",
    "queueUrl": "AWS::SQS::Queue",
}


def _lower_first(name: str) -> str:
    return name[:1].lower() + name[1:] if name else name


def redact(value: Any, depth: int = 0) -> Any:
    """Copy of `value` with every secret-looking field replaced (CloudTrail's HIDDEN_DUE_TO_SECURITY_REASONS)."""
    if depth > 20:
        return None
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for key, item in value.items():
            skey = str(key)
            flat = skey.lower().replace("_", "").replace("-", "")
            if _SECRET_KEY.search(flat) and flat not in _NOT_SECRET:
                out[skey] = HIDDEN
            else:
                out[skey] = redact(item, depth + 1)
        return out
    if isinstance(value, list):
        return [redact(v, depth + 1) for v in value[:200]]
    if isinstance(value, str) and len(value) > 4096:
        return value[:4096] + "...(truncated)"
    return value


def camel_params(value: Any, depth: int = 0) -> Any:
    """CloudTrail spells request parameter names in lower camel case."""
    if depth > 20:
        return None
    if isinstance(value, dict):
        return {_lower_first(str(k)): camel_params(v, depth + 1) for k, v in value.items()}
    if isinstance(value, list):
        return [camel_params(v, depth + 1) for v in value]
    return value


def resources_of(params: dict[str, Any] | None, account: str) -> list[dict[str, str]]:
    """The Resources list of a LookupEvents event: the named resources among the request parameters."""
    found: list[dict[str, str]] = []
    if not params:
        return found
    for key, rtype in _RESOURCE_PARAMS.items():
        value = params.get(key)
        if isinstance(value, str) and value:
            found.append({"ResourceType": rtype, "ResourceName": value})
    if isinstance(params.get("key"), str) and isinstance(params.get("bucketName"), str):
        found.append({"ResourceType": "AWS::S3::Object",
                      "ResourceName": f"arn:aws:s3:::{params['bucketName']}/{params['key']}"})
    return found


@dataclass
class Stored:
    account: str
    event: dict[str, Any]
    management: bool
    admin: bool
    resources: list[dict[str, str]]


def iso(ts: float) -> str:
    return dt.datetime.fromtimestamp(ts, dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


class AuditLog:
    """Events per account in memory, mirrored to audit.jsonl (append, flushed per event)."""

    def __init__(self) -> None:
        self.path = state.audit_file()
        self._lock = threading.Lock()
        self.by_account: dict[str, list[Stored]] = {}
        self._handle: Any = None
        self._load()

    def _load(self) -> None:
        try:
            handle = open(self.path, encoding="utf-8")  # noqa: SIM115
        except FileNotFoundError:
            return
        with handle:
            for line in handle:
                try:
                    rec = json.loads(line)
                    stored = Stored(str(rec["account"]), rec["event"], bool(rec.get("mgmt", True)),
                                    bool(rec.get("admin")), list(rec.get("resources") or []))
                except (ValueError, KeyError, TypeError):
                    continue
                self.by_account.setdefault(stored.account, []).append(stored)

    def record(self, account: str, event: dict[str, Any], management: bool, admin: bool,
               resources: list[dict[str, str]]) -> None:
        stored = Stored(account, event, management, admin, resources)
        line = json.dumps({"account": account, "mgmt": management, "admin": admin, "resources": resources,
                           "event": event}, separators=(",", ":"), default=str)
        with self._lock:
            self.by_account.setdefault(account, []).append(stored)
            if self._handle is None:
                self._handle = state.open_append_private(self.path)
            self._handle.write(line + "\n")
            self._handle.flush()

    def count(self, account: str) -> int:
        with self._lock:
            return len(self.by_account.get(account, ()))

    def slice(self, account: str, start: int) -> list[Stored]:
        with self._lock:
            return list(self.by_account.get(account, ())[start:])

    # ---------------------------------------------------------------- LookupEvents

    def lookup(self, account: str, params: dict[str, Any], region: str | None = None) -> dict[str, Any]:
        """The LookupEvents answer for `account` in `region` (CloudTrail's event history is regional; calls to
        global services are filed under us-east-1). ValueError with an AWS error code prefix on bad input."""
        attrs = params.get("LookupAttributes") or []
        if not isinstance(attrs, list) or len(attrs) > 1:
            raise ValueError("InvalidLookupAttributesException:You can specify only one lookup attribute.")
        attr_key = attr_value = None
        if attrs:
            attr = attrs[0] if isinstance(attrs[0], dict) else {}
            attr_key, attr_value = attr.get("AttributeKey"), attr.get("AttributeValue")
            if attr_key not in LOOKUP_KEYS or not isinstance(attr_value, str):
                raise ValueError(f"InvalidLookupAttributesException:Unsupported lookup attribute {attr_key!r}.")
        start = _epoch(params.get("StartTime"))
        end = _epoch(params.get("EndTime"))
        if start is not None and end is not None and start > end:
            raise ValueError("InvalidTimeRangeException:StartTime must be before EndTime.")
        max_results = params.get("MaxResults", 50)
        if not isinstance(max_results, int) or not 1 <= max_results <= 50:
            raise ValueError("InvalidMaxResultsException:MaxResults must be between 1 and 50.")
        fingerprint = hashlib.sha256(json.dumps([attr_key, attr_value, start, end], default=str).encode()).hexdigest()[:12]
        offset = 0
        token = params.get("NextToken")
        if token:
            try:
                data = json.loads(base64.urlsafe_b64decode(str(token).encode()).decode())
                offset = int(data["o"])
                if data["f"] != fingerprint:
                    raise ValueError
            except (ValueError, KeyError, TypeError):
                raise ValueError("InvalidNextTokenException:The NextToken is invalid.") from None
        with self._lock:
            events = list(self.by_account.get(account, ()))
        matched: list[Stored] = []
        for stored in reversed(events):
            if stored.admin or not stored.management:
                continue
            if region is not None and stored.event.get("awsRegion") != region:
                continue
            when = stored.event.get("_ts", 0.0)
            if start is not None and when < start:
                continue
            if end is not None and when > end:
                continue
            if attr_key and not _matches(stored, attr_key, attr_value or ""):
                continue
            matched.append(stored)
        page = matched[offset : offset + max_results]
        result: dict[str, Any] = {"Events": [_lookup_record(s) for s in page]}
        if offset + max_results < len(matched):
            result["NextToken"] = base64.urlsafe_b64encode(
                json.dumps({"o": offset + max_results, "f": fingerprint}).encode()).decode()
        return result


def _epoch(value: Any) -> float | None:
    if value is None:
        return None
    if isinstance(value, (int, float)):
        return float(value)
    try:
        return dt.datetime.fromisoformat(str(value).replace("Z", "+00:00")).timestamp()
    except ValueError:
        raise ValueError("InvalidTimeRangeException:StartTime/EndTime must be timestamps.") from None


def _matches(stored: Stored, key: str, value: str) -> bool:
    ev = stored.event
    if key == "EventId":
        return ev.get("eventID") == value
    if key == "EventName":
        return ev.get("eventName") == value
    if key == "EventSource":
        return ev.get("eventSource") == value
    if key == "ReadOnly":
        return str(ev.get("readOnly")).lower() == value.lower()
    if key == "AccessKeyId":
        return (ev.get("userIdentity") or {}).get("accessKeyId") == value
    if key == "Username":
        return _username(ev) == value
    if key == "ResourceName":
        return any(r.get("ResourceName") == value for r in stored.resources)
    if key == "ResourceType":
        return any(r.get("ResourceType") == value for r in stored.resources)
    return False


def _username(event: dict[str, Any]) -> str | None:
    ident = event.get("userIdentity") or {}
    if ident.get("userName"):
        return str(ident["userName"])
    arn = str(ident.get("arn") or "")
    return arn.rsplit("/", 1)[-1] if "/" in arn else None


def public_event(event: dict[str, Any]) -> dict[str, Any]:
    """The event as CloudTrail shows it (our private bookkeeping keys dropped)."""
    return {k: v for k, v in event.items() if not k.startswith("_")}


def _lookup_record(stored: Stored) -> dict[str, Any]:
    ev = stored.event
    record: dict[str, Any] = {
        "EventId": ev.get("eventID"),
        "EventName": ev.get("eventName"),
        "ReadOnly": "true" if ev.get("readOnly") else "false",
        "AccessKeyId": (ev.get("userIdentity") or {}).get("accessKeyId"),
        "EventTime": ev.get("_ts"),
        "EventSource": ev.get("eventSource"),
        "Resources": stored.resources,
        "CloudTrailEvent": json.dumps(public_event(ev), default=str),
    }
    username = _username(ev)
    if username:
        record["Username"] = username
    return record


def build_event(
    *,
    identity: dict[str, Any],
    account: str,
    event_source: str,
    event_name: str,
    region: str,
    source_ip: str,
    user_agent: str,
    request_parameters: dict[str, Any] | None,
    read_only: bool,
    data_event: bool,
    error_code: str | None,
    error_message: str | None,
    request_id: str,
) -> dict[str, Any]:
    now = time.time()
    event: dict[str, Any] = {
        "eventVersion": "1.09",
        "userIdentity": identity,
        "eventTime": iso(now),
        "eventSource": event_source,
        "eventName": event_name,
        "awsRegion": region,
        "sourceIPAddress": source_ip,
        "userAgent": user_agent[:1000],
        "requestParameters": redact(request_parameters) if request_parameters else None,
        "responseElements": None,
        "requestID": request_id,
        "eventID": str(uuid.uuid4()),
        "readOnly": read_only,
        "eventType": "AwsApiCall",
        "managementEvent": not data_event,
        "recipientAccountId": account,
        "eventCategory": "Data" if data_event else "Management",
        "_ts": now,
    }
    if error_code:
        event["errorCode"] = error_code
        event["errorMessage"] = (error_message or "")[:1000]
    return event


# ---------------------------------------------------------------- delivery to trails


def log_key(prefix: str | None, account: str, region: str, when: float) -> str:
    """AWSLogs/<acct>/CloudTrail/<region>/YYYY/MM/DD/<acct>_CloudTrail_<region>_<YYYYMMDDTHHMMZ>_<rand>.json.gz"""
    stamp = dt.datetime.fromtimestamp(when, dt.timezone.utc)
    name = (f"{account}_CloudTrail_{region}_{stamp.strftime('%Y%m%dT%H%MZ')}_"
            f"{secrets.token_urlsafe(12).replace('-', 'A').replace('_', 'B')[:16]}.json.gz")
    base = f"AWSLogs/{account}/CloudTrail/{region}/{stamp.strftime('%Y/%m/%d')}/{name}"
    return f"{prefix.strip('/')}/{base}" if prefix and prefix.strip("/") else base


def log_file_body(events: list[dict[str, Any]]) -> bytes:
    return gzip.compress(json.dumps({"Records": [public_event(e) for e in events]}, default=str).encode(), 6)


def trail_wants(trail: Any, stored: Stored) -> bool:
    """Does a trail with these event selectors record this event? (simplified selector semantics)"""
    selectors = list(getattr(trail, "event_selectors", None) or [])
    if not selectors:
        return stored.management
    read_only = bool(stored.event.get("readOnly"))
    for sel in selectors:
        rw = str(sel.get("ReadWriteType") or "All")
        if rw == "ReadOnly" and not read_only or rw == "WriteOnly" and read_only:
            continue
        if stored.management:
            if sel.get("IncludeManagementEvents", True) in (True, "true", "True"):
                return True
            continue
        for res in sel.get("DataResources") or []:
            rtype = str(res.get("Type") or "")
            source = str(stored.event.get("eventSource"))
            if rtype == "AWS::S3::Object" and source == "s3.amazonaws.com":
                return True
            if rtype.startswith("AWS::SageMaker") and source == "sagemaker.amazonaws.com":
                return True
            if rtype == "AWS::Lambda::Function" and source == "lambda.amazonaws.com":
                return True
    return False


class TrailDelivery:
    """Finds logging trails in moto's CloudTrail backend and delivers new events to their buckets.

    `run_locked(fn)` runs fn under the simulator's moto lock with moto's random saved and restored; `journal`
    records each delivery so a restore puts the log files back in place.
    """

    def __init__(self, audit: AuditLog, run_locked: Callable[[Callable[[], None]], None],
                 journal_append: Callable[[dict[str, Any]], None], same_owner: Callable[[str, str], bool]) -> None:
        self.audit = audit
        self.run_locked = run_locked
        self.journal_append = journal_append
        self.same_owner = same_owner
        self.delivered: dict[str, int] = {}  # "<acct>|<region>|<trail>|<event acct>" -> events delivered

    def apply_journal(self, entry: dict[str, Any]) -> None:
        """Replay a journaled delivery: write the same file and remember how far that trail got."""
        key = str(entry.get("cursor") or "")
        body = base64.b64decode(entry.get("data") or "")
        self._put(str(entry.get("bucket")), str(entry.get("key")), body)
        self.delivered[key] = max(self.delivered.get(key, 0), int(entry.get("upto") or 0))

    def _put(self, bucket: str, key: str, body: bytes) -> bool:
        from moto.s3.models import s3_backends

        owner = s3_backends.bucket_accounts.get(bucket)
        if not owner:
            return False
        partition, account = owner
        backend = s3_backends[account][partition]
        if bucket not in backend.buckets:
            return False
        backend.put_object(bucket, key, body)
        return True

    def flush(self) -> int:
        """Deliver what is new; returns the number of files written."""
        written = [0]

        def work() -> None:
            from moto.cloudtrail.models import cloudtrail_backends

            for account, per_region in list(cloudtrail_backends.items()):
                for region, backend in list(per_region.items()):
                    for trail in list(getattr(backend, "trails", {}).values()):
                        if not getattr(getattr(trail, "status", None), "is_logging", False):
                            self._skip(account, region, trail)
                            continue
                        written[0] += self._deliver(account, region, trail)

        self.run_locked(work)
        return written[0]

    def _sources(self, account: str, trail: Any) -> list[str]:
        sources = [account]
        if getattr(trail, "is_org_trail", False):
            sources += [a for a in list(self.audit.by_account) if a != account and self.same_owner(account, a)]
        return sources

    def _skip(self, account: str, region: str, trail: Any) -> None:
        """A trail that is not logging: what happens meanwhile is never delivered to it."""
        for source in self._sources(account, trail):
            cursor = f"{account}|{region}|{trail.trail_name}|{source}"
            if cursor in self.delivered:
                self.delivered[cursor] = self.audit.count(source)

    def _deliver(self, account: str, region: str, trail: Any) -> int:
        files = 0
        started = getattr(trail.status, "started", None)
        since = (started.replace(tzinfo=dt.timezone.utc).timestamp() if isinstance(started, dt.datetime)
                 and started.tzinfo is None else started.timestamp() if isinstance(started, dt.datetime) else 0.0)
        for source in self._sources(account, trail):
            cursor = f"{account}|{region}|{trail.trail_name}|{source}"
            start = self.delivered.get(cursor)
            total = self.audit.count(source)
            first = start is None
            start = start or 0
            if start >= total:
                continue
            # A trail's first delivery holds only what happened since it started logging.
            chunk = [s for s in self.audit.slice(source, start)[: total - start]
                     if not first or float(s.event.get("_ts") or 0) >= since]
            by_region: dict[str, list[dict[str, Any]]] = {}
            for stored in chunk:
                ev_region = str(stored.event.get("awsRegion") or region)
                if stored.admin or not (trail.is_multi_region or ev_region == region):
                    continue
                if not trail_wants(trail, stored):
                    continue
                by_region.setdefault(ev_region, []).append(stored.event)
            for ev_region, events in by_region.items():
                body = log_file_body(events)
                key = log_key(getattr(trail, "s3_key_prefix", None), source, ev_region, time.time())
                if self._put(trail.bucket_name, key, body):
                    files += 1
                    self.journal_append({"kind": "trail", "cursor": cursor, "upto": total, "bucket": trail.bucket_name,
                                         "key": key, "data": base64.b64encode(body).decode("ascii")})
            self.delivered[cursor] = total
            status = getattr(trail, "status", None)
            if status is not None and files:
                status.latest_delivery_time = int(time.time())
        return files
