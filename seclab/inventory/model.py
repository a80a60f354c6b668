"""The inventory: one read-only snapshot of an account (or an organization) as plain typed data.

Why this shape: every engine and check reads the same snapshot, collected once through the simulator's API, so
grading never calls boto3 and two checks can never see two different worlds. Each field holds the records exactly
as the AWS API returns them (boto3 shapes, documented in the AWS API reference), grouped per service; engines build
their own typed models from those. Fields a collection step could not read are listed in `errors` (section name
-> message) so that checks depending on them report ERROR instead of a free PASS.

Conventions (every record is a plain dict in boto3's shape, JSON policy documents already parsed to dicts):
- ec2.route_tables[i]: DescribeRouteTables record.
- ec2.transit_gateway_route_tables[i]: DescribeTransitGatewayRouteTables record plus "Associations"
  (GetTransitGatewayRouteTableAssociations), "Propagations" (GetTransitGatewayRouteTablePropagations) and
  "Routes" (SearchTransitGatewayRoutes with state active|blackhole).
- ec2.managed_prefix_lists[i]: DescribeManagedPrefixLists record plus "Entries" (GetManagedPrefixListEntries).
- ec2.vpc_endpoints[i]: DescribeVpcEndpoints record with "PolicyDocument" parsed to a dict (None if absent).
- iam.*: GetAccountAuthorizationDetails records; iam.policies maps every managed policy ARN referenced by a user,
  group or role (customer and AWS managed) to a ManagedPolicyDetail record whose "Document" is the default version's
  document as a dict.
- s3.buckets[i]: a Bucket record (below) per bucket the account owns.
- kms.keys[i]: a Key record (below); kms.aliases: ListAliases records (AWS managed aliases included).
- sagemaker.*: Describe* records (DescribeModel, DescribeEndpointConfig, DescribeEndpoint, DescribeTrainingJob,
  DescribeProcessingJob, DescribeNotebookInstance).
- logs.log_groups: DescribeLogGroups records; logs.resource_policies: DescribeResourcePolicies records;
  logs.events: log group name -> FilterLogEvents records.
- cloudtrail.trails[i]: DescribeTrails record plus "Status" (GetTrailStatus) and "EventSelectors";
  cloudtrail.events: LookupEvents records (the gateway's audit of every call), "CloudTrailEvent" parsed to a dict.
- ecr.repositories[i]: DescribeRepositories record plus "Policy" (GetRepositoryPolicy, parsed; None if absent).
- elbv2: DescribeLoadBalancers, DescribeListeners (all LBs), DescribeTargetGroups, DescribeSSLPolicies records.
- acm.certificates: DescribeCertificate records.
- organizations (management account only, None elsewhere): see Organization.
- identity_center (None where no instance): see IdentityCenter.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

Record = Mapping[str, Any]


@dataclass(frozen=True)
class Ec2:
    vpcs: tuple[Record, ...] = ()
    subnets: tuple[Record, ...] = ()
    route_tables: tuple[Record, ...] = ()
    internet_gateways: tuple[Record, ...] = ()
    egress_only_internet_gateways: tuple[Record, ...] = ()
    nat_gateways: tuple[Record, ...] = ()
    security_groups: tuple[Record, ...] = ()
    network_acls: tuple[Record, ...] = ()
    network_interfaces: tuple[Record, ...] = ()
    vpc_endpoints: tuple[Record, ...] = ()
    vpc_peering_connections: tuple[Record, ...] = ()
    transit_gateways: tuple[Record, ...] = ()
    transit_gateway_attachments: tuple[Record, ...] = ()
    transit_gateway_route_tables: tuple[Record, ...] = ()
    managed_prefix_lists: tuple[Record, ...] = ()
    flow_logs: tuple[Record, ...] = ()
    addresses: tuple[Record, ...] = ()
    ebs_encryption_by_default: bool | None = None
    ebs_default_kms_key_id: str | None = None


@dataclass(frozen=True)
class Iam:
    users: tuple[Record, ...] = ()  # UserDetailList
    groups: tuple[Record, ...] = ()  # GroupDetailList
    roles: tuple[Record, ...] = ()  # RoleDetailList
    policies: Mapping[str, Record] = field(default_factory=dict)  # policy ARN -> ManagedPolicyDetail + "Document"

    def role(self, name_or_arn: str) -> Record | None:
        for r in self.roles:
            if name_or_arn in (r.get("RoleName"), r.get("Arn")):
                return r
        return None

    def user(self, name_or_arn: str) -> Record | None:
        for u in self.users:
            if name_or_arn in (u.get("UserName"), u.get("Arn")):
                return u
        return None


@dataclass(frozen=True)
class Bucket:
    name: str
    arn: str
    region: str
    policy: Record | None  # parsed bucket policy, None when the bucket has none
    encryption: Record | None  # ServerSideEncryptionConfiguration, None when none is set
    public_access_block: Record | None  # PublicAccessBlockConfiguration, None when none is set
    versioning: str | None  # "Enabled" | "Suspended" | None
    ownership: str | None  # ObjectOwnership rule, None when not set
    logging: Record | None  # LoggingEnabled, None when off
    objects: tuple[Record, ...]  # per object: Key, Size, ETag, ServerSideEncryption, SSEKMSKeyId, BucketKeyEnabled
    objects_truncated: bool = False  # more objects than the collector reads per bucket


@dataclass(frozen=True)
class S3:
    buckets: tuple[Bucket, ...] = ()

    def bucket(self, name: str) -> Bucket | None:
        for b in self.buckets:
            if b.name == name:
                return b
        return None


@dataclass(frozen=True)
class Key:
    metadata: Record  # DescribeKey KeyMetadata
    policy: Record | None  # parsed default key policy
    rotation_enabled: bool | None
    aliases: tuple[str, ...]  # alias names, e.g. "alias/models"
    grants: tuple[Record, ...]

    @property
    def arn(self) -> str:
        return str(self.metadata.get("Arn"))

    @property
    def key_id(self) -> str:
        return str(self.metadata.get("KeyId"))


@dataclass(frozen=True)
class Kms:
    keys: tuple[Key, ...] = ()
    aliases: tuple[Record, ...] = ()


@dataclass(frozen=True)
class SageMaker:
    models: tuple[Record, ...] = ()
    endpoint_configs: tuple[Record, ...] = ()
    endpoints: tuple[Record, ...] = ()
    training_jobs: tuple[Record, ...] = ()
    processing_jobs: tuple[Record, ...] = ()
    notebook_instances: tuple[Record, ...] = ()


@dataclass(frozen=True)
class Logs:
    log_groups: tuple[Record, ...] = ()
    resource_policies: tuple[Record, ...] = ()
    # log group name -> FilterLogEvents records (oldest first, at most MAX_LOG_EVENTS per group): the evidence a
    # learner would read, e.g. VPC flow-log records
    events: Mapping[str, tuple[Record, ...]] = field(default_factory=dict)


@dataclass(frozen=True)
class CloudTrail:
    trails: tuple[Record, ...] = ()
    # LookupEvents records (newest first; "CloudTrailEvent" parsed to a dict): the account's recent API activity
    events: tuple[Record, ...] = ()
    events_truncated: bool = False


@dataclass(frozen=True)
class Ecr:
    repositories: tuple[Record, ...] = ()


@dataclass(frozen=True)
class Elbv2:
    load_balancers: tuple[Record, ...] = ()
    listeners: tuple[Record, ...] = ()
    target_groups: tuple[Record, ...] = ()
    ssl_policies: tuple[Record, ...] = ()


@dataclass(frozen=True)
class Acm:
    certificates: tuple[Record, ...] = ()


@dataclass(frozen=True)
class Organization:
    """The organization as its management account sees it."""

    organization: Record  # DescribeOrganization
    roots: tuple[Record, ...]  # ListRoots
    ous: tuple[Record, ...]  # OrganizationalUnit records plus "ParentId"
    accounts: tuple[Record, ...]  # Account records plus "ParentId"
    policies: tuple[Record, ...]  # PolicySummary plus "Content" (parsed), "Type" and "Targets" (ListTargetsForPolicy)

    def parent_chain(self, target_id: str) -> list[str]:
        """Root -> OUs -> target: the ids whose attached SCPs apply to `target_id`, outermost first."""
        parents: dict[str, str] = {}
        for rec in (*self.ous, *self.accounts):
            if rec.get("ParentId"):
                parents[str(rec["Id"])] = str(rec["ParentId"])
        chain = [target_id]
        while chain[-1] in parents:
            chain.append(parents[chain[-1]])
        return list(reversed(chain))


@dataclass(frozen=True)
class IdentityCenter:
    instance_arn: str
    identity_store_id: str
    permission_sets: tuple[Record, ...]  # DescribePermissionSet records plus "InlinePolicy" (dict|None),
    #   "ManagedPolicies" (ARNs), "CustomerManagedPolicyReferences"
    assignments: tuple[Record, ...]  # ListAccountAssignments records (AccountId, PermissionSetArn, PrincipalType, PrincipalId)
    users: tuple[Record, ...] = ()
    groups: tuple[Record, ...] = ()


@dataclass(frozen=True)
class AccountInventory:
    account_id: str
    region: str
    iam: Iam = field(default_factory=Iam)
    s3: S3 = field(default_factory=S3)
    kms: Kms = field(default_factory=Kms)
    ec2: Ec2 = field(default_factory=Ec2)
    sagemaker: SageMaker = field(default_factory=SageMaker)
    logs: Logs = field(default_factory=Logs)
    cloudtrail: CloudTrail = field(default_factory=CloudTrail)
    ecr: Ecr = field(default_factory=Ecr)
    elbv2: Elbv2 = field(default_factory=Elbv2)
    acm: Acm = field(default_factory=Acm)
    organizations: Organization | None = None
    identity_center: IdentityCenter | None = None
    errors: Mapping[str, str] = field(default_factory=dict)  # section ("s3", "ec2.route_tables", ...) -> message

    def failed(self, *sections: str) -> list[str]:
        """The collection errors that touch any of `sections` (a prefix match: "ec2" covers "ec2.subnets")."""
        return [
            f"{name}: {msg}"
            for name, msg in self.errors.items()
            if any(name == s or name.startswith(s + ".") or s.startswith(name + ".") for s in sections)
        ]


@dataclass(frozen=True)
class OrgInventory:
    """A learner's whole estate: the home (management) account and every member account it created."""

    management: AccountInventory
    members: Mapping[str, AccountInventory] = field(default_factory=dict)

    def accounts(self) -> dict[str, AccountInventory]:
        return {self.management.account_id: self.management, **dict(self.members)}
