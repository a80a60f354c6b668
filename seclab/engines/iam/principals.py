"""Who is asking: the calling principal's kind, account and the identities it can be named by.

Why this matters: the same resource-policy statement means different things for different callers (IAM User
Guide, "Policy evaluation logic", the same-account table). A grant naming an IAM user or a role *session* is a
direct grant that an implicit deny in identity policies, boundaries or session policies cannot remove; a grant
naming the *role* is limited by the role's boundary and session policy; a grant naming the *account* only
delegates to IAM. So the kind is derived explicitly from the ARN and every caller carries the list of
identities ("layers") a Principal/NotPrincipal element can name: account, role, session.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass
from functools import lru_cache

from seclab.engines.iam.errors import RequestError

_ACCOUNT_RE = re.compile(r"^\d{12}$")
_ARN_RE = re.compile(r"^arn:([^:]*):([^:]*):([^:]*):([^:]*):(.*)$", re.DOTALL)


class PrincipalKind(str, enum.Enum):
    USER = "user"
    ROLE = "role"  # a role ARN used as the caller: treated as a session of that role with no known session name
    ROLE_SESSION = "role_session"  # arn:aws:sts::A:assumed-role/Role/Session
    FEDERATED_USER = "federated_user"  # arn:aws:sts::A:federated-user/Name (GetFederationToken)
    ROOT = "root"  # the account root user
    SERVICE = "service"  # an AWS service principal (sagemaker.amazonaws.com) or a web-identity provider name
    FEDERATED = "federated"  # a SAML/OIDC provider ARN (AssumeRoleWithSAML / WithWebIdentity)
    ANONYMOUS = "anonymous"  # an unsigned request ("*")


IAM_KINDS = frozenset(
    {PrincipalKind.USER, PrincipalKind.ROLE, PrincipalKind.ROLE_SESSION, PrincipalKind.FEDERATED_USER}
)


def account_key(account: str) -> str:
    """How an account principal is compared: `123456789012` and `arn:aws:iam::123456789012:root` are the same."""
    return f"acct:{account}"


def normalise_aws_principal(value: str) -> str:
    """A Principal "AWS" value in comparable form (account ids and account-root ARNs collapse to one key)."""
    if _ACCOUNT_RE.match(value):
        return account_key(value)
    m = _ARN_RE.match(value)
    if m and m.group(2) == "iam" and m.group(5) == "root" and _ACCOUNT_RE.match(m.group(4)):
        return account_key(m.group(4))
    return value


@dataclass(frozen=True, slots=True)
class Caller:
    arn: str
    kind: PrincipalKind
    account: str | None
    partition: str
    role_arn: str | None  # the role behind a session (or the role itself)
    federating_user_arn: str | None  # the IAM user behind a federated-user session (path unknown: none assumed)
    service_linked: bool
    layers: tuple[str, ...]  # normalised identities, outermost first (account, role, session)
    has_identity_policies: bool = False  # set from `kind`: users, roles, sessions, federated users

    def __post_init__(self) -> None:
        object.__setattr__(self, "has_identity_policies", self.kind in IAM_KINDS)

    def short(self) -> str:
        """A readable name: "role/MLOps", "user/alice", "sagemaker.amazonaws.com"."""
        m = _ARN_RE.match(self.arn)
        return m.group(5) if m else self.arn


@lru_cache(maxsize=4096)
def parse_caller(principal_arn: str, principal_account: str | None, principal_arn_key: str | None = None) -> Caller:
    """Classify a caller. `principal_arn_key` is the request's aws:PrincipalArn, used (only) to learn the role
    path of a session, because a session ARN omits it."""
    arn = principal_arn.strip() if isinstance(principal_arn, str) else ""
    if not arn:
        raise RequestError("the request has no principal_arn")
    if arn in ("*", "anonymous"):
        return Caller(arn, PrincipalKind.ANONYMOUS, None, "aws", None, None, False, ())
    m = _ARN_RE.match(arn)
    if m is None:
        if "." in arn and " " not in arn:
            return Caller(arn, PrincipalKind.SERVICE, None, "aws", None, None, False, (arn.lower(),))
        raise RequestError(
            f"principal_arn {arn!r} is not an ARN, a service principal (x.amazonaws.com) or '*' (anonymous)"
        )
    partition, service, _region, acct, rest = m.groups()
    account = principal_account or acct or None
    if acct and principal_account and acct != principal_account:
        raise RequestError(f"principal_arn {arn} is in account {acct}, but principal_account says {principal_account}")
    if not account:
        raise RequestError(f"principal_arn {arn} names no account")
    akey = account_key(account)
    if service == "iam":
        if rest == "root":
            return Caller(arn, PrincipalKind.ROOT, account, partition, None, None, False, (akey,))
        if rest.startswith("user/"):
            return Caller(arn, PrincipalKind.USER, account, partition, None, None, False, (akey, arn))
        if rest.startswith("role/"):
            slr = rest.startswith("role/aws-service-role/")
            return Caller(arn, PrincipalKind.ROLE, account, partition, arn, None, slr, (akey, arn))
        if rest.startswith(("saml-provider/", "oidc-provider/")):
            return Caller(arn, PrincipalKind.FEDERATED, account, partition, None, None, False, (arn,))
    if service == "sts":
        if rest.startswith("assumed-role/"):
            parts = rest.split("/")
            if len(parts) < 3 or not parts[1]:
                raise RequestError(f"session ARN {arn} should be arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION")
            role_name = parts[1]
            role_arn = f"arn:{partition}:iam::{account}:role/{role_name}"
            if principal_arn_key and re.match(
                rf"^arn:[^:]*:iam::{account}:role/(.*/)?{re.escape(role_name)}$", principal_arn_key
            ):
                role_arn = principal_arn_key
            slr = "/aws-service-role/" in role_arn or role_name.startswith("AWSServiceRoleFor")
            layers = (akey, role_arn, arn)
            return Caller(arn, PrincipalKind.ROLE_SESSION, account, partition, role_arn, None, slr, layers)
        if rest.startswith("federated-user/"):
            user = rest[len("federated-user/") :]
            user_arn = f"arn:{partition}:iam::{account}:user/{user}"
            return Caller(arn, PrincipalKind.FEDERATED_USER, account, partition, None, user_arn, False, (akey, arn))
    raise RequestError(
        f"principal_arn {arn} is not a user, role, role session, federated user or account root ARN",
    )
