"""Collect the inventory: the one place grading reads the simulator.

Why one collector: checks and engines must judge one consistent snapshot, read once, out of the learner's kernel,
with seclab's admin identity. Each section is read independently; a section that cannot be read is recorded in
`errors` (never an empty list that would let a check PASS), and the simulator being down is one clear error.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from typing import Any
from urllib.parse import unquote

import boto3
from botocore.config import Config
from botocore.loaders import Loader, create_loader
from botocore.parsers import ResponseParserError
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectTimeoutError,
    EndpointConnectionError,
    ReadTimeoutError,
)

from seclab.errors import SimulatorUnavailable

from .model import (
    Acm,
    AccountInventory,
    Bucket,
    CloudTrail,
    Ec2,
    Ecr,
    Elbv2,
    IdentityCenter,
    Iam,
    Key,
    Kms,
    Logs,
    Organization,
    OrgInventory,
    Record,
    S3,
    SageMaker,
)

SessionFactory = Callable[[str], boto3.Session]

MAX_OBJECTS_PER_BUCKET = 500
MAX_EVENTS = 5000
MAX_LOG_EVENTS = 5000
_CONFIG = Config(
    connect_timeout=5,
    read_timeout=60,
    retries={"max_attempts": 2, "mode": "standard"},
    s3={"addressing_style": "path"},
    max_pool_connections=32,
)
_DOWN = (EndpointConnectionError, ConnectTimeoutError, ReadTimeoutError)
_SHARED_LOADER: Loader | None = None
_EBS_KEY_UNSUPPORTED = False


def _share_loader(session: boto3.Session) -> None:
    """Let every session of this process share one model loader: loading a service model (ec2 alone takes ~0.1 s)
    then happens once per process, not once per account."""
    global _SHARED_LOADER
    if _SHARED_LOADER is None:
        _SHARED_LOADER = create_loader()
    session._session.register_component("data_loader", _SHARED_LOADER)


class _Clients:
    """botocore clients for one session, one per service, created once: creating a client costs more than most
    reads (EC2's ~15 ms warm), so a session's clients are kept with it and shared by every thread."""

    def __init__(self, session: boto3.Session) -> None:
        _share_loader(session)
        self._session = session
        self._clients: dict[str, Any] = {}
        self._lock = threading.Lock()

    def get(self, service: str) -> Any:
        with self._lock:
            if service not in self._clients:
                self._clients[service] = self._session.client(service, config=_CONFIG)
            return self._clients[service]

    @staticmethod
    def of(session: boto3.Session) -> _Clients:
        clients = getattr(session, "_seclab_clients", None)
        if clients is None:
            clients = _Clients(session)
            session._seclab_clients = clients  # type: ignore[attr-defined]
        return clients


class _BoundPaginator:
    def __init__(self, paginator: Any, account: str) -> None:
        self._paginator = paginator
        self._account = account

    def paginate(self, **kwargs: Any) -> Iterator[Any]:
        from seclab.sim.sessions import acting_in

        pages = iter(self._paginator.paginate(**kwargs))
        while True:
            with acting_in(self._account):  # each page is a request of its own
                try:
                    page = next(pages)
                except StopIteration:
                    return
            yield page


class _BoundClient:
    """A shared admin client whose every request acts in one account (see sessions.shared_admin_session)."""

    def __init__(self, client: Any, account: str) -> None:
        self._client = client
        self._account = account

    def get_paginator(self, operation: str) -> _BoundPaginator:
        return _BoundPaginator(self._client.get_paginator(operation), self._account)

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._client, name)
        if name not in self._client.meta.method_to_api_mapping:
            return attr  # meta, exceptions, can_paginate: no request

        def call(*args: Any, **kwargs: Any) -> Any:
            from seclab.sim.sessions import acting_in

            with acting_in(self._account):
                return attr(*args, **kwargs)

        return call


class _Reader:
    """The clients for one account, shared by the section readers."""

    def __init__(self, account_id: str, session_factory: SessionFactory | None, region: str) -> None:
        self.account_id = account_id
        if session_factory is None:
            from seclab.sim.sessions import shared_admin_session

            session = shared_admin_session(region)
            self._bound = True
        else:
            session = session_factory(account_id)
            self._bound = False
        self._clients = _Clients.of(session)
        self.region = session.region_name or region

    def client(self, service: str) -> Any:
        client = self._clients.get(service)
        return _BoundClient(client, self.account_id) if self._bound else client

    def pages(self, service: str, operation: str, key: str, **kwargs: Any) -> list[Record]:
        client = self.client(service)
        if client.can_paginate(operation):
            out: list[Record] = []
            for page in client.get_paginator(operation).paginate(**kwargs):
                out.extend(page.get(key, []))
            return out
        return list(getattr(client, operation)(**kwargs).get(key, []))


def _parse_policy(doc: Any) -> Any:
    """Policy documents arrive as dicts, JSON strings or URL-encoded JSON strings; return a dict (or the raw text
    when it is not JSON, so an engine can report it as malformed rather than the collector hiding it)."""
    if doc is None or isinstance(doc, dict):
        return doc
    if isinstance(doc, str):
        for text in (doc, unquote(doc)):
            try:
                return json.loads(text)
            except ValueError:
                continue
    return doc


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


# --------------------------------------------------------------------------------------------------- sections


def _iam(r: _Reader) -> Iam:
    iam = r.client("iam")
    users: list[Record] = []
    groups: list[Record] = []
    roles: list[Record] = []
    local: list[Record] = []
    paginator = iam.get_paginator("get_account_authorization_details")
    for page in paginator.paginate(Filter=["User", "Role", "Group", "LocalManagedPolicy"]):
        users += page.get("UserDetailList", [])
        groups += page.get("GroupDetailList", [])
        roles += page.get("RoleDetailList", [])
        local += page.get("Policies", [])

    def fix_inline(rec: Mapping[str, Any], key: str) -> dict[str, Any]:
        out = dict(rec)
        out[key] = [dict(p, PolicyDocument=_parse_policy(p.get("PolicyDocument"))) for p in rec.get(key, [])]
        return out

    users = [fix_inline(u, "UserPolicyList") for u in users]
    groups = [fix_inline(g, "GroupPolicyList") for g in groups]
    roles = [
        dict(fix_inline(x, "RolePolicyList"), AssumeRolePolicyDocument=_parse_policy(x.get("AssumeRolePolicyDocument")))
        for x in roles
    ]
    policies: dict[str, Record] = {}
    for p in local:
        default = next((v for v in p.get("PolicyVersionList", []) if v.get("IsDefaultVersion")), None)
        policies[p["Arn"]] = dict(p, Document=_parse_policy(default.get("Document")) if default else None)
    referenced: set[str] = set()
    for rec in (*users, *groups, *roles):
        referenced.update(a["PolicyArn"] for a in rec.get("AttachedManagedPolicies", []))
        boundary = rec.get("PermissionsBoundary") or {}
        if boundary.get("PermissionsBoundaryArn"):
            referenced.add(boundary["PermissionsBoundaryArn"])
    for arn in sorted(referenced - policies.keys()):
        try:
            meta = iam.get_policy(PolicyArn=arn)["Policy"]
            version = iam.get_policy_version(PolicyArn=arn, VersionId=meta["DefaultVersionId"])["PolicyVersion"]
            policies[arn] = dict(meta, Document=_parse_policy(version.get("Document")))
        except ClientError as exc:
            if _code(exc) != "NoSuchEntity":
                raise
            policies[arn] = {"Arn": arn, "Missing": True, "Document": None}
    return Iam(users=tuple(users), groups=tuple(groups), roles=tuple(roles), policies=policies)


def _bucket(r: _Reader, name: str) -> Bucket:
    s3 = r.client("s3")

    def get(call: Callable[[], Any], missing: set[str]) -> Any:
        try:
            return call()
        except ClientError as exc:
            if _code(exc) in missing:
                return None
            raise

    location = get(lambda: s3.get_bucket_location(Bucket=name).get("LocationConstraint"), set()) or "us-east-1"
    policy = get(lambda: s3.get_bucket_policy(Bucket=name)["Policy"], {"NoSuchBucketPolicy"})
    enc = get(
        lambda: s3.get_bucket_encryption(Bucket=name)["ServerSideEncryptionConfiguration"],
        {"ServerSideEncryptionConfigurationNotFoundError"},
    )
    pab = get(
        lambda: s3.get_public_access_block(Bucket=name)["PublicAccessBlockConfiguration"],
        {"NoSuchPublicAccessBlockConfiguration"},
    )
    versioning = get(lambda: s3.get_bucket_versioning(Bucket=name).get("Status"), set())
    ownership = get(
        lambda: s3.get_bucket_ownership_controls(Bucket=name)["OwnershipControls"]["Rules"][0]["ObjectOwnership"],
        {"OwnershipControlsNotFoundError"},
    )
    logging = get(lambda: s3.get_bucket_logging(Bucket=name).get("LoggingEnabled"), set())
    objects: list[Record] = []
    truncated = False
    listing = s3.list_objects_v2(Bucket=name, MaxKeys=MAX_OBJECTS_PER_BUCKET)
    truncated = bool(listing.get("IsTruncated"))
    for obj in listing.get("Contents", []):
        head = s3.head_object(Bucket=name, Key=obj["Key"])
        objects.append(
            {
                "Key": obj["Key"],
                "Size": obj.get("Size"),
                "ETag": obj.get("ETag"),
                "ServerSideEncryption": head.get("ServerSideEncryption"),
                "SSEKMSKeyId": head.get("SSEKMSKeyId"),
                "BucketKeyEnabled": head.get("BucketKeyEnabled"),
                "LastModified": obj.get("LastModified"),
            }
        )
    return Bucket(
        name=name,
        arn=f"arn:aws:s3:::{name}",
        region=location,
        policy=_parse_policy(policy),
        encryption=enc,
        public_access_block=pab,
        versioning=versioning,
        ownership=ownership,
        logging=logging,
        objects=tuple(objects),
        objects_truncated=truncated,
    )


def _s3(r: _Reader) -> S3:
    names = [b["Name"] for b in r.client("s3").list_buckets().get("Buckets", [])]
    with ThreadPoolExecutor(max_workers=4) as pool:
        return S3(buckets=tuple(pool.map(lambda n: _bucket(r, n), sorted(names))))


def _kms(r: _Reader) -> Kms:
    kms = r.client("kms")
    aliases = r.pages("kms", "list_aliases", "Aliases")
    by_key: dict[str, list[str]] = {}
    for a in aliases:
        if a.get("TargetKeyId"):
            by_key.setdefault(a["TargetKeyId"], []).append(a["AliasName"])
    def one_key(kid: str) -> Key:
        meta = kms.describe_key(KeyId=kid)["KeyMetadata"]
        try:
            policy = _parse_policy(kms.get_key_policy(KeyId=kid, PolicyName="default")["Policy"])
        except ClientError:
            policy = None
        try:
            rotation: bool | None = bool(kms.get_key_rotation_status(KeyId=kid).get("KeyRotationEnabled"))
        except ClientError:
            rotation = None
        try:
            grants = tuple(kms.list_grants(KeyId=kid).get("Grants", []))
        except ClientError:
            grants = ()
        return Key(metadata=meta, policy=policy, rotation_enabled=rotation,
                   aliases=tuple(sorted(by_key.get(kid, []))), grants=grants)

    with ThreadPoolExecutor(max_workers=4) as pool:
        keys = list(pool.map(one_key, [e["KeyId"] for e in r.pages("kms", "list_keys", "Keys")]))
    return Kms(keys=tuple(keys), aliases=tuple(aliases))


def _ec2(r: _Reader) -> Ec2:
    ec2 = r.client("ec2")

    def tgw_tables() -> list[Record]:
        tables = []
        for t in r.pages("ec2", "describe_transit_gateway_route_tables", "TransitGatewayRouteTables"):
            tid = t["TransitGatewayRouteTableId"]
            assoc = r.pages("ec2", "get_transit_gateway_route_table_associations", "Associations",
                            TransitGatewayRouteTableId=tid)
            props = r.pages("ec2", "get_transit_gateway_route_table_propagations",
                            "TransitGatewayRouteTablePropagations", TransitGatewayRouteTableId=tid)
            routes = ec2.search_transit_gateway_routes(
                TransitGatewayRouteTableId=tid,
                Filters=[{"Name": "state", "Values": ["active", "blackhole"]}],
            ).get("Routes", [])
            tables.append(dict(t, Associations=assoc, Propagations=props, Routes=routes))
        return tables

    def prefix_lists(referenced: set[str]) -> list[Record]:
        """Every prefix list, with entries for the ones that matter: the account's own and any a security group or
        route refers to (each account sees a dozen AWS-managed lists nobody uses; reading theirs costs a call each)."""
        out = []
        for pl in r.pages("ec2", "describe_managed_prefix_lists", "PrefixLists"):
            entries: list[Record] = []
            if pl.get("OwnerId") != "AWS" or pl["PrefixListId"] in referenced:
                try:
                    entries = ec2.get_managed_prefix_list_entries(PrefixListId=pl["PrefixListId"]).get("Entries", [])
                except ClientError:
                    entries = []
            out.append(dict(pl, Entries=entries))
        return out

    def endpoints() -> list[Record]:
        return [dict(e, PolicyDocument=_parse_policy(e.get("PolicyDocument")))
                for e in r.pages("ec2", "describe_vpc_endpoints", "VpcEndpoints")]

    def ebs_key() -> str | None:
        global _EBS_KEY_UNSUPPORTED
        if _EBS_KEY_UNSUPPORTED:
            return None
        try:
            return ec2.get_ebs_default_kms_key_id().get("KmsKeyId")
        except (ClientError, BotoCoreError, ResponseParserError):  # not implemented by the simulator: ask once
            _EBS_KEY_UNSUPPORTED = True
            return None  # AWS's default is then alias/aws/ebs

    calls: dict[str, Callable[[], Any]] = {
        "vpcs": lambda: r.pages("ec2", "describe_vpcs", "Vpcs"),
        "subnets": lambda: r.pages("ec2", "describe_subnets", "Subnets"),
        "route_tables": lambda: r.pages("ec2", "describe_route_tables", "RouteTables"),
        "internet_gateways": lambda: r.pages("ec2", "describe_internet_gateways", "InternetGateways"),
        "egress_only_internet_gateways": lambda: r.pages(
            "ec2", "describe_egress_only_internet_gateways", "EgressOnlyInternetGateways"),
        "nat_gateways": lambda: r.pages("ec2", "describe_nat_gateways", "NatGateways"),
        "security_groups": lambda: r.pages("ec2", "describe_security_groups", "SecurityGroups"),
        "network_acls": lambda: r.pages("ec2", "describe_network_acls", "NetworkAcls"),
        "network_interfaces": lambda: r.pages("ec2", "describe_network_interfaces", "NetworkInterfaces"),
        "vpc_endpoints": endpoints,
        "vpc_peering_connections": lambda: r.pages("ec2", "describe_vpc_peering_connections",
                                                   "VpcPeeringConnections"),
        "transit_gateways": lambda: r.pages("ec2", "describe_transit_gateways", "TransitGateways"),
        "transit_gateway_attachments": lambda: r.pages("ec2", "describe_transit_gateway_attachments",
                                                       "TransitGatewayAttachments"),
        "flow_logs": lambda: r.pages("ec2", "describe_flow_logs", "FlowLogs"),
        "addresses": lambda: ec2.describe_addresses().get("Addresses", []),
        "ebs_encryption_by_default": lambda: ec2.get_ebs_encryption_by_default().get("EbsEncryptionByDefault"),
        "ebs_default_kms_key_id": ebs_key,
    }
    # the describe calls are independent: overlapping them hides the client-side parsing of large EC2 answers
    with ThreadPoolExecutor(max_workers=6) as pool:
        futures = {name: pool.submit(fn) for name, fn in calls.items()}
        got = {name: fut.result() for name, fut in futures.items()}
    referenced = {str(p.get("PrefixListId")) for sg in got["security_groups"]
                  for perm in (*sg.get("IpPermissions", []), *sg.get("IpPermissionsEgress", []))
                  for p in perm.get("PrefixListIds", [])}
    referenced |= {str(rt_route.get("DestinationPrefixListId")) for rt in got["route_tables"]
                   for rt_route in rt.get("Routes", []) if rt_route.get("DestinationPrefixListId")}
    got["managed_prefix_lists"] = prefix_lists(referenced)
    # a TGW's route tables belong to its owner (RAM shares the gateway, never its tables): only an owner has any
    owns_tgw = any(t.get("OwnerId") in (None, r.account_id) for t in got["transit_gateways"])
    got["transit_gateway_route_tables"] = tgw_tables() if owns_tgw else []
    return Ec2(**{name: (tuple(v) if isinstance(v, list) else v) for name, v in got.items()})


def _sagemaker(r: _Reader) -> SageMaker:
    sm = r.client("sagemaker")

    def each(list_op: str, key: str, name_key: str, describe: str, arg: str) -> tuple[Record, ...]:
        out = []
        for item in r.pages("sagemaker", list_op, key):
            rec = getattr(sm, describe)(**{arg: item[name_key]})
            rec.pop("ResponseMetadata", None)
            out.append(rec)
        return tuple(out)

    return SageMaker(
        models=each("list_models", "Models", "ModelName", "describe_model", "ModelName"),
        endpoint_configs=each("list_endpoint_configs", "EndpointConfigs", "EndpointConfigName",
                              "describe_endpoint_config", "EndpointConfigName"),
        endpoints=each("list_endpoints", "Endpoints", "EndpointName", "describe_endpoint", "EndpointName"),
        training_jobs=each("list_training_jobs", "TrainingJobSummaries", "TrainingJobName",
                           "describe_training_job", "TrainingJobName"),
        processing_jobs=each("list_processing_jobs", "ProcessingJobSummaries", "ProcessingJobName",
                             "describe_processing_job", "ProcessingJobName"),
        notebook_instances=each("list_notebook_instances", "NotebookInstances", "NotebookInstanceName",
                                "describe_notebook_instance", "NotebookInstanceName"),
    )


def _logs(r: _Reader) -> Logs:
    logs = r.client("logs")
    groups = r.pages("logs", "describe_log_groups", "logGroups")
    events: dict[str, tuple[Record, ...]] = {}
    for g in groups:
        if not g.get("storedBytes") and not logs.describe_log_streams(
                logGroupName=g["logGroupName"], limit=1).get("logStreams"):
            continue
        got: list[Record] = []
        kwargs: dict[str, Any] = {"logGroupName": g["logGroupName"], "limit": 1000}
        while len(got) < MAX_LOG_EVENTS:
            page = logs.filter_log_events(**kwargs)
            got.extend(page.get("events", []))
            if not page.get("nextToken"):
                break
            kwargs["nextToken"] = page["nextToken"]
        events[g["logGroupName"]] = tuple(got[:MAX_LOG_EVENTS])
    return Logs(
        log_groups=tuple(groups),
        resource_policies=tuple(logs.describe_resource_policies().get("resourcePolicies", [])),
        events=events,
    )


def _cloudtrail(r: _Reader) -> CloudTrail:
    ct = r.client("cloudtrail")
    trails = []
    for t in ct.describe_trails(includeShadowTrails=False).get("trailList", []):
        status = ct.get_trail_status(Name=t["TrailARN"])
        status.pop("ResponseMetadata", None)
        try:
            sel = ct.get_event_selectors(TrailName=t["TrailARN"])
            sel.pop("ResponseMetadata", None)
        except ClientError:
            sel = {}
        trails.append(dict(t, Status=status, EventSelectors=sel))
    events: list[Record] = []
    truncated = False
    token: str | None = None
    while True:
        page = ct.lookup_events(MaxResults=50, **({"NextToken": token} if token else {}))
        for ev in page.get("Events", []):
            events.append(dict(ev, CloudTrailEvent=_parse_policy(ev.get("CloudTrailEvent"))))
        token = page.get("NextToken")
        if not token:
            break
        if len(events) >= MAX_EVENTS:
            truncated = True
            break
    return CloudTrail(trails=tuple(trails), events=tuple(events), events_truncated=truncated)


def _ecr(r: _Reader) -> Ecr:
    ecr = r.client("ecr")
    repos = []
    for repo in r.pages("ecr", "describe_repositories", "repositories"):
        try:
            policy = _parse_policy(ecr.get_repository_policy(repositoryName=repo["repositoryName"])["policyText"])
        except ClientError as exc:
            if _code(exc) != "RepositoryPolicyNotFoundException":
                raise
            policy = None
        repos.append(dict(repo, Policy=policy))
    return Ecr(repositories=tuple(repos))


def _elbv2(r: _Reader) -> Elbv2:
    lbs = r.pages("elbv2", "describe_load_balancers", "LoadBalancers")
    listeners: list[Record] = []
    for lb in lbs:
        listeners += r.pages("elbv2", "describe_listeners", "Listeners", LoadBalancerArn=lb["LoadBalancerArn"])
    ssl: list[Record] = []
    if any(lst.get("SslPolicy") for lst in listeners):
        names = sorted({lst["SslPolicy"] for lst in listeners if lst.get("SslPolicy")})
        try:
            ssl = r.client("elbv2").describe_ssl_policies(Names=names).get("SslPolicies", [])
        except ClientError:
            ssl = []
    return Elbv2(
        load_balancers=tuple(lbs),
        listeners=tuple(listeners),
        target_groups=tuple(r.pages("elbv2", "describe_target_groups", "TargetGroups")),
        ssl_policies=tuple(ssl),
    )


def _acm(r: _Reader) -> Acm:
    acm = r.client("acm")
    certs = []
    for c in r.pages("acm", "list_certificates", "CertificateSummaryList"):
        certs.append(acm.describe_certificate(CertificateArn=c["CertificateArn"])["Certificate"])
    return Acm(certificates=tuple(certs))


def _organizations(r: _Reader, account_id: str) -> Organization | None:
    org = r.client("organizations")
    try:
        desc = org.describe_organization()["Organization"]
    except ClientError as exc:
        if _code(exc) in ("AWSOrganizationsNotInUseException",):
            return None
        raise
    if desc.get("MasterAccountId") != account_id:
        return None
    roots = r.pages("organizations", "list_roots", "Roots")
    ous: list[Record] = []
    accounts: list[Record] = []
    queue = [root["Id"] for root in roots]
    while queue:
        parent = queue.pop(0)
        for ou in r.pages("organizations", "list_organizational_units_for_parent", "OrganizationalUnits",
                          ParentId=parent):
            ous.append(dict(ou, ParentId=parent))
            queue.append(ou["Id"])
        for acct in r.pages("organizations", "list_accounts_for_parent", "Accounts", ParentId=parent):
            accounts.append(dict(acct, ParentId=parent))
    policies: list[Record] = []
    for ptype in ("SERVICE_CONTROL_POLICY", "RESOURCE_CONTROL_POLICY"):
        try:
            summaries = r.pages("organizations", "list_policies", "Policies", Filter=ptype)
        except ClientError:
            continue
        for p in summaries:
            content = org.describe_policy(PolicyId=p["Id"])["Policy"].get("Content")
            targets = r.pages("organizations", "list_targets_for_policy", "Targets", PolicyId=p["Id"])
            policies.append(dict(p, Type=ptype, Content=_parse_policy(content), Targets=targets))
    return Organization(organization=desc, roots=tuple(roots), ous=tuple(ous), accounts=tuple(accounts),
                        policies=tuple(policies))


def _identity_center(r: _Reader, account_id: str) -> IdentityCenter | None:
    sso = r.client("sso-admin")
    instances = sso.list_instances().get("Instances", [])
    mine = [i for i in instances if i.get("OwnerAccountId") in (None, account_id)]
    if not mine:
        return None
    inst = mine[0]
    arn = inst["InstanceArn"]
    psets: list[Record] = []
    assignments: list[Record] = []
    # Assignments are found per (account, permission set) over every account of the organization, or per principal
    # of the identity store, whichever takes fewer calls. (ListAccountsForProvisionedPermissionSet would name the
    # accounts, but the simulator only ever returns the caller's own.)
    org_accounts = [account_id]
    try:
        org_accounts += [a["Id"] for a in r.pages("organizations", "list_accounts", "Accounts")
                         if a["Id"] != account_id]
    except ClientError:
        pass  # no organization: the home account only
    store = inst.get("IdentityStoreId", "")
    users: list[Record] = []
    groups: list[Record] = []
    if store:
        try:
            users = r.pages("identitystore", "list_users", "Users", IdentityStoreId=store)
            groups = r.pages("identitystore", "list_groups", "Groups", IdentityStoreId=store)
        except ClientError:
            pass
    ps_arns = r.pages("sso-admin", "list_permission_sets", "PermissionSets", InstanceArn=arn)
    principals = [("USER", str(u["UserId"])) for u in users] + [("GROUP", str(g["GroupId"])) for g in groups]
    # assignments can be listed per (account, permission set) or per principal: take the fewer calls
    by_principal = bool(principals) and len(principals) < len(ps_arns) * len(org_accounts)

    def one_set(ps_arn: str) -> tuple[Record, list[Record]]:
        ps = sso.describe_permission_set(InstanceArn=arn, PermissionSetArn=ps_arn)["PermissionSet"]
        inline = sso.get_inline_policy_for_permission_set(InstanceArn=arn, PermissionSetArn=ps_arn).get("InlinePolicy")
        managed = r.pages("sso-admin", "list_managed_policies_in_permission_set", "AttachedManagedPolicies",
                          InstanceArn=arn, PermissionSetArn=ps_arn)
        try:
            cmp = r.pages("sso-admin", "list_customer_managed_policy_references_in_permission_set",
                          "CustomerManagedPolicyReferences", InstanceArn=arn, PermissionSetArn=ps_arn)
        except ClientError:
            cmp = []
        found: list[Record] = []
        for acct in ([] if by_principal else org_accounts):
            found += r.pages("sso-admin", "list_account_assignments", "AccountAssignments",
                             InstanceArn=arn, AccountId=acct, PermissionSetArn=ps_arn)
        return dict(ps, InlinePolicy=_parse_policy(inline) if inline else None,
                    ManagedPolicies=[m["Arn"] for m in managed], CustomerManagedPolicyReferences=cmp), found

    # permission sets are independent: reading them side by side keeps this section off the critical path
    with ThreadPoolExecutor(max_workers=4) as pool:
        done = list(pool.map(one_set, ps_arns))
        if by_principal:
            def for_principal(p: tuple[str, str]) -> list[Record]:
                return r.pages("sso-admin", "list_account_assignments_for_principal", "AccountAssignments",
                               InstanceArn=arn, PrincipalType=p[0], PrincipalId=p[1])
            assignments += [a for found in pool.map(for_principal, principals) for a in found]
    for ps_record, found in done:
        psets.append(ps_record)
        assignments += found
    return IdentityCenter(instance_arn=arn, identity_store_id=store, permission_sets=tuple(psets),
                          assignments=tuple(assignments), users=tuple(users), groups=tuple(groups))


SECTIONS: dict[str, Callable[..., Any]] = {
    "iam": _iam,
    "s3": _s3,
    "kms": _kms,
    "ec2": _ec2,
    "sagemaker": _sagemaker,
    "logs": _logs,
    "cloudtrail": _cloudtrail,
    "ecr": _ecr,
    "elbv2": _elbv2,
    "acm": _acm,
}


def collect_account(
    account_id: str,
    session_factory: SessionFactory | None = None,
    sections: Iterable[str] | None = None,
    region: str = "us-east-1",
) -> AccountInventory:
    """Read one account. `sections` limits what is read (all by default); unread sections stay empty and are not
    errors. The simulator being unreachable raises SimulatorUnavailable (the caller cannot grade anything).

    Reads go through the shared admin session (one client per service for every account) unless `session_factory`
    gives a session of its own for the account (e.g. to read as a learner would)."""
    reader = _Reader(account_id, session_factory, region)
    wanted = list(sections) if sections is not None else [*SECTIONS, "organizations", "identity_center"]
    results: dict[str, Any] = {}
    errors: dict[str, str] = {}

    def run(name: str) -> None:
        try:
            if name == "organizations":
                results[name] = _organizations(reader, account_id)
            elif name == "identity_center":
                results[name] = _identity_center(reader, account_id)
            else:
                results[name] = SECTIONS[name](reader)
        except _DOWN as exc:
            raise SimulatorUnavailable(
                f"the simulator did not answer while reading {name} ({type(exc).__name__})",
                "Is it running? Try: seclab sim status (then seclab sim start).",
            ) from exc
        except ClientError as exc:
            err = exc.response.get("Error", {})
            errors[name] = f"{err.get('Code', 'Error')}: {err.get('Message', '')}".strip()
        except (BotoCoreError, ResponseParserError) as exc:
            errors[name] = f"{type(exc).__name__}: {exc}"

    unknown = [n for n in wanted if n not in SECTIONS and n not in ("organizations", "identity_center")]
    if unknown:
        raise ValueError(f"unknown inventory sections: {unknown}")
    with ThreadPoolExecutor(max_workers=4) as pool:
        for fut in [pool.submit(run, n) for n in wanted]:
            fut.result()
    inv = AccountInventory(account_id=account_id, region=reader.region, errors=errors)
    fields = {k: v for k, v in results.items() if k in SECTIONS and v is not None}
    inv = replace(inv, **fields)
    if results.get("organizations") is not None:
        inv = replace(inv, organizations=results["organizations"])
    if results.get("identity_center") is not None:
        inv = replace(inv, identity_center=results["identity_center"])
    return inv


def warm_clients(region: str = "us-east-1") -> None:
    """Create the shared admin session's clients for every section now (a warm grader does this before its first
    request: client creation is ~0.4 s of a cold grade)."""
    from seclab.sim.sessions import shared_admin_session

    clients = _Clients.of(shared_admin_session(region))
    for service in (*SECTIONS, "organizations", "sso-admin", "identitystore"):
        clients.get(service)


def collect_learner(
    learner: str,
    session_factory: SessionFactory | None = None,
    sections: Iterable[str] | None = None,
    include_members: bool = True,
) -> OrgInventory:
    """The learner's home account and, if it runs an organization, every member account it created.

    The member accounts the registry already knows are read side by side with the home account; any other account
    the organization names (none, unless the registry lags) is read once the home account's organization is known.
    """
    from seclab.sim.registry import get_learner

    record = get_learner(learner)
    wanted = list(sections) if sections is not None else None
    if wanted is not None and include_members and "organizations" not in wanted:
        wanted = [*wanted, "organizations"]  # needed to find the member accounts
    # the organization and its Identity Center instance live in the management account
    member_sections = [s for s in (wanted if wanted is not None else list(SECTIONS))
                       if s not in ("organizations", "identity_center")]
    known = sorted({a for a in getattr(record, "accounts", []) if a != record.home_account}) if include_members else []
    # accounts are independent: read them side by side
    with ThreadPoolExecutor(max_workers=4) as pool:
        home_future = pool.submit(collect_account, record.home_account, session_factory, wanted)
        futures = {acct: pool.submit(collect_account, acct, session_factory, member_sections) for acct in known}
        home = home_future.result()
        if include_members and home.organizations is not None:
            for a in home.organizations.accounts:
                acct = str(a["Id"])
                if acct != record.home_account and acct not in futures:
                    futures[acct] = pool.submit(collect_account, acct, session_factory, member_sections)
        members = {acct: futures[acct].result() for acct in sorted(futures)}
    return OrgInventory(management=home, members=members)
