"""boto3 sessions and notebook environments that can only ever reach the simulator.

Why so much care: a learner's machine may hold real AWS credentials (AWS_PROFILE, AKIA/ASIA keys, ~/.aws). Every
session seclab hands out
- carries the learner's simulator credentials explicitly, so botocore's credential chain never runs;
- reads config only from files seclab writes in the state dir (never ~/.aws/config);
- defaults every client to the simulator endpoint (S3 path-style addressing), and
- refuses, before anything is sent, any request whose host is not loopback (a botocore before-send hook).
`learner_env` gives the same guarantees to a notebook kernel through environment variables. When real credentials
are found in the caller's environment, one line on stderr says they are being replaced (once per process).
"""

from __future__ import annotations

import os
import re
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from seclab import paths
from seclab.errors import NotFound, RealAwsRefused, UsageError
from seclab.sim import control, guard, registry, state

# Variables that could route a boto3 call elsewhere or supply other credentials; `seclab env` unsets them.
UNSET_VARS = (
    "AWS_SESSION_TOKEN",
    "AWS_SECURITY_TOKEN",
    "AWS_DEFAULT_PROFILE",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "AWS_CONTAINER_AUTHORIZATION_TOKEN",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_ROLE_ARN",
    "AWS_ROLE_SESSION_NAME",
    "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS",
    "AWS_CA_BUNDLE",
)
ADMIN_ACCOUNT_HEADER = "x-seclab-account"
_warned = False


def real_aws_signals(environ: dict[str, str] | None = None, home: Path | None = None) -> list[str]:
    """What in this environment looks like real AWS configuration (names only, never values)."""
    env = os.environ if environ is None else environ
    found = []
    known_keys = {lr.access_key_id for lr in _safe_learners()}
    for var in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE"):
        value = env.get(var, "")
        if value and not value.startswith("seclab-"):
            found.append(f"{var}={value}")
    key = env.get("AWS_ACCESS_KEY_ID", "")
    if key[:4] in ("AKIA", "ASIA") and key not in known_keys:
        found.append(f"AWS_ACCESS_KEY_ID={key[:4]}...")
    if env.get("AWS_SESSION_TOKEN"):
        found.append("AWS_SESSION_TOKEN")
    endpoint = env.get("AWS_ENDPOINT_URL", "")
    if endpoint:
        try:
            guard.check_url(endpoint)
        except RealAwsRefused:
            found.append(f"AWS_ENDPOINT_URL={endpoint}")
    creds = (home or Path.home()) / ".aws" / "credentials"
    try:
        if creds.is_file() and creds.stat().st_size > 0:
            found.append(str(creds).replace(str(home or Path.home()), "~"))
    except OSError:
        pass
    return found


def _safe_learners() -> list[registry.Learner]:
    try:
        return registry.list_learners()
    except Exception:  # noqa: BLE001 - detection must never fail the caller
        return []


def warn_real_aws_once(environ: dict[str, str] | None = None) -> None:
    """Say once per process, on stderr, that real AWS configuration was found and is being replaced."""
    global _warned
    if _warned:
        return
    found = real_aws_signals(environ)
    if found:
        _warned = True
        sys.stderr.write(
            f"seclab: found real AWS configuration ({', '.join(found)}); seclab replaces it with simulator "
            "credentials and never uses it.\n"
        )


def write_aws_files(learner: registry.Learner, endpoint: str, region: str) -> tuple[Path, Path, str]:
    """Write the config and credentials files a notebook's boto3 reads (0600); returns (config, creds, profile)."""
    profile = f"seclab-{learner.name}"
    folder = state.aws_dir()
    config = folder / f"config-{learner.name}"
    creds = folder / f"credentials-{learner.name}"
    state.write_private(
        config,
        f"[profile {profile}]\nregion = {region}\nendpoint_url = {endpoint}\n"
        "s3 =\n    addressing_style = path\n",
    )
    state.write_private(
        creds,
        f"[{profile}]\naws_access_key_id = {learner.access_key_id}\n"
        f"aws_secret_access_key = {learner.secret_access_key}\n",
    )
    return config, creds, profile


def learner_env(name: str = registry.DEFAULT_LEARNER, region: str = "us-east-1",
                endpoint: str | None = None) -> dict[str, str]:
    """The environment under which plain boto3 acts as learner `name` in the simulator (and nowhere else)."""
    learner = registry.get_learner(name)
    endpoint = endpoint or control.current_endpoint()
    guard.check_url(endpoint)
    warn_real_aws_once()
    config, creds, profile = write_aws_files(learner, endpoint, region)
    return {
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_ACCESS_KEY_ID": learner.access_key_id,
        "AWS_SECRET_ACCESS_KEY": learner.secret_access_key,
        "AWS_DEFAULT_REGION": region,
        "AWS_REGION": region,
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_CONFIG_FILE": str(config),
        "AWS_SHARED_CREDENTIALS_FILE": str(creds),
        "AWS_PROFILE": profile,
        "SECLAB_LEARNER": learner.name,
        "SECLAB_STATE_DIR": str(paths.state_dir().resolve()),
    }


def scrubbed_environ(name: str = registry.DEFAULT_LEARNER, base: dict[str, str] | None = None,
                     region: str = "us-east-1") -> dict[str, str]:
    """A whole process environment for a notebook kernel or subprocess: `base` (default os.environ) without any
    AWS_* routing or credential variable, plus `learner_env(name)`."""
    env = dict(os.environ if base is None else base)
    for var in list(env):
        if var in UNSET_VARS or var.startswith("AWS_ENDPOINT_URL_"):
            env.pop(var, None)
    env.update(learner_env(name, region=region))
    return env


def _botocore_session(profile: str, config: Path, creds: Path) -> Any:
    import botocore.session

    bsession = botocore.session.Session()
    # Instance variables win over environment variables: real AWS_CONFIG_FILE / AWS_PROFILE are never read.
    bsession.set_config_variable("config_file", str(config))
    bsession.set_config_variable("credentials_file", str(creds))
    bsession.set_config_variable("profile", profile)
    bsession.set_config_variable("metadata_service_num_attempts", 0)
    return bsession


def _make_session(access_key: str, secret: str, token: str | None, region: str, endpoint: str,
                  config_name: str, account_header: str | None = None) -> Any:
    import boto3
    from botocore.config import Config

    guard.check_url(endpoint)
    folder = state.aws_dir()
    config = folder / f"config-{config_name}"
    creds = folder / f"credentials-{config_name}"
    profile = f"seclab-{config_name}"
    if not config.exists():
        state.write_private(config, f"[profile {profile}]\nregion = {region}\n")
    if not creds.exists():
        state.write_private(creds, "")
    bsession = _botocore_session(profile, config, creds)

    class SimulatorSession(boto3.session.Session):  # type: ignore[misc]
        """A boto3 Session whose clients default to the simulator endpoint (S3 path-style)."""

        seclab_endpoint = endpoint

        def client(self, service_name: str, *args: Any, **kwargs: Any) -> Any:
            kwargs.setdefault("endpoint_url", endpoint)
            cfg = Config(s3={"addressing_style": "path"}, retries={"max_attempts": 2, "mode": "standard"},
                         connect_timeout=10, read_timeout=120)
            kwargs["config"] = cfg.merge(kwargs["config"]) if kwargs.get("config") else cfg
            return super().client(service_name, *args, **kwargs)

        def resource(self, service_name: str, *args: Any, **kwargs: Any) -> Any:
            kwargs.setdefault("endpoint_url", endpoint)
            cfg = Config(s3={"addressing_style": "path"})
            kwargs["config"] = cfg.merge(kwargs["config"]) if kwargs.get("config") else cfg
            return super().resource(service_name, *args, **kwargs)

    session = SimulatorSession(
        aws_access_key_id=access_key,
        aws_secret_access_key=secret,
        aws_session_token=token,
        region_name=region,
        botocore_session=bsession,
    )
    session.events.register("before-send", _strip_account_host_prefix)
    session.events.register("before-send", guard.refuse_non_local)
    if account_header is not None:
        def add_account(request: Any, **_: Any) -> None:
            request.headers[ADMIN_ACCOUNT_HEADER] = account_header

        session.events.register("before-sign", add_account)
    return session


_ACCOUNT_PREFIX = re.compile(r"^(https?://)\d{12}\.((?:127\.\d{1,3}\.\d{1,3}\.\d{1,3}|localhost)(?::\d+)?/)")


def _strip_account_host_prefix(request: Any, **_: Any) -> None:
    """s3control puts the account id in front of the host ("<acct>.127.0.0.1"), which is no host at all on
    loopback; send it to the simulator itself (the account travels in the x-amz-account-id header anyway)."""
    url = str(getattr(request, "url", ""))
    fixed = _ACCOUNT_PREFIX.sub(r"\1\2", url, count=1)
    if fixed != url:
        # keep the Host header that was signed; only the connection goes to loopback
        request.headers["Host"] = url.split("://", 1)[1].split("/", 1)[0]
        request.url = fixed


def learner_session(name: str = registry.DEFAULT_LEARNER, account: str | None = None,
                    region: str = "us-east-1") -> Any:
    """A boto3 Session acting as learner `name`; with `account` (a member account the learner owns) it assumes
    OrganizationAccountAccessRole there."""
    learner = registry.get_learner(name)
    endpoint = control.current_endpoint()
    warn_real_aws_once()
    session = _make_session(learner.access_key_id, learner.secret_access_key, None, region, endpoint,
                            f"learner-{learner.name}")
    if account is None or account == learner.home_account:
        return session
    if account not in learner.accounts:
        raise NotFound(f"learner {name!r} does not own account {account}",
                       f"Their accounts: {', '.join(learner.accounts)}")
    creds = session.client("sts").assume_role(
        RoleArn=f"arn:aws:iam::{account}:role/OrganizationAccountAccessRole",
        RoleSessionName=f"seclab-{learner.name}"[:64],
    )["Credentials"]
    return _make_session(creds["AccessKeyId"], creds["SecretAccessKey"], creds["SessionToken"], region, endpoint,
                         f"learner-{learner.name}")


def admin_session(account: str, region: str = "us-east-1") -> Any:
    """A boto3 Session with seclab's admin identity acting in `account` (any account; never given to learners)."""
    if not (isinstance(account, str) and len(account) == 12 and account.isdigit()):
        raise UsageError(f"invalid account id {account!r}", "Use a 12-digit AWS account id.")
    admin = registry.admin()
    endpoint = control.current_endpoint()
    return _make_session(admin.access_key_id, admin.secret_access_key, None, region, endpoint, "admin",
                         account_header=account)


_acting = threading.local()
_shared_admin: dict[tuple[str, str, str], Any] = {}
_shared_admin_lock = threading.Lock()


@contextmanager
def acting_in(account: str) -> Iterator[None]:
    """Within the block, this thread's requests through `shared_admin_session()` act in `account`."""
    previous = getattr(_acting, "account", None)
    _acting.account = account
    try:
        yield
    finally:
        _acting.account = previous


def _add_acting_account(request: Any, **_: Any) -> None:
    account = getattr(_acting, "account", None)
    if account is None:
        raise RuntimeError("an admin request through the shared session named no account (wrap it in acting_in)")
    request.headers[ADMIN_ACCOUNT_HEADER] = account


def shared_admin_session(region: str = "us-east-1") -> Any:
    """One admin session for every account; each request acts in the account `acting_in` names in its thread.

    Why: reading an organization account by account with `admin_session` builds one session and a full set of
    botocore clients per account (~60 ms of client creation each, more than the reads themselves). The simulator
    picks the account from a header, so one client per service serves them all. Sessions are kept per
    (endpoint, admin key, region): a restarted simulator or another state dir gets a new one.
    """
    admin = registry.admin()
    endpoint = control.current_endpoint()
    key = (endpoint, admin.access_key_id, region)
    with _shared_admin_lock:
        session = _shared_admin.get(key)
        if session is None:
            session = _make_session(admin.access_key_id, admin.secret_access_key, None, region, endpoint, "admin")
            session.events.register("before-sign", _add_acting_account)
            _shared_admin[key] = session
        return session


def admin_request(method: str, path: str, body: bytes = b"") -> tuple[int, bytes]:
    """A SigV4-signed request with the admin identity to the simulator's /moto-api or /_seclab namespace."""
    import urllib.request

    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    admin = registry.admin()
    url = control.current_endpoint() + path
    guard.check_url(url)
    request = AWSRequest(method=method, url=url, data=body)
    SigV4Auth(Credentials(admin.access_key_id, admin.secret_access_key), "s3", "us-east-1").add_auth(request)
    prepared = urllib.request.Request(url, data=body or None, method=method, headers=dict(request.headers.items()))
    try:
        with urllib.request.urlopen(prepared, timeout=30) as resp:  # noqa: S310 - loopback only (checked)
            return int(resp.status), resp.read()
    except urllib.error.HTTPError as exc:
        return int(exc.code), exc.read()


def flush_trails() -> int:
    """Deliver pending CloudTrail log files now (the simulator also does it every few seconds); returns files
    written. For graders and tests that must see delivery before they look."""
    import json

    status, body = admin_request("POST", "/_seclab/flush-trails")
    if status != 200:
        from seclab.errors import SimulatorUnavailable

        raise SimulatorUnavailable(f"the simulator refused to flush trails (HTTP {status})")
    return int(json.loads(body).get("files", 0))
