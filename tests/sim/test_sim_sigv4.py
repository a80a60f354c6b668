"""The gateway's SigV4 verifier accepts exactly what botocore signs (pure logic, no simulator)."""

from __future__ import annotations

import time
from urllib.parse import urlsplit

import pytest
from botocore.auth import HmacV1QueryAuth, S3SigV4Auth, S3SigV4QueryAuth, SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from seclab.sim import sigv4

KEY, SECRET = "AKIASECLABTESTKEY000", "s3cr3t/with+chars"


def _environ(request: AWSRequest) -> tuple[dict, str, str, bytes]:
    parts = urlsplit(request.url)
    env: dict = {"REQUEST_METHOD": request.method, "HTTP_HOST": parts.netloc}
    for name, value in request.headers.items():
        key = name.upper().replace("-", "_")
        env[key if key in ("CONTENT_TYPE", "CONTENT_LENGTH") else f"HTTP_{key}"] = value
    body = request.body or b""
    if isinstance(body, str):
        body = body.encode()
    return env, parts.path, parts.query, body


def _check(request: AWSRequest, secret: str = SECRET) -> None:
    env, path, query, body = _environ(request)
    pairs = [tuple(p.partition("=")[::2]) for p in query.split("&") if p]
    cred = sigv4.parse_authorization(env, pairs)
    assert cred is not None
    sigv4.verify(cred, secret, request.method, path, query, env, body)


CASES = [
    ("iam", "POST", "http://127.0.0.1:4566/", b"Action=ListRoles&Version=2010-05-08", SigV4Auth),
    ("lambda", "GET", "http://127.0.0.1:4566/2015-03-31/functions/my%3Afn/configuration", b"", SigV4Auth),
    ("s3", "PUT", "http://127.0.0.1:4566/bkt/dir/a%20b%2Bc%2A.txt", b"data", S3SigV4Auth),
    ("s3", "GET", "http://127.0.0.1:4566/bkt?list-type=2&prefix=a%2Fb%20c&encoding-type=url", b"", S3SigV4Auth),
    ("s3", "GET", "http://127.0.0.1:4566/bkt?acl", b"", S3SigV4Auth),
    ("ec2", "POST", "http://127.0.0.1:4566/", b"Action=DescribeVpcs&Filter.1.Name=tag%3AName", SigV4Auth),
]


@pytest.mark.parametrize("service,method,url,body,signer", CASES)
def test_accepts_what_botocore_signs(service, method, url, body, signer):
    request = AWSRequest(method=method, url=url, data=body, headers={"Content-Type": "application/x-www-form-urlencoded"})
    signer(Credentials(KEY, SECRET), service, "us-east-1").add_auth(request)
    _check(request)


@pytest.mark.parametrize("service,method,url,body,signer", CASES)
def test_rejects_wrong_secret_and_tampering(service, method, url, body, signer):
    request = AWSRequest(method=method, url=url, data=body)
    signer(Credentials(KEY, SECRET), service, "us-east-1").add_auth(request)
    with pytest.raises(sigv4.SignatureError) as err:
        _check(request, secret="not-the-secret")
    assert err.value.code == "SignatureDoesNotMatch"
    tampered = AWSRequest(method=method, url=url + ("&x=1" if "?" in url else "?x=1"), data=body,
                          headers=dict(request.headers.items()))
    with pytest.raises(sigv4.SignatureError):
        _check(tampered)


def test_presigned_v4_and_expiry():
    request = AWSRequest(method="GET", url="http://127.0.0.1:4566/bkt/k%20y.bin")
    S3SigV4QueryAuth(Credentials(KEY, SECRET), "s3", "us-east-1", expires=60).add_auth(request)
    _check(request)
    env, path, query, body = _environ(request)
    pairs = [tuple(p.partition("=")[::2]) for p in query.split("&") if p]
    cred = sigv4.parse_authorization(env, pairs)
    assert cred is not None and cred.presigned
    with pytest.raises(sigv4.SignatureError) as err:
        sigv4.verify(cred, SECRET, "GET", path, query, env, body, now=time.time() + 3600)
    assert "expired" in err.value.message


def test_presigned_v2():
    request = AWSRequest(method="GET", url="http://127.0.0.1:4566/bkt/k%20y.bin?response-content-type=text%2Fplain")
    HmacV1QueryAuth(Credentials(KEY, SECRET), expires=60).add_auth(request)
    env, path, query, _ = _environ(request)
    pairs = [tuple(p.partition("=")[::2]) for p in query.split("&") if p]
    cred = sigv4.parse_v2_query(pairs)
    assert cred is not None and cred.access_key == KEY
    sigv4.verify_v2(cred, SECRET, "GET", path, query, env)
    with pytest.raises(sigv4.SignatureError):
        sigv4.verify_v2(cred, "wrong", "GET", path, query, env)
    with pytest.raises(sigv4.SignatureError):
        sigv4.verify_v2(cred, SECRET, "GET", path, query, env, now=time.time() + 120)


@pytest.mark.parametrize("header", [
    "AWS4-HMAC-SHA256 Credential=onlykey, SignedHeaders=host, Signature=ab",
    "AWS4-HMAC-SHA256 garbage",
    "AWS AKID:signature-v2-header",
    "AWS4-HMAC-SHA256 Credential=K/20240101/us-east-1/s3/aws4_request, SignedHeaders=host",
])
def test_malformed_authorization_is_a_signature_error(header):
    with pytest.raises(sigv4.SignatureError):
        sigv4.parse_authorization({"HTTP_AUTHORIZATION": header, "HTTP_X_AMZ_DATE": "20240101T000000Z"}, [])


def test_signing_key_is_cached():
    first = sigv4.signing_key(SECRET, "20240101", "us-east-1", "s3")
    assert sigv4.signing_key(SECRET, "20240101", "us-east-1", "s3") is first
    assert sigv4.signing_key(SECRET, "20240102", "us-east-1", "s3") != first
