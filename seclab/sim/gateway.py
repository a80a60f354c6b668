"""The gateway: WSGI middleware in front of moto that authenticates, confines, journals and audits every call.

Why in the same process: moto is not thread-safe and the journal must record requests in the order moto executed
them, so one lock around every call into moto serves both; a separate proxy would add a network hop per call.

Per request:
1. `/_seclab/*` is ours (health without auth; the rest admin only). Everything else must be signed (SigV4 header or
   presigned query) by a known key: a learner's, seclab's admin's, credentials captured from an STS AssumeRole or
   IAM CreateAccessKey response, or the LocalStack-convention dummy keys test/test and accesskey/secretkey (which
   act as the "default" learner, so `localstack_client.session` code reaches the simulator).
2. `/moto-api/*` (dumps and resets everyone's state) answers 403 to everyone but the admin.
3. The operation is named from botocore's models; a learner limited to some services gets 403 for the others.
4. The account is decided here: any client-sent x-moto-account-id / x-seclab-account is dropped, then
   x-moto-account-id is set to the caller's account (admin: the x-seclab-account it asked for). AssumeRole into an
   account the learner does not own is refused.
5. Some calls are answered here: sts:GetCallerIdentity for learner keys, cloudtrail:LookupEvents (moto lacks it).
   CloudFormation templates are parsed safely first.
6. Under the lock: reads run with moto's random saved and restored (so they need not be journaled); writes are
   journaled. moto's NotImplementedError becomes one 501 "not supported by the simulator" error in the protocol's
   error shape, never an HTML page.
7. Every call (refusals included) becomes a CloudTrail event in the audit log.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import threading
import traceback
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, unquote_plus
from xml.sax.saxutils import escape

from seclab.sim import audit as audit_mod
from seclab.sim import fidelity, operations, registry, sigv4, state
from seclab.sim.journal import PRESERVED_KEY, Journal

StartResponse = Callable[..., Any]
WsgiApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]

# LocalStack's conventional dummy credentials (localstack_client.session: accesskey/secretkey; .patch: test/test).
LOCALSTACK_KEYS = {"test": "test", "accesskey": "secretkey"}
_ACCOUNT_RE = re.compile(r"^\d{12}$")
_ROLE_ARN_ACCOUNT = re.compile(r"^arn:aws[\w-]*:iam::(\d{12}):role/")
_XML_TAG = re.compile(r"<(\w+)>([^<]*)</\1>")
_CODE_XML = re.compile(rb"<Code>([^<]{1,200})</Code>")
_MESSAGE_XML = re.compile(rb"<Message>([^<]{0,1000})</Message>")
# Services CloudTrail records in us-east-1 whatever region the client named.
GLOBAL_SERVICES = frozenset({"iam", "organizations", "cloudfront", "route53", "sts-global", "account"})
_TEMPLATE_OPS = {"CreateStack", "UpdateStack", "ValidateTemplate", "CreateChangeSet", "CreateStackSet",
                 "UpdateStackSet", "EstimateTemplateCost", "GetTemplateSummary"}


@dataclass
class Identity:
    """Who signed a request. `kind`: learner | admin | assumed | iamuser."""

    kind: str
    secret: str
    access_key: str
    learner: str | None
    account: str | None
    arn: str = ""
    principal_id: str = ""
    user_name: str | None = None
    token: str | None = None
    issuer_arn: str | None = None

    def user_identity(self) -> dict[str, Any]:
        if self.kind == "assumed":
            ident: dict[str, Any] = {
                "type": "AssumedRole",
                "principalId": self.principal_id,
                "arn": self.arn,
                "accountId": self.account,
                "accessKeyId": self.access_key,
                "sessionContext": {
                    "sessionIssuer": {
                        "type": "Role",
                        "principalId": self.principal_id.split(":")[0],
                        "arn": self.issuer_arn,
                        "accountId": self.account,
                        "userName": (self.issuer_arn or "").rsplit("/", 1)[-1],
                    }
                },
            }
            return ident
        if self.kind == "admin":
            return {"type": "AWSService", "invokedBy": "seclab.amazonaws.com", "accessKeyId": self.access_key}
        return {
            "type": "IAMUser",
            "principalId": self.principal_id,
            "arn": self.arn,
            "accountId": self.account,
            "accessKeyId": self.access_key,
            "userName": self.user_name,
        }


def _principal_id(seed: str) -> str:
    digest = hashlib.sha256(seed.encode()).digest()
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
    return "AIDA" + "".join(alphabet[b % 32] for b in digest[:17])


class Identities:
    """Access key -> Identity, from the registry (reloaded on mtime change), the admin file and captured creds."""

    def __init__(self) -> None:
        self.view = registry.RegistryView()
        self.admin = registry.admin()
        self.captured: dict[str, dict[str, Any]] = {}
        self._lock = threading.Lock()
        self._handle: Any = None
        self._load_captured()

    def _load_captured(self) -> None:
        try:
            handle = open(state.creds_file(), encoding="utf-8")  # noqa: SIM115
        except FileNotFoundError:
            return
        with handle:
            for line in handle:
                try:
                    rec = json.loads(line)
                    self.captured[str(rec["access_key_id"])] = rec
                except (ValueError, KeyError, TypeError):
                    continue

    def capture(self, rec: dict[str, Any]) -> None:
        """Remember credentials moto issued (persisted, so they keep working after a restart)."""
        with self._lock:
            self.captured[str(rec["access_key_id"])] = rec
            if self._handle is None:
                self._handle = state.open_append_private(state.creds_file())
            self._handle.write(json.dumps(rec) + "\n")
            self._handle.flush()

    def owner(self, account: str) -> str | None:
        self.view.refresh()
        return self.view.owner_of.get(account)

    def same_owner(self, a: str, b: str) -> bool:
        if a == b:
            return True
        owner = self.owner(a)
        return owner is not None and owner == self.owner(b)

    def lookup(self, access_key: str) -> Identity | None:
        self.view.refresh()
        learner = self.view.by_key.get(access_key)
        if learner is not None:
            return Identity("learner", learner.secret_access_key, access_key, learner.name, learner.home_account,
                            arn=learner.arn, principal_id=_principal_id(learner.name), user_name=learner.name)
        if access_key == self.admin.access_key_id:
            return Identity("admin", self.admin.secret_access_key, access_key, None, None, arn="seclab-admin")
        if access_key in LOCALSTACK_KEYS:
            default = self.view.by_name.get(registry.DEFAULT_LEARNER)
            if default is None:
                return None
            return Identity("learner", LOCALSTACK_KEYS[access_key], access_key, default.name, default.home_account,
                            arn=default.arn, principal_id=_principal_id(default.name), user_name=default.name)
        rec = self.captured.get(access_key)
        if rec is not None:
            return Identity(str(rec.get("kind", "assumed")), str(rec["secret"]), access_key, rec.get("learner"),
                            str(rec["account"]), arn=str(rec.get("arn") or ""),
                            principal_id=str(rec.get("principal_id") or ""), user_name=rec.get("user_name"),
                            token=rec.get("token"), issuer_arn=rec.get("role_arn"))
        return None

    def allowed_services(self, learner: str | None) -> tuple[str, ...] | None:
        if learner is None:
            return None
        rec = self.view.by_name.get(learner)
        return rec.services if rec is not None else None

    def accounts_of(self, learner: str | None) -> tuple[str, ...]:
        rec = self.view.by_name.get(learner or "")
        return rec.accounts if rec is not None else ()


# ---------------------------------------------------------------- error shapes


def error_body(protocol: str, status: int, code: str, message: str, request_id: str,
               json_version: str = "1.1") -> tuple[list[tuple[str, str]], bytes]:
    """Headers and body of an AWS error in the service's protocol, so every SDK parses code and message."""
    if protocol in ("json", "rest-json", "smithy-rpc-v2-cbor"):
        body = json.dumps({"__type": code, "message": message, "Message": message}).encode()
        ctype = f"application/x-amz-json-{json_version}" if protocol == "json" else "application/json"
        return [("Content-Type", ctype), ("x-amzn-ErrorType", code), ("x-amzn-RequestId", request_id)], body
    if protocol == "ec2":
        text = (f"<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response><Errors><Error><Code>{escape(code)}</Code>"
                f"<Message>{escape(message)}</Message></Error></Errors><RequestID>{request_id}</RequestID></Response>")
    elif protocol == "rest-xml":
        text = (f"<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>{escape(code)}</Code>"
                f"<Message>{escape(message)}</Message><RequestId>{request_id}</RequestId></Error>")
    else:
        sender = "Sender" if status < 500 else "Receiver"
        text = (f"<?xml version=\"1.0\" encoding=\"UTF-8\"?><ErrorResponse><Error><Type>{sender}</Type>"
                f"<Code>{escape(code)}</Code><Message>{escape(message)}</Message></Error>"
                f"<RequestId>{request_id}</RequestId></ErrorResponse>")
    return [("Content-Type", "text/xml"), ("x-amzn-RequestId", request_id)], text.encode()


_REASONS = {200: "OK", 400: "Bad Request", 403: "Forbidden", 404: "Not Found", 500: "Internal Server Error",
            501: "Not Implemented", 503: "Service Unavailable"}


def _status_line(status: int) -> str:
    return f"{status} {_REASONS.get(status, 'Error')}"


@dataclass
class Call:
    """What the gateway learned about one request."""

    environ: dict[str, Any]
    body: bytes
    raw_path: str
    raw_query: str
    query: dict[str, list[str]]
    form: dict[str, list[str]] | None
    request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    identity: Identity | None = None
    op: operations.Operation | None = None
    region: str = "us-east-1"
    account: str | None = None
    signing_name: str = ""


class Refusal(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


class Gateway:
    """The WSGI app the simulator serves: our checks, then moto."""

    def __init__(self, moto_app: WsgiApp, token_sha256: str, journal: Journal, audit: audit_mod.AuditLog,
                 identities: Identities) -> None:
        from moto.moto_api._internal import mock_random

        self.moto_app = moto_app
        self.token_sha256 = token_sha256
        self.journal = journal
        self.audit = audit
        self.identities = identities
        self.lock = threading.RLock()
        self.random = mock_random
        self.ready = False
        self.restored = 0
        self.pid = 0
        self.port = 0
        self.delivery: audit_mod.TrailDelivery | None = None

    # ---------------------------------------------------------------- entry point

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        try:
            return self._handle(environ, start_response)
        except Exception as exc:  # noqa: BLE001 - a bug of ours: still one protocol-shaped error, never HTML
            traceback.print_exc()
            call = Call(environ=environ, body=b"", raw_path=environ.get("PATH_INFO", "/"), raw_query="", query={},
                        form=None)
            status, headers, body = self._error(call, 500, "InternalFailure",
                                                f"The simulator's gateway failed ({type(exc).__name__}).")
            return self._respond(start_response, status, headers, body)

    def _handle(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "") or "/"
        if path.startswith("/_seclab/"):
            return self._seclab_api(path, environ, start_response)
        call = self._parse(environ)
        try:
            self._authenticate(call)
            assert call.identity is not None
            if path.startswith("/moto-api"):
                if call.identity.kind != "admin":
                    raise Refusal(403, "AccessDenied", "moto's admin API (/moto-api) is closed to learners.")
                status, headers, body = self._forward(call, journal=False, read_only=False)
                return self._respond(start_response, status, headers, body)
            self._name_operation(call)
            self._decide_account(call)
            answer = self._answer_here(call)
            if answer is not None:
                status, headers, body = answer
            else:
                self._precheck(call)
                assert call.op is not None
                status, headers, body = self._forward(call, journal=not call.op.read_only, read_only=call.op.read_only)
                if status < 300:
                    self._capture(call, body)
        except Refusal as refusal:
            status, headers, body = self._error(call, refusal.status, refusal.code, refusal.message)
        self._audit(call, status, headers, body)
        return self._respond(start_response, status, headers, body)

    # ---------------------------------------------------------------- steps

    def _parse(self, environ: dict[str, Any]) -> Call:
        raw_uri = environ.get("RAW_URI") or environ.get("REQUEST_URI") or environ.get("PATH_INFO", "/")
        if raw_uri.startswith(("http://", "https://")):
            raw_uri = "/" + raw_uri.split("://", 1)[1].partition("/")[2]
        raw_path, _, raw_query = raw_uri.partition("?")
        body = self._read_body(environ)
        query = parse_qs(raw_query, keep_blank_values=True) if raw_query else {}
        form = None
        ctype = environ.get("CONTENT_TYPE", "")
        if ctype.startswith("application/x-www-form-urlencoded") and body:
            try:
                form = parse_qs(body.decode("utf-8"), keep_blank_values=True)
            except UnicodeDecodeError:
                form = None
        return Call(environ=environ, body=body, raw_path=raw_path or "/", raw_query=raw_query, query=query, form=form)

    @staticmethod
    def _read_body(environ: dict[str, Any]) -> bytes:
        stream = environ.get("wsgi.input")
        if stream is None:
            return b""
        length = environ.get("CONTENT_LENGTH")
        if environ.get("wsgi.input_terminated") or (not length and "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "")):
            body = stream.read()
        else:
            try:
                size = int(length or 0)
            except ValueError:
                size = 0
            body = stream.read(size) if size > 0 else b""
        environ["wsgi.input"] = io.BytesIO(body)
        environ["CONTENT_LENGTH"] = str(len(body))
        environ.pop("wsgi.input_terminated", None)
        environ.pop("HTTP_TRANSFER_ENCODING", None)
        return body

    def _authenticate(self, call: Call) -> None:
        env = call.environ
        pairs = [tuple(p.partition("=")[::2]) for p in call.raw_query.split("&") if p] if call.raw_query else []
        try:
            cred = sigv4.parse_authorization(env, pairs)  # type: ignore[arg-type]
        except sigv4.SignatureError as exc:
            raise Refusal(403 if exc.code != "IncompleteSignature" else 400, exc.code, exc.message) from None
        if cred is None:
            try:
                v2 = sigv4.parse_v2_query(pairs)  # type: ignore[arg-type]
            except sigv4.SignatureError as exc:
                call.signing_name = "s3"
                raise Refusal(403, exc.code, exc.message) from None
            if v2 is not None:
                self._authenticate_v2(call, v2, pairs)  # type: ignore[arg-type]
                return
            call.signing_name = self._guess_signing_name(call)
            raise Refusal(403, "MissingAuthenticationToken",
                          "Request is missing Authentication Token: sign requests with your seclab credentials "
                          "(see `seclab env`).")
        call.signing_name = cred.service
        call.region = cred.region or "us-east-1"
        identity = self.identities.lookup(cred.access_key)
        if identity is None:
            code = "InvalidAccessKeyId" if cred.service == "s3" else "InvalidClientTokenId"
            raise Refusal(403, code, "The security token included in the request is invalid: unknown access key "
                                     f"{cred.access_key}.")
        try:
            sigv4.verify(cred, identity.secret, env.get("REQUEST_METHOD", "GET"), call.raw_path, call.raw_query,
                         env, call.body)
        except sigv4.SignatureError as exc:
            raise Refusal(403, exc.code, exc.message) from None
        if identity.token and cred.security_token != identity.token:
            raise Refusal(403, "InvalidClientTokenId", "The security token included in the request is invalid.")
        call.identity = identity

    def _authenticate_v2(self, call: Call, v2: sigv4.V2Query, pairs: list[tuple[str, str]]) -> None:
        call.signing_name = "s3"
        identity = self.identities.lookup(v2.access_key)
        if identity is None:
            raise Refusal(403, "InvalidAccessKeyId", f"The AWS access key Id {v2.access_key} does not exist.")
        try:
            sigv4.verify_v2(v2, identity.secret, call.environ.get("REQUEST_METHOD", "GET"), call.raw_path,
                            call.raw_query, call.environ)
        except sigv4.SignatureError as exc:
            raise Refusal(403, exc.code, exc.message) from None
        if identity.token:
            token = dict(pairs).get("x-amz-security-token")
            if token is None or unquote_plus(token) != identity.token:
                raise Refusal(403, "InvalidToken", "The provided token is malformed or otherwise invalid.")
        call.identity = identity

    @staticmethod
    def _guess_signing_name(call: Call) -> str:
        ctype = call.environ.get("CONTENT_TYPE", "")
        if "x-amz-json" in ctype:
            target = call.environ.get("HTTP_X_AMZ_TARGET", "")
            return "unknown-json" if target else "unknown"
        return "s3" if not call.form else "unknown"

    def _name_operation(self, call: Call) -> None:
        env = call.environ
        action = (call.form or {}).get("Action", [None])[0]
        header_names = frozenset(k[5:].lower().replace("_", "-") for k in env if k.startswith("HTTP_"))
        call.op = operations.resolve(call.signing_name, env.get("REQUEST_METHOD", "GET"), call.raw_path, call.query,
                                     env.get("HTTP_X_AMZ_TARGET"), action, header_names)
        identity = call.identity
        assert identity is not None
        allowed = self.identities.allowed_services(identity.learner) if identity.kind != "admin" else None
        if allowed is not None and call.op.service != "sts" and call.op.service not in allowed \
                and call.op.signing_name not in allowed:
            raise Refusal(403, "AccessDeniedException" if call.op.protocol in ("json", "rest-json") else "AccessDenied",
                          f"{call.op.service} is not part of this lab (this lab uses: {', '.join(allowed) or 'none'}).")

    def _decide_account(self, call: Call) -> None:
        env = call.environ
        asked = env.pop("HTTP_X_SECLAB_ACCOUNT", None)
        env.pop("HTTP_X_MOTO_ACCOUNT_ID", None)
        preserved = env.get(PRESERVED_KEY)
        if isinstance(preserved, dict):
            for key in ("HTTP_X_MOTO_ACCOUNT_ID", "HTTP_X_SECLAB_ACCOUNT"):
                preserved.pop(key, None)
        identity = call.identity
        assert identity is not None
        if identity.kind == "admin":
            if not asked or not _ACCOUNT_RE.match(str(asked)):
                raise Refusal(400, "InvalidParameterValue", "admin requests must name a 12-digit x-seclab-account.")
            account = str(asked)
        else:
            account = str(identity.account)
        call.account = account
        env["HTTP_X_MOTO_ACCOUNT_ID"] = account

    def _param(self, call: Call, name: str) -> str | None:
        if call.form and name in call.form:
            return call.form[name][0]
        if name in call.query:
            return call.query[name][0]
        return None

    def _json_body(self, call: Call) -> dict[str, Any]:
        if not call.body:
            return {}
        try:
            data = json.loads(call.body)
        except ValueError:
            raise Refusal(400, "SerializationException", "The request body is not valid JSON.") from None
        if not isinstance(data, dict):
            raise Refusal(400, "SerializationException", "The request body must be a JSON object.")
        return data

    def _answer_here(self, call: Call) -> tuple[int, list[tuple[str, str]], bytes] | None:
        op, identity = call.op, call.identity
        assert op is not None and identity is not None
        if op.service == "sts" and op.name == "GetCallerIdentity" and identity.kind == "learner":
            xml = ("<GetCallerIdentityResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">"
                   "<GetCallerIdentityResult>"
                   f"<Arn>{escape(identity.arn)}</Arn><UserId>{identity.principal_id}</UserId>"
                   f"<Account>{identity.account}</Account></GetCallerIdentityResult>"
                   f"<ResponseMetadata><RequestId>{call.request_id}</RequestId></ResponseMetadata>"
                   "</GetCallerIdentityResponse>")
            return 200, [("Content-Type", "text/xml"), ("x-amzn-RequestId", call.request_id)], xml.encode()
        if op.service == "cloudtrail" and op.name == "LookupEvents":
            params = self._json_body(call)
            try:
                result = self.audit.lookup(str(call.account), params, call.region)
            except ValueError as exc:
                code, _, message = str(exc).partition(":")
                raise Refusal(400, code, message) from None
            body = json.dumps(result, default=str).encode()
            return 200, [("Content-Type", "application/x-amz-json-1.1"), ("x-amzn-RequestId", call.request_id)], body
        return None

    def _precheck(self, call: Call) -> None:
        op, identity = call.op, call.identity
        assert op is not None and identity is not None
        if op.service == "sts" and op.name.startswith("AssumeRole"):
            role_arn = self._param(call, "RoleArn") or ""
            match = _ROLE_ARN_ACCOUNT.match(role_arn)
            if identity.kind != "admin":
                if not match or match.group(1) not in self.identities.accounts_of(identity.learner):
                    raise Refusal(403, "AccessDenied",
                                  f"{identity.arn or 'you'} is not authorized to perform: sts:AssumeRole on resource: "
                                  f"{role_arn or '(no RoleArn)'} (the simulator confines you to your own accounts).")
        if op.service == "cloudformation" and op.name in _TEMPLATE_OPS:
            body = self._param(call, "TemplateBody")
            if body:
                from seclab.sim import cfn

                try:
                    cfn.load_template(body)
                except cfn.TemplateError as exc:
                    raise Refusal(400, "ValidationError", str(exc)) from None

    # ---------------------------------------------------------------- moto

    def call_moto(self, environ: dict[str, Any]) -> tuple[int, list[tuple[str, str]], bytes]:
        """Run moto's app on `environ` and collect the whole response (caller holds the lock)."""
        captured: dict[str, Any] = {}
        chunks: list[bytes] = []

        def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Callable[[bytes], None]:
            captured["status"] = status
            captured["headers"] = headers
            return chunks.append

        result = self.moto_app(environ, start_response)
        try:
            for chunk in result:
                chunks.append(chunk)
        finally:
            close = getattr(result, "close", None)
            if close is not None:
                close()
        status = int(str(captured.get("status", "500")).split(" ", 1)[0])
        return status, list(captured.get("headers", [])), b"".join(chunks)

    def _forward(self, call: Call, journal: bool, read_only: bool) -> tuple[int, list[tuple[str, str]], bytes]:
        op = call.op
        with self.lock:
            if op is not None and op.service == "cloudformation":
                fidelity.ensure_cloudformation()
            saved = self.random.getstate() if read_only else None
            try:
                status, headers, body = self.call_moto(call.environ)
            except NotImplementedError:
                status, headers, body = self._not_supported(call)
            except Exception as exc:  # noqa: BLE001 - moto crashed: one protocol-shaped error, details in the log
                traceback.print_exc()
                status, headers, body = self._error(call, 500, "InternalFailure",
                                                    f"The simulator failed on this call ({type(exc).__name__}: {exc}).")
            finally:
                if saved is not None:
                    self.random.setstate(saved)
                if journal:
                    call.environ["wsgi.input"] = io.BytesIO(call.body)
                    self.journal.append_request(call.environ, call.body,
                                                call.identity.learner if call.identity else None,
                                                op.service if op else "moto-api", op.name if op else "")
        if status == 500 and body.lstrip()[:15].lower().startswith((b"<!doctype", b"<html")):
            status, headers, body = self._not_supported(call)
        return status, headers, body

    def _not_supported(self, call: Call) -> tuple[int, list[tuple[str, str]], bytes]:
        op = call.op
        what = f"{op.service} {op.name}" if op else "this call"
        return self._error(call, 501, "NotImplemented",
                           f"{what} is not supported by the simulator (moto does not implement it).")

    def _error(self, call: Call, status: int, code: str, message: str) -> tuple[int, list[tuple[str, str]], bytes]:
        op = call.op
        if op is not None:
            protocol, json_version = op.protocol, op.json_version
        else:
            protocol = operations.protocol_for(call.signing_name) if call.signing_name and \
                not call.signing_name.startswith("unknown") else self._protocol_from_request(call)
            json_version = "1.1"
        headers, body = error_body(protocol, status, code, message, call.request_id, json_version)
        return status, headers, body

    @staticmethod
    def _protocol_from_request(call: Call) -> str:
        ctype = call.environ.get("CONTENT_TYPE", "")
        if "x-amz-json" in ctype:
            return "json"
        if call.form is not None:
            return "query"
        return "rest-xml"

    # ---------------------------------------------------------------- after the call

    def _capture(self, call: Call, body: bytes) -> None:
        op, identity = call.op, call.identity
        assert op is not None and identity is not None
        try:
            if op.service == "sts" and op.name.startswith("AssumeRole"):
                fields = dict(_XML_TAG.findall(body.decode("utf-8", "replace")))
                role_arn = self._param(call, "RoleArn") or ""
                match = _ROLE_ARN_ACCOUNT.match(role_arn)
                if "AccessKeyId" in fields and match:
                    account = match.group(1)
                    self.identities.capture({
                        "access_key_id": fields["AccessKeyId"], "secret": fields.get("SecretAccessKey", ""),
                        "token": fields.get("SessionToken"), "account": account, "kind": "assumed",
                        "learner": identity.learner or self.identities.owner(account),
                        "arn": fields.get("Arn", ""), "principal_id": fields.get("AssumedRoleId", ""),
                        "role_arn": role_arn,
                    })
            elif op.service == "iam" and op.name == "CreateAccessKey":
                fields = dict(_XML_TAG.findall(body.decode("utf-8", "replace")))
                if "AccessKeyId" in fields and call.account:
                    user = fields.get("UserName", "")
                    self.identities.capture({
                        "access_key_id": fields["AccessKeyId"], "secret": fields.get("SecretAccessKey", ""),
                        "account": call.account, "kind": "iamuser",
                        "learner": identity.learner or self.identities.owner(call.account),
                        "arn": f"arn:aws:iam::{call.account}:user/{user}", "user_name": user,
                        "principal_id": _principal_id(f"{call.account}/{user}"),
                    })
            elif op.service == "organizations" and op.name == "CreateAccount":
                data = json.loads(body)
                account = str((data.get("CreateAccountStatus") or {}).get("AccountId") or "")
                owner = identity.learner or self.identities.owner(str(call.account))
                if _ACCOUNT_RE.match(account) and owner:
                    registry.add_account(owner, account)
        except (ValueError, KeyError, TypeError, OSError):
            traceback.print_exc()

    def _request_parameters(self, call: Call) -> dict[str, Any] | None:
        op = call.op
        if op is None:
            return None
        if call.form is not None:
            return {audit_mod._lower_first(k): v[0] if len(v) == 1 else v for k, v in call.form.items()
                    if k not in ("Action", "Version")}
        params: dict[str, Any] = {}
        if op.protocol in ("json", "rest-json") and call.body[:1] == b"{":
            try:
                data = json.loads(call.body)
                if isinstance(data, dict):
                    params.update(audit_mod.camel_params(data))
            except ValueError:
                pass
        if op.labels:
            for key, value in op.labels.items():
                name = "bucketName" if key == "Bucket" else audit_mod._lower_first(key)
                params[name] = value
        for key, values in call.query.items():
            if not key.startswith("X-Amz-"):
                params[key] = values[0] if len(values) == 1 else values
        if op.service == "s3":
            params["Host"] = call.environ.get("HTTP_HOST", "")
        return params or None

    def _audit(self, call: Call, status: int, headers: list[tuple[str, str]], body: bytes) -> None:
        identity = call.identity
        account = call.account or (identity.account if identity else None)
        if account is None:
            return  # unauthenticated: no account to file it under
        op = call.op
        error_code = error_message = None
        if status >= 400:
            error_code, error_message = _error_of(headers, body, status)
        try:
            params = self._request_parameters(call)
            region = "us-east-1" if op is not None and op.service in GLOBAL_SERVICES else call.region
            event = audit_mod.build_event(
                identity=identity.user_identity() if identity else {"type": "Unknown"},
                account=account,
                event_source=op.event_source if op else f"{call.signing_name}.amazonaws.com",
                event_name=op.name if op else "Unknown",
                region=region,
                source_ip=str(call.environ.get("REMOTE_ADDR") or "127.0.0.1"),
                user_agent=str(call.environ.get("HTTP_USER_AGENT") or ""),
                request_parameters=params,
                read_only=op.read_only if op else True,
                data_event=op.data_event if op else False,
                error_code=error_code,
                error_message=error_message,
                request_id=call.request_id,
            )
            resources = audit_mod.resources_of(event.get("requestParameters"), account)
            self.audit.record(account, event, management=not (op.data_event if op else False),
                              admin=bool(identity and identity.kind == "admin"), resources=resources)
        except (OSError, ValueError, TypeError):
            traceback.print_exc()

    @staticmethod
    def _respond(start_response: StartResponse, status: int, headers: list[tuple[str, str]],
                 body: bytes) -> list[bytes]:
        out = [(k, v) for k, v in headers if k.lower() not in ("content-length", "transfer-encoding", "connection")]
        out.append(("Content-Length", str(len(body))))
        start_response(_status_line(status), out)
        return [body]

    # ---------------------------------------------------------------- /_seclab

    def _seclab_api(self, path: str, environ: dict[str, Any], start_response: StartResponse) -> list[bytes]:
        if path == "/_seclab/health":
            data = {"service": "seclab-sim", "token_sha256": self.token_sha256, "ready": self.ready,
                    "restored": self.restored, "pid": self.pid, "port": self.port}
            return self._respond(start_response, 200, [("Content-Type", "application/json")],
                                 json.dumps(data).encode())
        call = self._parse(environ)
        try:
            self._authenticate(call)
        except Refusal as refusal:
            return self._respond(start_response, refusal.status, [("Content-Type", "application/json")],
                                 json.dumps({"error": refusal.code, "message": refusal.message}).encode())
        if call.identity is None or call.identity.kind != "admin":
            return self._respond(start_response, 403, [("Content-Type", "application/json")],
                                 json.dumps({"error": "AccessDenied", "message": "admin only"}).encode())
        if path == "/_seclab/flush-trails" and self.delivery is not None:
            files = self.delivery.flush()
            return self._respond(start_response, 200, [("Content-Type", "application/json")],
                                 json.dumps({"files": files}).encode())
        return self._respond(start_response, 404, [("Content-Type", "application/json")],
                             json.dumps({"error": "NotFound", "message": path}).encode())

    def run_locked(self, fn: Callable[[], None]) -> None:
        """Run `fn` under the moto lock without disturbing moto's random (background work, e.g. trail delivery)."""
        with self.lock:
            saved = self.random.getstate()
            try:
                fn()
            finally:
                self.random.setstate(saved)


def _error_of(headers: list[tuple[str, str]], body: bytes, status: int) -> tuple[str, str]:
    for key, value in headers:
        if key.lower() == "x-amzn-errortype" and value:
            code = value.split(":", 1)[0]
            break
    else:
        code = ""
    message = ""
    head = body[:4096]
    if head[:1] == b"{":
        try:
            data = json.loads(body)
            code = code or str(data.get("__type") or data.get("code") or data.get("Code") or "")
            message = str(data.get("message") or data.get("Message") or "")
        except ValueError:
            pass
    else:
        match = _CODE_XML.search(head)
        if match:
            code = code or match.group(1).decode("utf-8", "replace")
        match = _MESSAGE_XML.search(head)
        if match:
            message = match.group(1).decode("utf-8", "replace")
    code = code.rsplit("#", 1)[-1] or str(status)
    return code, message

