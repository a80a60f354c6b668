"""Verify AWS Signature Version 4 on the server side, the way botocore computes it on the client side.

Why our own verifier: moto never checks signatures (any key is accepted, and the account comes from a header any
client can set). The gateway authenticates every request by recomputing the signature with the secret of the
access key named in the credential scope.

The canonical request is rebuilt from the request as it arrived on the wire (RAW_URI), mirroring
botocore/auth.py: non-S3 services sign the URI-encoded form of the already-encoded path ("double encoding"), S3
signs the path exactly as sent; the query string is split on '&' and sorted as sent; the payload hash is the
X-Amz-Content-SHA256 header when present, else the sha256 of the body (presigned S3 URLs: UNSIGNED-PAYLOAD).
A second, re-encoded canonical form is tried on mismatch so that SDKs which encode the query differently still
verify.
"""

from __future__ import annotations

import calendar
import hashlib
import hmac
import time
from dataclasses import dataclass
from email.utils import parsedate_tz, mktime_tz
from urllib.parse import quote, unquote, unquote_plus

from botocore.utils import normalize_url_path

ALGORITHM = "AWS4-HMAC-SHA256"
EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()
UNSIGNED_PAYLOAD = "UNSIGNED-PAYLOAD"
_SIGNING_KEYS: dict[tuple[str, str, str, str], bytes] = {}
_MAX_CACHED_KEYS = 4096


class SignatureError(Exception):
    """Why a request's signature could not be accepted; `code` is the AWS error code to answer with."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class Credential:
    """The parsed credential scope plus the signature parts of one request."""

    access_key: str
    date: str
    region: str
    service: str
    signed_headers: tuple[str, ...]
    signature: str
    amz_date: str
    presigned: bool
    expires: int | None = None
    security_token: str | None = None


def parse_authorization(environ: dict[str, object], query_pairs: list[tuple[str, str]]) -> Credential | None:
    """The SigV4 credential of a request (header or presigned query), or None when the request is unsigned."""
    auth = environ.get("HTTP_AUTHORIZATION")
    if isinstance(auth, str) and auth:
        if not auth.startswith(ALGORITHM + " "):
            raise SignatureError("IncompleteSignature", "Only AWS Signature Version 4 (AWS4-HMAC-SHA256) is supported.")
        parts: dict[str, str] = {}
        for item in auth[len(ALGORITHM) + 1 :].split(","):
            key, _, value = item.strip().partition("=")
            parts[key.strip()] = value.strip()
        try:
            scope = parts["Credential"].split("/")
            signed = parts["SignedHeaders"]
            signature = parts["Signature"]
        except KeyError:
            raise SignatureError("IncompleteSignature", "The Authorization header is incomplete.") from None
        amz_date = str(environ.get("HTTP_X_AMZ_DATE") or "")
        if not amz_date:
            amz_date = _date_header_to_amz(str(environ.get("HTTP_DATE") or ""))
        token = environ.get("HTTP_X_AMZ_SECURITY_TOKEN")
        return _credential(scope, signed, signature, amz_date, False, None, token if isinstance(token, str) else None)
    params = {}
    for key, value in query_pairs:
        if key.startswith("X-Amz-"):
            params[key] = unquote_plus(value)
    if "X-Amz-Signature" not in params:
        return None
    if params.get("X-Amz-Algorithm") != ALGORITHM:
        raise SignatureError("AuthorizationQueryParametersError", "X-Amz-Algorithm must be AWS4-HMAC-SHA256.")
    try:
        expires = int(params.get("X-Amz-Expires", "3600"))
        scope = params["X-Amz-Credential"].split("/")
        signed = params["X-Amz-SignedHeaders"]
        amz_date = params["X-Amz-Date"]
    except (KeyError, ValueError):
        raise SignatureError("AuthorizationQueryParametersError", "The presigned URL is incomplete.") from None
    return _credential(
        scope, signed, params["X-Amz-Signature"], amz_date, True, expires, params.get("X-Amz-Security-Token")
    )


def _credential(
    scope: list[str],
    signed: str,
    signature: str,
    amz_date: str,
    presigned: bool,
    expires: int | None,
    token: str | None,
) -> Credential:
    if len(scope) != 5 or scope[4] != "aws4_request" or not scope[0]:
        raise SignatureError("IncompleteSignature", "The credential scope is malformed.")
    if len(amz_date) != 16 or not amz_date.endswith("Z"):
        raise SignatureError("IncompleteSignature", "The request has no valid X-Amz-Date.")
    return Credential(
        access_key=scope[0],
        date=scope[1],
        region=scope[2],
        service=scope[3],
        signed_headers=tuple(h.strip().lower() for h in signed.split(";") if h.strip()),
        signature=signature.strip().lower(),
        amz_date=amz_date,
        presigned=presigned,
        expires=expires,
        security_token=token,
    )


def _date_header_to_amz(value: str) -> str:
    parsed = parsedate_tz(value) if value else None
    if not parsed:
        return ""
    return time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(mktime_tz(parsed)))


def signing_key(secret: str, date: str, region: str, service: str) -> bytes:
    """The derived SigV4 key (cached: it changes once a day per secret, region and service)."""
    cache_key = (secret, date, region, service)
    key = _SIGNING_KEYS.get(cache_key)
    if key is None:
        k = hmac.new(f"AWS4{secret}".encode(), date.encode(), hashlib.sha256).digest()
        k = hmac.new(k, region.encode(), hashlib.sha256).digest()
        k = hmac.new(k, service.encode(), hashlib.sha256).digest()
        key = hmac.new(k, b"aws4_request", hashlib.sha256).digest()
        if len(_SIGNING_KEYS) >= _MAX_CACHED_KEYS:
            _SIGNING_KEYS.clear()
        _SIGNING_KEYS[cache_key] = key
    return key


def _header_value(environ: dict[str, object], name: str) -> str | None:
    if name == "host":
        value = environ.get("HTTP_HOST")
    elif name in ("content-type", "content-length"):
        value = environ.get(name.upper().replace("-", "_"))
    else:
        value = environ.get("HTTP_" + name.upper().replace("-", "_"))
    if value is None:
        return None
    return " ".join(str(value).split())


def _canonical_query_raw(raw_query: str, drop_signature: bool) -> str:
    pairs = []
    if raw_query:
        for pair in raw_query.split("&"):
            key, _, value = pair.partition("=")
            if drop_signature and key == "X-Amz-Signature":
                continue
            pairs.append((key, value))
    return "&".join(f"{k}={v}" for k, v in sorted(pairs))


def _canonical_query_reencoded(raw_query: str, drop_signature: bool) -> str:
    pairs = []
    if raw_query:
        for pair in raw_query.split("&"):
            if not pair:
                continue
            key, _, value = pair.partition("=")
            key, value = unquote_plus(key), unquote_plus(value)
            if drop_signature and key == "X-Amz-Signature":
                continue
            pairs.append((quote(key, safe="-_.~"), quote(value, safe="-_.~")))
    return "&".join(f"{k}={v}" for k, v in sorted(pairs))


def verify(
    cred: Credential,
    secret: str,
    method: str,
    raw_path: str,
    raw_query: str,
    environ: dict[str, object],
    body: bytes,
    now: float | None = None,
) -> None:
    """Raise SignatureError unless `cred.signature` is the SigV4 signature of this request under `secret`."""
    if cred.presigned and cred.expires is not None:
        try:
            signed_at = calendar.timegm(time.strptime(cred.amz_date, "%Y%m%dT%H%M%SZ"))
        except ValueError:
            raise SignatureError("AuthorizationQueryParametersError", "X-Amz-Date is malformed.") from None
        if (now if now is not None else time.time()) > signed_at + cred.expires:
            raise SignatureError("AccessDenied", "Request has expired.")
    is_s3 = cred.service == "s3"
    path = raw_path or "/"
    canonical_path = path if is_s3 else quote(normalize_url_path(path), safe="/~")
    header_lines = []
    for name in cred.signed_headers:
        value = _header_value(environ, name)
        if value is None:
            raise SignatureError("SignatureDoesNotMatch", f"The signed header {name!r} is missing from the request.")
        header_lines.append(f"{name}:{value}")
    canonical_headers = "\n".join(header_lines) + "\n"
    signed = ";".join(cred.signed_headers)
    payload = environ.get("HTTP_X_AMZ_CONTENT_SHA256")
    if not isinstance(payload, str) or not payload:
        if cred.presigned and is_s3:
            payload = UNSIGNED_PAYLOAD
        else:
            payload = hashlib.sha256(body).hexdigest() if body else EMPTY_SHA256
    key = signing_key(secret, cred.date, cred.region, cred.service)
    scope = f"{cred.date}/{cred.region}/{cred.service}/aws4_request"
    first = _canonical_query_raw(raw_query, cred.presigned)
    for canonical_query in (first, None):
        if canonical_query is None:
            canonical_query = _canonical_query_reencoded(raw_query, cred.presigned)
            if canonical_query == first:
                break
        canonical = "\n".join(
            (method.upper(), canonical_path, canonical_query, canonical_headers, signed, payload)
        )
        string_to_sign = "\n".join(
            (ALGORITHM, cred.amz_date, scope, hashlib.sha256(canonical.encode("utf-8")).hexdigest())
        )
        expected = hmac.new(key, string_to_sign.encode("utf-8"), hashlib.sha256).hexdigest()
        if hmac.compare_digest(expected, cred.signature):
            return
    raise SignatureError(
        "SignatureDoesNotMatch",
        "The request signature we calculated does not match the signature you provided. "
        "Check your AWS Secret Access Key and signing method.",
    )


# ---------------------------------------------------------------- S3 presigned URLs, signature version 2
# botocore still presigns S3 URLs with SigV2 (HMAC-SHA1, AWSAccessKeyId/Signature/Expires) unless the client is
# configured for s3v4, so a learner's `generate_presigned_url` produces these.

S3_SUBRESOURCES = frozenset({
    "accelerate", "acl", "cors", "defaultObjectAcl", "location", "logging", "partNumber", "policy",
    "requestPayment", "torrent", "versioning", "versionId", "versions", "website", "uploads", "uploadId",
    "response-content-type", "response-content-language", "response-expires", "response-cache-control",
    "response-content-disposition", "response-content-encoding", "delete", "lifecycle", "tagging", "restore",
    "storageClass", "notification", "replication", "analytics", "metrics", "inventory", "select", "select-type",
    "object-lock",
})


@dataclass(frozen=True)
class V2Query:
    access_key: str
    signature: str
    expires: int


def parse_v2_query(query_pairs: list[tuple[str, str]]) -> V2Query | None:
    """The SigV2 presigned-URL credential (S3 only), or None."""
    params = {k: unquote_plus(v) for k, v in query_pairs if k in ("AWSAccessKeyId", "Signature", "Expires")}
    if "AWSAccessKeyId" not in params or "Signature" not in params:
        return None
    try:
        expires = int(params.get("Expires", ""))
    except ValueError:
        raise SignatureError("AccessDenied", "Query-string authentication requires a numeric Expires.") from None
    return V2Query(params["AWSAccessKeyId"], params["Signature"], expires)


def verify_v2(cred: V2Query, secret: str, method: str, raw_path: str, raw_query: str,
              environ: dict[str, object], now: float | None = None) -> None:
    """Raise SignatureError unless this is a valid, unexpired SigV2 presigned S3 URL signed with `secret`."""
    import base64

    if (now if now is not None else time.time()) > cred.expires:
        raise SignatureError("AccessDenied", "Request has expired.")
    md5 = str(environ.get("HTTP_CONTENT_MD5") or "").strip()
    ctype = str(environ.get("CONTENT_TYPE") or "").strip()
    amz: dict[str, str] = {}
    for key, value in environ.items():
        if key.startswith("HTTP_X_AMZ_") and isinstance(value, str):
            amz[key[5:].lower().replace("_", "-")] = value.strip()
    for part in raw_query.split("&") if raw_query else []:
        key, _, value = part.partition("=")
        if key.lower().startswith("x-amz-"):
            amz[key.lower()] = unquote_plus(value).strip()
    resource = raw_path or "/"
    sub: list[tuple[str, str]] = []
    for part in raw_query.split("&") if raw_query else []:
        key, eq, value = part.partition("=")
        if key in S3_SUBRESOURCES:
            sub.append((key, f"{key}={unquote(value)}" if eq else key))
    if sub:
        resource += "?" + "&".join(text for _, text in sorted(sub, key=lambda kv: kv[0]))
    custom = "".join(f"{k}:{amz[k]}\n" for k in sorted(amz))
    string_to_sign = f"{method.upper()}\n{md5}\n{ctype}\n{cred.expires}\n{custom}{resource}"
    digest = hmac.new(secret.encode("utf-8"), string_to_sign.encode("utf-8"), hashlib.sha1).digest()
    expected = base64.b64encode(digest).decode("ascii")
    if not hmac.compare_digest(expected, cred.signature):
        raise SignatureError("SignatureDoesNotMatch", "The request signature we calculated does not match the "
                                                      "signature you provided.")
