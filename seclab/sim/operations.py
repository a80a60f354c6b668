"""Name every request: which service (boto3 client name) and which API operation it calls.

Why botocore's own service models: they are the contract the clients were generated from, so the names match
what a learner typed (`s3.put_bucket_policy` -> s3 PutBucketPolicy) and what CloudTrail would record. The
signing name in the SigV4 credential scope narrows the candidates; then
- query/ec2 protocol: the Action parameter;
- json protocol: the X-Amz-Target header ("Prefix.Operation");
- rest-json/rest-xml: method + requestUri template (labels, greedy labels and query literals such as
  "?list-type=2" or "?x-id=PutObject"); the most specific template wins.
Models are loaded lazily per signing name and cached (the first request to a service pays ~10-100 ms).
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

# Signing names shared by several botocore services (the rest: the service named like its signing name).
SIGNING_ALIASES: dict[str, tuple[str, ...]] = {
    "s3": ("s3", "s3control"),
    "sagemaker": (
        "sagemaker",
        "sagemaker-runtime",
        "sagemaker-featurestore-runtime",
        "sagemaker-metrics",
        "sagemaker-a2i-runtime",
        "sagemaker-edge",
        "sagemaker-geospatial",
    ),
    "monitoring": ("cloudwatch",),
    "email": ("ses", "sesv2"),
    "es": ("es", "opensearch"),
    "states": ("stepfunctions",),
    "elasticloadbalancing": ("elb", "elbv2"),
    "elasticmapreduce": ("emr",),
    "tagging": ("resourcegroupstaggingapi",),
    "sso": ("sso-admin",),
    "access-analyzer": ("accessanalyzer",),
    "dynamodb": ("dynamodb", "dynamodbstreams"),
    "execute-api": ("apigatewaymanagementapi",),
    "apigateway": ("apigateway", "apigatewayv2"),
    "bedrock": ("bedrock", "bedrock-runtime", "bedrock-agent", "bedrock-agent-runtime"),
    "iam": ("iam",),
    "cognito-idp": ("cognito-idp",),
    "ecr": ("ecr",),
    "servicecatalog": ("servicecatalog", "servicecatalog-appregistry"),
}

READ_PREFIXES = (
    "Describe",
    "Get",
    "List",
    "Head",
    "Lookup",
    "Search",
    "Select",
    "Scan",
    "Query",
    "BatchGet",
    "Check",
    "Simulate",
    "Validate",
    "Estimate",
    "Preview",
    "View",
    "Verify",
)
# Calls CloudTrail records as read-only although their names do not say so (KMS cryptographic operations).
READ_EXTRA = {
    "kms": {"Encrypt", "Decrypt", "ReEncrypt", "GenerateDataKey", "GenerateDataKeyWithoutPlaintext",
            "GenerateDataKeyPair", "GenerateDataKeyPairWithoutPlaintext", "GenerateRandom", "Sign", "GenerateMac"},
}
# "Get" calls that create something (credentials) and so must be journaled and treated as writes.
WRITE_EXTRA = {"sts": {"GetSessionToken", "GetFederationToken"}, "sso-admin": set()}
# Operations CloudTrail files as data events (not returned by LookupEvents; delivered only with data selectors).
DATA_EVENT_SERVICES = {"sagemaker-runtime", "dynamodb", "lambda:Invoke", "bedrock-runtime"}


@dataclass(frozen=True)
class Operation:
    service: str  # botocore/boto3 service name, e.g. "s3", "sagemaker-runtime"
    signing_name: str  # the SigV4 scope's service, e.g. "s3", "sagemaker"
    name: str  # the API operation, e.g. "PutBucketPolicy"; "Unknown" when nothing matched
    protocol: str  # query | ec2 | json | rest-json | rest-xml | smithy-rpc-v2-cbor
    read_only: bool
    data_event: bool = False
    labels: dict[str, str] = field(default_factory=dict)  # rest URI labels, e.g. {"Bucket": ..., "Key": ...}
    api_version: str = ""
    json_version: str = "1.1"

    @property
    def event_source(self) -> str:
        return f"{self.signing_name}.amazonaws.com"


@dataclass
class _Route:
    method: str
    regex: re.Pattern[str]
    labels: tuple[str, ...]
    query: tuple[tuple[str, str | None], ...]
    headers: tuple[str, ...]  # required header members (e.g. CopyObject's x-amz-copy-source)
    score: tuple[int, int, int, int]
    name: str


@dataclass
class _Model:
    service: str
    signing_name: str
    protocol: str
    protocols: tuple[str, ...]
    target_prefix: str | None
    operations: frozenset[str]
    api_version: str
    json_version: str
    routes: list[_Route]
    by_method: dict[str, list[_Route]] = field(default_factory=dict)
    # method -> first query-literal key -> routes; routes without query literals under "" (the fast path)
    by_query: dict[str, dict[str, list[_Route]]] = field(default_factory=dict)


_lock = threading.Lock()
_models: dict[str, list[_Model]] = {}
_available: set[str] | None = None
_loader: Any = None


def _get_loader() -> Any:
    global _loader, _available
    if _loader is None:
        from botocore.loaders import create_loader

        _loader = create_loader()
        _available = set(_loader.list_available_services("service-2"))
    return _loader


def _required_locations(op: dict[str, Any], shapes: dict[str, Any]) -> tuple[list[str], list[str]]:
    """Required input members bound to a header or a query key (they tell apart ops sharing one URI)."""
    shape = shapes.get(str((op.get("input") or {}).get("shape", "")), {})
    headers: list[str] = []
    queries: list[str] = []
    members = shape.get("members", {})
    for member in shape.get("required", []):
        spec = members.get(member, {})
        where = spec.get("location")
        if where == "header":
            headers.append(str(spec.get("locationName", member)).lower())
        elif where == "querystring":
            queries.append(str(spec.get("locationName", member)))
    return headers, queries


def _compile_route(name: str, op: dict[str, Any], shapes: dict[str, Any]) -> _Route:
    http = op.get("http", {})
    uri = str(http.get("requestUri") or "/")
    path, _, query = uri.partition("?")
    pattern = ["^"]
    labels: list[str] = []
    literal = 0
    pos = 0
    for match in re.finditer(r"\{([^}]+)\}", path):
        chunk = path[pos : match.start()]
        pattern.append(re.escape(chunk))
        literal += len(chunk)
        label = match.group(1)
        group = f"g{len(labels)}"
        if label.endswith("+"):
            labels.append(label[:-1])
            pattern.append(f"(?P<{group}>.+)")
        else:
            labels.append(label)
            pattern.append(f"(?P<{group}>[^/]+)")
        pos = match.end()
    tail = path[pos:]
    pattern.append(re.escape(tail))
    literal += len(tail)
    if not path.endswith("/"):
        pattern.append("/?")
    pattern.append("$")
    query_literals: list[tuple[str, str | None]] = []
    for part in query.split("&"):
        if not part:
            continue
        key, eq, value = part.partition("=")
        query_literals.append((key, value if eq else None))
    req_headers, req_queries = _required_locations(op, shapes)
    for key in req_queries:
        if all(key != k for k, _ in query_literals):
            query_literals.append((key, None))
    score = (len(query_literals), len(req_headers), literal, -path.count("+}"))
    return _Route(str(http.get("method") or "GET").upper(), re.compile("".join(pattern)), tuple(labels),
                  tuple(query_literals), tuple(req_headers), score, name)


def _load_model(service: str) -> _Model | None:
    loader = _get_loader()
    try:
        data = loader.load_service_model(service, "service-2")
    except Exception:  # noqa: BLE001 - an absent or unreadable model just means "cannot name it"
        return None
    meta = data.get("metadata", {})
    signing = str(meta.get("signingName") or meta.get("endpointPrefix") or service)
    protocols = tuple(meta.get("protocols") or [meta.get("protocol", "json")])
    ops = data.get("operations", {})
    routes = []
    if any(p in ("rest-json", "rest-xml") for p in protocols):
        shapes = data.get("shapes", {})
        routes = [_compile_route(name, op, shapes) for name, op in ops.items()]
    by_method: dict[str, list[_Route]] = {}
    for route in routes:
        by_method.setdefault(route.method, []).append(route)
    by_query: dict[str, dict[str, list[_Route]]] = {}
    for method, method_routes in by_method.items():
        method_routes.sort(key=lambda r: r.score, reverse=True)  # stable: the first match is the most specific
        index = by_query.setdefault(method, {})
        for route in method_routes:
            index.setdefault(route.query[0][0] if route.query else "", []).append(route)
    return _Model(
        by_method=by_method,
        by_query=by_query,
        service=service,
        signing_name=signing,
        protocol=str(meta.get("protocol") or protocols[0]),
        protocols=protocols,
        target_prefix=meta.get("targetPrefix"),
        operations=frozenset(ops),
        api_version=str(meta.get("apiVersion") or ""),
        json_version=str(meta.get("jsonVersion") or "1.1"),
        routes=routes,
    )


def models_for(signing_name: str) -> list[_Model]:
    """The botocore models whose requests are signed with `signing_name` (cached)."""
    cached = _models.get(signing_name)
    if cached is not None:
        return cached
    with _lock:
        cached = _models.get(signing_name)
        if cached is not None:
            return cached
        _get_loader()
        assert _available is not None
        names = list(SIGNING_ALIASES.get(signing_name, ()))
        if signing_name in _available and signing_name not in names:
            names.append(signing_name)
        found = []
        for name in names:
            if name not in _available:
                continue
            model = _load_model(name)
            if model is not None and model.signing_name == signing_name:
                found.append(model)
        _models[signing_name] = found
        return found


def is_read_only(service: str, name: str) -> bool:
    if name in WRITE_EXTRA.get(service, ()):
        return False
    if name in READ_EXTRA.get(service, ()):
        return True
    return name.startswith(READ_PREFIXES)


def _is_data_event(service: str, name: str) -> bool:
    if service == "s3":
        return "Object" in name or "MultipartUpload" in name or name in ("UploadPart", "UploadPartCopy", "ListParts")
    return service in DATA_EVENT_SERVICES or f"{service}:{name}" in DATA_EVENT_SERVICES


def _make(model: _Model | None, signing: str, name: str, labels: dict[str, str] | None = None,
          protocol: str | None = None) -> Operation:
    service = model.service if model else signing
    return Operation(
        service=service,
        signing_name=signing,
        name=name,
        protocol=protocol or (model.protocol if model else "json"),
        read_only=is_read_only(service, name),
        data_event=_is_data_event(service, name),
        labels=labels or {},
        api_version=model.api_version if model else "",
        json_version=model.json_version if model else "1.1",
    )


def resolve(
    signing_name: str,
    method: str,
    raw_path: str,
    query: dict[str, list[str]],
    target: str | None,
    form_action: str | None,
    header_names: frozenset[str] = frozenset(),
) -> Operation:
    """The operation a request calls. `query` is the parsed query string; `form_action` the Action of a
    form-encoded body (query protocol); `header_names` the request's header names, lower case."""
    models = models_for(signing_name)
    if target:
        prefix, _, op = target.rpartition(".")
        for model in models:
            if model.target_prefix and model.target_prefix == prefix and op in model.operations:
                return _make(model, signing_name, op, protocol="json")
        for model in models:
            if op in model.operations:
                return _make(model, signing_name, op, protocol="json")
        return _make(models[0] if models else None, signing_name, op or "Unknown", protocol="json")
    action = form_action or (query.get("Action") or [None])[0]
    if action:
        for model in models:
            if action in model.operations:
                proto = model.protocol if model.protocol in ("query", "ec2") else "query"
                return _make(model, signing_name, action, protocol=proto)
        return _make(models[0] if models else None, signing_name, action, protocol="query")
    cbor = re.match(r"^/service/[^/]+/operation/([^/?]+)$", raw_path)
    if cbor:
        for model in models:
            if cbor.group(1) in model.operations:
                return _make(model, signing_name, cbor.group(1), protocol="smithy-rpc-v2-cbor")
    best: tuple[tuple[int, int, int, int], _Model, _Route, re.Match[str]] | None = None
    upper = method.upper()
    for model in models:
        index = model.by_query.get(upper)
        if not index:
            continue
        candidates = list(index.get("", ()))
        for key in query:
            candidates.extend(index.get(key, ()))
        if len(candidates) > 1:
            candidates.sort(key=lambda r: r.score, reverse=True)
        for route in candidates:
            if best is not None and route.score <= best[0]:
                break
            if route.query and any(key not in query or (value is not None and value not in query[key])
                                   for key, value in route.query):
                continue
            if route.headers and not all(h in header_names for h in route.headers):
                continue
            matched = route.regex.match(raw_path)
            if matched is None:
                continue
            best = (route.score, model, route, matched)
            break
    if best is not None:
        _, model, route, matched = best
        labels = {label: unquote(matched.group(f"g{i}")) for i, label in enumerate(route.labels)}
        return _make(model, signing_name, route.name, labels)
    model = models[0] if models else None
    return _make(model, signing_name, "Unknown")


def protocol_for(signing_name: str) -> str:
    models = models_for(signing_name)
    return models[0].protocol if models else "json"
