"""The explicit context-inference layer: the request context AWS would build, from facts a grader knows.

Why separate from the evaluator: the evaluator treats the context as authoritative so a test can express "this key
is absent" (PMapper's silent inference of aws:username or aws:SecureTransport makes that impossible). Graders,
however, usually know only "role X calls over TLS from this VPC"; this module turns those facts into the keys AWS
documents (IAM User Guide, "AWS global condition context keys" and the principal key-value table in
"IAM policy elements: Variables and tags") and nothing more. Call it explicitly and merge its result into
Request.context.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timezone

from seclab.engines.iam.principals import PrincipalKind, parse_caller

_PRINCIPAL_TYPE = {
    PrincipalKind.USER: "User",
    PrincipalKind.ROLE: "AssumedRole",
    PrincipalKind.ROLE_SESSION: "AssumedRole",
    PrincipalKind.FEDERATED_USER: "FederatedUser",
    PrincipalKind.ROOT: "Account",
    PrincipalKind.ANONYMOUS: "Anonymous",
}


def infer_context(
    principal_arn: str,
    principal_account: str | None = None,
    *,
    secure_transport: bool | None = True,
    region: str | None = None,
    source_ip: str | None = None,
    source_vpc: str | None = None,
    source_vpce: str | None = None,
    mfa: bool | None = None,
    current_time: datetime | None = None,
    principal_tags: Mapping[str, str] | None = None,
    org_id: str | None = None,
    org_paths: Sequence[str] | None = None,
    user_id: str | None = None,
    source_account: str | None = None,
    source_arn: str | None = None,
    via_aws_service: bool | None = None,
) -> dict[str, str | list[str]]:
    """Context keys derivable from the caller's ARN plus the facts given; a fact left None adds no key.

    - aws:PrincipalArn: the user ARN, the role ARN for a role session (not the session ARN), the root ARN.
    - aws:username: only for IAM users (absent for roles, sessions and root, as documented).
    - aws:PrincipalAccount, aws:PrincipalType, aws:PrincipalIsAWSService.
    - aws:MultiFactorAuthPresent is only added when `mfa` is given (it is absent for long-term access keys).
    - aws:CurrentTime / aws:EpochTime from `current_time`; aws:PrincipalTag/<k> from `principal_tags`.
    """
    caller = parse_caller(principal_arn, principal_account)
    ctx: dict[str, str | list[str]] = {}
    kind = caller.kind
    if kind is PrincipalKind.SERVICE:
        ctx["aws:PrincipalIsAWSService"] = "true"
        ctx["aws:PrincipalServiceName"] = caller.arn
        if source_account:
            ctx["aws:SourceAccount"] = source_account
        if source_arn:
            ctx["aws:SourceArn"] = source_arn
    elif kind is not PrincipalKind.ANONYMOUS:
        ctx["aws:PrincipalIsAWSService"] = "false"
    if caller.account:
        ctx["aws:PrincipalAccount"] = caller.account
    if kind in _PRINCIPAL_TYPE:
        ctx["aws:PrincipalType"] = _PRINCIPAL_TYPE[kind]
    if kind is PrincipalKind.ROOT:
        ctx["aws:PrincipalArn"] = caller.arn
    elif kind is PrincipalKind.USER:
        ctx["aws:PrincipalArn"] = caller.arn
        ctx["aws:username"] = caller.arn.rsplit("/", 1)[-1]
    elif kind in (PrincipalKind.ROLE, PrincipalKind.ROLE_SESSION) and caller.role_arn:
        ctx["aws:PrincipalArn"] = caller.role_arn
    elif kind is PrincipalKind.FEDERATED_USER:
        ctx["aws:PrincipalArn"] = caller.arn
    if user_id:
        ctx["aws:userid"] = user_id
    if secure_transport is not None:
        ctx["aws:SecureTransport"] = "true" if secure_transport else "false"
    if region:
        ctx["aws:RequestedRegion"] = region
    if source_ip:
        ctx["aws:SourceIp"] = source_ip
    if source_vpc:
        ctx["aws:SourceVpc"] = source_vpc
    if source_vpce:
        ctx["aws:SourceVpce"] = source_vpce
    if mfa is not None:
        ctx["aws:MultiFactorAuthPresent"] = "true" if mfa else "false"
    if current_time is not None:
        t = current_time if current_time.tzinfo else current_time.replace(tzinfo=timezone.utc)
        ctx["aws:CurrentTime"] = t.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        ctx["aws:EpochTime"] = str(int(t.timestamp()))
    for key, value in (principal_tags or {}).items():
        ctx[f"aws:PrincipalTag/{key}"] = value
    if org_id and kind not in (PrincipalKind.SERVICE, PrincipalKind.ANONYMOUS):
        ctx["aws:PrincipalOrgID"] = org_id
    if org_paths and kind not in (PrincipalKind.SERVICE, PrincipalKind.ANONYMOUS):
        ctx["aws:PrincipalOrgPaths"] = list(org_paths)
    if via_aws_service is not None:
        ctx["aws:ViaAWSService"] = "true" if via_aws_service else "false"
    return ctx
