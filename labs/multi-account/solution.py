"""Multi-account reference solution (instructor-only), written as the notebook's steps.

Each build_* function is one notebook task; make_notebook.py copies their source into the solution cells (and the
Accounts helper and build_baseline into provided cells), so the notebook and this file cannot drift apart. Every
step is idempotent: it finds what exists and creates or corrects only what is missing.

Design choices of the reference (alternatives the grader also accepts are listed in README.md):
- network: hub and spoke with one VPC peering per business unit to Shared Services (peering is not transitive,
  so spokes never reach each other), routes only to the other side's CIDR, HTTPS-only security groups. A transit
  gateway is the usual choice at scale, but the simulator cannot route to a TGW owned by another account (moto
  drops the route's target) nor share one through RAM (moto-feasibility §3), so the lab builds peering;
- MLOps trust: the BU's MLOpsAccess role trusts only shared-services' MLOps role, with an ExternalId;
- ECR: the repository policy names each BU's MLExecution role for pull only;
- guardrails: region and platform-protection SCPs on the root (the inherited one fixed in place), the KMS-key SCP
  on the BusinessUnits OU listing the five approved keys.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

# ------------------------------------------------------------------------------------------------ helpers


class Accounts:
    """boto3 clients in any account of your organization, by account name ("bu-retail", "shared-services").

    `None` is your management account. Member accounts are reached by assuming OrganizationAccountAccessRole,
    which Organizations creates in every account it creates, exactly as on AWS.
    """

    def __init__(self, session_for: Callable[[str | None], Any]) -> None:
        self._session_for = session_for
        self._sessions: dict[str | None, Any] = {}
        self._clients: dict[tuple[str, str | None], Any] = {}
        self._ids: dict[str, str] = {}

    def refresh(self) -> dict[str, str]:
        """Account name -> id, from Organizations (call again after creating accounts)."""
        org = self.client("organizations")
        self._ids = {}
        for page in org.get_paginator("list_accounts").paginate():
            for acct in page["Accounts"]:
                self._ids[acct["Name"]] = acct["Id"]
        return dict(self._ids)

    def id(self, name: str | None) -> str:
        if name is None:
            return self.client("sts").get_caller_identity()["Account"]
        if name not in self._ids:
            self.refresh()
        if name not in self._ids:
            raise KeyError(f"no account named {name!r} in your organization yet")
        return self._ids[name]

    def has(self, name: str) -> bool:
        try:
            self.id(name)
            return True
        except KeyError:
            return False

    def client(self, service: str, account: str | None = None) -> Any:
        acct = None if account is None else self.id(account)
        key = (service, acct)
        if key not in self._clients:
            if acct not in self._sessions:
                self._sessions[acct] = self._session_for(acct)
            self._clients[key] = self._sessions[acct].client(service)
        return self._clients[key]


def build_baseline(accounts: Accounts, facts: dict[str, Any]) -> None:
    """What an account-vending pipeline gives every new account (provided, not graded on its own): per business
    unit a VPC and private subnet from the CIDR plan, an empty workload security group, the BU's approved KMS key,
    its encrypted private bucket and the SageMaker execution role; in Shared Services a VPC, subnet and empty
    security group. Accounts that do not exist yet are skipped."""
    shared_name = facts["shared"]["account_name"]
    shared_id = accounts.id(shared_name) if accounts.has(shared_name) else None

    def network(account: str, cidr: str, subnet_cidr: str, name: str, sg_name: str) -> None:
        ec2 = accounts.client("ec2", account)
        vpcs = ec2.describe_vpcs(Filters=[{"Name": "tag:Name", "Values": [name]}])["Vpcs"]
        vpc_id = vpcs[0]["VpcId"] if vpcs else ec2.create_vpc(CidrBlock=cidr, TagSpecifications=[{
            "ResourceType": "vpc", "Tags": [{"Key": "Name", "Value": name}]}])["Vpc"]["VpcId"]
        subnets = ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc_id]}])["Subnets"]
        if not subnets:
            ec2.create_subnet(VpcId=vpc_id, CidrBlock=subnet_cidr, TagSpecifications=[{
                "ResourceType": "subnet", "Tags": [{"Key": "Name", "Value": f"{name}-private"}]}])
        groups = ec2.describe_security_groups(Filters=[{"Name": "vpc-id", "Values": [vpc_id]},
                                                       {"Name": "group-name", "Values": [sg_name]}])["SecurityGroups"]
        if not groups:
            ec2.create_security_group(GroupName=sg_name, VpcId=vpc_id,
                                      Description=f"{sg_name}: ingress is added by the network task")

    for bu in facts["business_units"]:
        acct = bu["account_name"]
        if not accounts.has(acct):
            print(f"skipping {acct}: create the account first (task 1)")
            continue
        network(acct, bu["cidr"], bu["subnet_cidr"], f"{bu['name']}-ml", facts["security_groups"]["business_unit"])
        kms = accounts.client("kms", acct)
        aliases = {a["AliasName"]: a.get("TargetKeyId") for a in kms.list_aliases()["Aliases"]}
        if bu["key_alias"] not in aliases:
            key_id = kms.create_key(Description=f"{bu['name']}: data, models and SageMaker volumes")[
                "KeyMetadata"]["KeyId"]
            kms.create_alias(AliasName=bu["key_alias"], TargetKeyId=key_id)
        key_arn = kms.describe_key(KeyId=bu["key_alias"])["KeyMetadata"]["Arn"]
        s3 = accounts.client("s3", acct)
        if bu["bucket"] not in {b["Name"] for b in s3.list_buckets()["Buckets"]}:
            s3.create_bucket(Bucket=bu["bucket"])
        s3.put_bucket_encryption(Bucket=bu["bucket"], ServerSideEncryptionConfiguration={"Rules": [{
            "ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": key_arn},
            "BucketKeyEnabled": True}]})
        s3.put_public_access_block(Bucket=bu["bucket"], PublicAccessBlockConfiguration={
            "BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True,
            "RestrictPublicBuckets": True})
        iam = accounts.client("iam", acct)
        role = facts["roles"]["execution"]
        trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                                          "Principal": {"Service": "sagemaker.amazonaws.com"}}]}
        try:
            iam.create_role(RoleName=role, AssumeRolePolicyDocument=json.dumps(trust),
                            Description="SageMaker jobs and endpoints of this business unit")
        except iam.exceptions.EntityAlreadyExistsException:
            pass
        statements = [
            {"Sid": "OwnData", "Effect": "Allow", "Action": ["s3:GetObject", "s3:PutObject", "s3:ListBucket"],
             "Resource": [f"arn:aws:s3:::{bu['bucket']}", f"arn:aws:s3:::{bu['bucket']}/*"]},
            {"Sid": "OwnKey", "Effect": "Allow", "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
             "Resource": key_arn},
            {"Sid": "RegistryLogin", "Effect": "Allow", "Action": "ecr:GetAuthorizationToken", "Resource": "*"},
        ]
        if shared_id:
            statements.append({
                "Sid": "PullPlatformImages", "Effect": "Allow",
                "Action": ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:BatchCheckLayerAvailability"],
                "Resource": f"arn:aws:ecr:us-east-1:{shared_id}:repository/{facts['shared']['ecr_repository']}"})
        iam.put_role_policy(RoleName=role, PolicyName="ml-execution",
                            PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": statements}))
    if shared_id:
        sh = facts["shared"]
        network(sh["account_name"], sh["cidr"], sh["subnet_cidr"], "shared-services",
                facts["security_groups"]["shared"])
    else:
        print(f"skipping {shared_name}: create the account first (task 1)")


# ------------------------------------------------------------------------------------------------ task 1


def build_organization(accounts: Accounts, facts: dict[str, Any]) -> None:
    org = accounts.client("organizations")
    root_id = org.list_roots()["Roots"][0]["Id"]
    ous = {ou["Name"]: ou["Id"] for ou in
           org.list_organizational_units_for_parent(ParentId=root_id)["OrganizationalUnits"]}
    for name in facts["ous"].values():
        if name not in ous:
            ous[name] = org.create_organizational_unit(ParentId=root_id, Name=name)["OrganizationalUnit"]["Id"]

    wanted = [(bu["account_name"], bu["email"], ous[facts["ous"]["business_units"]])
              for bu in facts["business_units"]]
    wanted.append((facts["shared"]["account_name"], facts["shared"]["email"], ous[facts["ous"]["infrastructure"]]))
    existing = accounts.refresh()
    for name, email, ou_id in wanted:
        if name not in existing:
            status = org.create_account(AccountName=name, Email=email)["CreateAccountStatus"]
            while status["State"] == "IN_PROGRESS":
                status = org.describe_create_account_status(
                    CreateAccountRequestId=status["Id"])["CreateAccountStatus"]
            existing[name] = status["AccountId"]
        parent = org.list_parents(ChildId=existing[name])["Parents"][0]["Id"]
        if parent != ou_id:
            org.move_account(AccountId=existing[name], SourceParentId=parent, DestinationParentId=ou_id)
    accounts.refresh()


# ------------------------------------------------------------------------------------------------ task 2


def bu_policy(role: str, bu: dict[str, Any], account_id: str, key_arn: str, execution_role: str) -> dict[str, Any]:
    """A business-unit role's inline policy: its own bucket, key and SageMaker resources, nothing else."""
    bucket = bu["bucket"]
    sm = f"arn:aws:sagemaker:*:{account_id}"
    statements: list[dict[str, Any]] = [
        {"Sid": "OwnKey", "Effect": "Allow", "Action": ["kms:Decrypt", "kms:GenerateDataKey", "kms:DescribeKey"],
         "Resource": key_arn},
        {"Sid": "PassOwnExecutionRole", "Effect": "Allow", "Action": "iam:PassRole",
         "Resource": f"arn:aws:iam::{account_id}:role/{execution_role}",
         "Condition": {"StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}}},
    ]
    if role == "DataScientist":
        statements += [
            {"Sid": "OwnData", "Effect": "Allow", "Action": ["s3:GetObject", "s3:PutObject", "s3:ListBucket"],
             "Resource": [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"]},
            {"Sid": "OwnTraining", "Effect": "Allow",
             "Action": ["sagemaker:CreateTrainingJob", "sagemaker:DescribeTrainingJob",
                        "sagemaker:CreateProcessingJob", "sagemaker:DescribeProcessingJob"],
             "Resource": [f"{sm}:training-job/*", f"{sm}:processing-job/*"]},
        ]
    else:
        statements += [
            {"Sid": "ReadModels", "Effect": "Allow", "Action": ["s3:GetObject", "s3:ListBucket"],
             "Resource": [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"]},
            {"Sid": "OwnEndpoints", "Effect": "Allow",
             "Action": ["sagemaker:CreateModel", "sagemaker:CreateEndpointConfig", "sagemaker:CreateEndpoint",
                        "sagemaker:UpdateEndpoint", "sagemaker:Describe*", "sagemaker:InvokeEndpoint"],
             "Resource": [f"{sm}:model/*", f"{sm}:endpoint-config/*", f"{sm}:endpoint/*"]},
        ]
    return {"Version": "2012-10-17", "Statement": statements}


def build_identity(accounts: Accounts, facts: dict[str, Any], trust_condition: str = "external_id") -> None:
    sso = accounts.client("sso-admin")
    instance = sso.list_instances()["Instances"][0]
    ia, store = instance["InstanceArn"], instance["IdentityStoreId"]
    ids = accounts.client("identitystore")
    groups = {g["DisplayName"]: g["GroupId"] for g in ids.list_groups(IdentityStoreId=store)["Groups"]}
    psets = {}
    for arn in sso.list_permission_sets(InstanceArn=ia)["PermissionSets"]:
        psets[sso.describe_permission_set(InstanceArn=ia, PermissionSetArn=arn)["PermissionSet"]["Name"]] = arn

    def permission_set(name: str, policy: dict[str, Any]) -> str:
        if name not in psets:
            psets[name] = sso.create_permission_set(InstanceArn=ia, Name=name, SessionDuration="PT4H")[
                "PermissionSet"]["PermissionSetArn"]
        sso.put_inline_policy_to_permission_set(InstanceArn=ia, PermissionSetArn=psets[name],
                                                InlinePolicy=json.dumps(policy))
        return psets[name]

    def assign(ps_arn: str, account_id: str, group: str) -> None:
        current = sso.list_account_assignments(InstanceArn=ia, AccountId=account_id,
                                               PermissionSetArn=ps_arn)["AccountAssignments"]
        if not any(a["PrincipalId"] == groups[group] for a in current):
            sso.create_account_assignment(InstanceArn=ia, TargetId=account_id, TargetType="AWS_ACCOUNT",
                                          PermissionSetArn=ps_arn, PrincipalType="GROUP", PrincipalId=groups[group])
        sso.provision_permission_set(InstanceArn=ia, PermissionSetArn=ps_arn, TargetType="AWS_ACCOUNT",
                                     TargetId=account_id)

    shared = facts["shared"]
    shared_id = accounts.id(shared["account_name"])
    org_id = accounts.client("organizations").describe_organization()["Organization"]["Id"]
    mlops_arn = f"arn:aws:iam::{shared_id}:role/{shared['mlops_role']}"
    access_role = facts["roles"]["mlops_access"]

    # Business-unit roles: one permission set per BU and role, scoped to that BU, assigned in its account only.
    for bu in facts["business_units"]:
        acct_id = accounts.id(bu["account_name"])
        key_arn = accounts.client("kms", bu["account_name"]).describe_key(KeyId=bu["key_alias"])["KeyMetadata"]["Arn"]
        for role in facts["bu_roles"]:
            arn = permission_set(bu["permission_sets"][role],
                                 bu_policy(role, bu, acct_id, key_arn, facts["roles"]["execution"]))
            assign(arn, acct_id, bu["groups"][role])

    # Platform admins: may assume the MLOps role in Shared Services, nothing in the BU accounts directly.
    admin = facts["platform_admin"]
    admin_policy = {"Version": "2012-10-17", "Statement": [
        {"Sid": "BecomeMLOps", "Effect": "Allow", "Action": "sts:AssumeRole", "Resource": mlops_arn},
        {"Sid": "ReadPlatform", "Effect": "Allow",
         "Action": ["ecr:Describe*", "ecr:List*", "ec2:Describe*", "iam:Get*", "iam:List*"], "Resource": "*"},
    ]}
    assign(permission_set(admin["permission_set"], admin_policy), shared_id, admin["group"])

    # The MLOps role in Shared Services: only the PlatformAdmin Identity Center role may assume it.
    iam = accounts.client("iam", shared["account_name"])
    mlops_trust = {"Version": "2012-10-17", "Statement": [{
        "Sid": "PlatformAdminsOnly", "Effect": "Allow", "Action": "sts:AssumeRole",
        "Principal": {"AWS": f"arn:aws:iam::{shared_id}:root"},
        "Condition": {"ArnLike": {"aws:PrincipalArn": f"arn:aws:iam::{shared_id}:role/aws-reserved/"
                                                      f"sso.amazonaws.com/AWSReservedSSO_{admin['permission_set']}_*"}},
    }]}
    _put_role(iam, shared["mlops_role"], mlops_trust, "MLOps team: deploys into the business units", {
        "Version": "2012-10-17", "Statement": [{
            "Sid": "AssumeBusinessUnitAccess", "Effect": "Allow", "Action": "sts:AssumeRole",
            "Resource": [f"arn:aws:iam::{accounts.id(bu['account_name'])}:role/{access_role}"
                         for bu in facts["business_units"]]}]})

    # The cross-account MLOpsAccess role in every BU account: trusts only Shared Services' MLOps role.
    for bu in facts["business_units"]:
        acct_id = accounts.id(bu["account_name"])
        condition = ({"StringEquals": {"sts:ExternalId": facts["external_id"]}} if trust_condition == "external_id"
                     else {"StringEquals": {"aws:PrincipalOrgID": org_id}})
        trust = {"Version": "2012-10-17", "Statement": [{
            "Sid": "SharedServicesMLOpsOnly", "Effect": "Allow", "Action": "sts:AssumeRole",
            "Principal": {"AWS": mlops_arn}, "Condition": condition}]}
        bucket = bu["bucket"]
        _put_role(accounts.client("iam", bu["account_name"]), access_role, trust,
                  "Shared Services MLOps deploys models here", {"Version": "2012-10-17", "Statement": [
                      {"Sid": "Deploy", "Effect": "Allow",
                       "Action": ["sagemaker:CreateModel", "sagemaker:CreateEndpointConfig",
                                  "sagemaker:CreateEndpoint", "sagemaker:UpdateEndpoint", "sagemaker:Describe*"],
                       "Resource": f"arn:aws:sagemaker:*:{acct_id}:*"},
                      {"Sid": "ReadModels", "Effect": "Allow", "Action": ["s3:GetObject", "s3:ListBucket"],
                       "Resource": [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"]},
                      {"Sid": "PassExecutionRole", "Effect": "Allow", "Action": "iam:PassRole",
                       "Resource": f"arn:aws:iam::{acct_id}:role/{facts['roles']['execution']}"}]})


def _put_role(iam: Any, name: str, trust: dict[str, Any], description: str, policy: dict[str, Any]) -> None:
    try:
        iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust), Description=description)
    except iam.exceptions.EntityAlreadyExistsException:
        iam.update_assume_role_policy(RoleName=name, PolicyDocument=json.dumps(trust))
    iam.put_role_policy(RoleName=name, PolicyName=f"{name}-permissions", PolicyDocument=json.dumps(policy))


# ------------------------------------------------------------------------------------------------ task 3


def build_registry(accounts: Accounts, facts: dict[str, Any], principal_style: str = "roles") -> None:
    shared = facts["shared"]
    kms = accounts.client("kms", shared["account_name"])
    if shared["ecr_key_alias"] not in {a["AliasName"] for a in kms.list_aliases()["Aliases"]}:
        key_id = kms.create_key(Description="central registry images")["KeyMetadata"]["KeyId"]
        kms.create_alias(AliasName=shared["ecr_key_alias"], TargetKeyId=key_id)
    key_arn = kms.describe_key(KeyId=shared["ecr_key_alias"])["KeyMetadata"]["Arn"]

    ecr = accounts.client("ecr", shared["account_name"])
    repo = shared["ecr_repository"]
    try:
        ecr.create_repository(repositoryName=repo, imageTagMutability="IMMUTABLE",
                              imageScanningConfiguration={"scanOnPush": True},
                              encryptionConfiguration={"encryptionType": "KMS", "kmsKey": key_arn})
    except ecr.exceptions.RepositoryAlreadyExistsException:
        ecr.put_image_tag_mutability(repositoryName=repo, imageTagMutability="IMMUTABLE")
        ecr.put_image_scanning_configuration(repositoryName=repo, imageScanningConfiguration={"scanOnPush": True})

    pullers = [f"arn:aws:iam::{accounts.id(bu['account_name'])}:role/{facts['roles']['execution']}"
               for bu in facts["business_units"]]
    pull = ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:BatchCheckLayerAvailability"]
    if principal_style == "roles":
        statement = {"Sid": "BusinessUnitExecutionRolesPull", "Effect": "Allow", "Principal": {"AWS": pullers},
                     "Action": pull}
    else:  # the same grant written as "anyone whose ARN is one of these roles"
        statement = {"Sid": "BusinessUnitExecutionRolesPull", "Effect": "Allow", "Principal": "*", "Action": pull,
                     "Condition": {"ArnEquals": {"aws:PrincipalArn": pullers}}}
    ecr.set_repository_policy(repositoryName=repo,
                              policyText=json.dumps({"Version": "2012-10-17", "Statement": [statement]}))


# ------------------------------------------------------------------------------------------------ task 4


def _vpc(ec2: Any, name: str) -> tuple[str, str, str, str]:
    """(vpc id, subnet id, main route table id, workload security group id) of the baseline VPC `name`."""
    vpc = ec2.describe_vpcs(Filters=[{"Name": "tag:Name", "Values": [name]}])["Vpcs"][0]["VpcId"]
    subnet = ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc]}])["Subnets"][0]["SubnetId"]
    rt = ec2.describe_route_tables(Filters=[{"Name": "vpc-id", "Values": [vpc]},
                                            {"Name": "association.main", "Values": ["true"]}])["RouteTables"][0]
    groups = ec2.describe_security_groups(Filters=[{"Name": "vpc-id", "Values": [vpc]}])["SecurityGroups"]
    sg = next(g["GroupId"] for g in groups if g["GroupName"] != "default")
    return vpc, subnet, rt["RouteTableId"], sg


def _route(ec2: Any, rt: str, cidr: str, **target: str) -> None:
    try:
        ec2.create_route(RouteTableId=rt, DestinationCidrBlock=cidr, **target)
    except ec2.exceptions.ClientError as exc:
        if "RouteAlreadyExists" not in str(exc):
            raise
        ec2.replace_route(RouteTableId=rt, DestinationCidrBlock=cidr, **target)


def _ingress(ec2: Any, sg: str, port: int, cidrs: list[str]) -> None:
    have = ec2.describe_security_groups(GroupIds=[sg])["SecurityGroups"][0]["IpPermissions"]
    present = {r["CidrIp"] for p in have if p.get("FromPort") == port for r in p.get("IpRanges", [])}
    missing = [c for c in cidrs if c not in present]
    if missing:
        ec2.authorize_security_group_ingress(GroupId=sg, IpPermissions=[{
            "IpProtocol": "tcp", "FromPort": port, "ToPort": port,
            "IpRanges": [{"CidrIp": c, "Description": "platform flow"} for c in missing]}])


def build_network(accounts: Accounts, facts: dict[str, Any], shared_sources: str = "per_bu") -> None:
    shared = facts["shared"]
    shared_id = accounts.id(shared["account_name"])
    sh_ec2 = accounts.client("ec2", shared["account_name"])
    sh_vpc, _sh_subnet, sh_rt, sh_sg = _vpc(sh_ec2, "shared-services")
    port = facts["service_port"]

    # Hub and spoke with VPC peering: one peering per business unit, requested by the BU, accepted by Shared
    # Services. Peering is not transitive, so two BUs peered with the hub still cannot reach each other.
    for bu in facts["business_units"]:
        ec2 = accounts.client("ec2", bu["account_name"])
        vpc, _subnet, rt, sg = _vpc(ec2, f"{bu['name']}-ml")
        found = [pc for pc in ec2.describe_vpc_peering_connections(Filters=[
            {"Name": "requester-vpc-info.vpc-id", "Values": [vpc]},
            {"Name": "accepter-vpc-info.vpc-id", "Values": [sh_vpc]}])["VpcPeeringConnections"]
            if pc["Status"]["Code"] in ("active", "pending-acceptance")]
        pcx = found[0]["VpcPeeringConnectionId"] if found else ec2.create_vpc_peering_connection(
            VpcId=vpc, PeerVpcId=sh_vpc, PeerOwnerId=shared_id)["VpcPeeringConnection"]["VpcPeeringConnectionId"]
        if not found or found[0]["Status"]["Code"] == "pending-acceptance":
            sh_ec2.accept_vpc_peering_connection(VpcPeeringConnectionId=pcx)
        # Each side routes only the other side's CIDR over the peering: no platform-wide routes in a spoke.
        _route(ec2, rt, shared["cidr"], VpcPeeringConnectionId=pcx)
        _route(sh_ec2, sh_rt, bu["cidr"], VpcPeeringConnectionId=pcx)
        # The BU's workloads answer only Shared Services, on the service port.
        _ingress(ec2, sg, port, [shared["cidr"]])

    # Shared Services answers every business unit on the service port (each BU's CIDR, or the platform range).
    sources = [bu["cidr"] for bu in facts["business_units"]] if shared_sources == "per_bu" else [facts["supernet"]]
    _ingress(sh_ec2, sh_sg, port, sources)


# ------------------------------------------------------------------------------------------------ task 5

GLOBAL_SERVICES = [
    "a4b:*", "acm:*", "aws-marketplace-management:*", "aws-marketplace:*", "aws-portal:*", "budgets:*", "ce:*",
    "chime:*", "cloudfront:*", "config:*", "cur:*", "directconnect:*", "ec2:DescribeRegions",
    "ec2:DescribeTransitGateways", "ec2:DescribeVpnGateways", "fms:*", "globalaccelerator:*", "health:*", "iam:*",
    "importexport:*", "kms:*", "mobileanalytics:*", "networkmanager:*", "organizations:*", "pricing:*",
    "route53:*", "route53domains:*", "route53-recovery-cluster:*", "route53-recovery-control-config:*",
    "route53-recovery-readiness:*", "s3:GetAccountPublic*", "s3:ListAllMyBuckets", "s3:ListMultiRegionAccessPoints",
    "s3:PutAccountPublic*", "shield:*", "sts:*", "support:*", "trustedadvisor:*", "waf-regional:*", "waf:*",
    "wafv2:*", "wellarchitected:*",
]


def region_guardrail(regions: list[str]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": [{
        "Sid": "DenyOutsideApprovedRegions", "Effect": "Deny", "NotAction": GLOBAL_SERVICES, "Resource": "*",
        "Condition": {"StringNotEquals": {"aws:RequestedRegion": regions}}}]}


def kms_guardrail(key_arns: list[str]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": [
        {"Sid": "SageMakerNeedsApprovedKey", "Effect": "Deny",
         "Action": ["sagemaker:CreateTrainingJob", "sagemaker:CreateProcessingJob", "sagemaker:CreateTransformJob",
                    "sagemaker:CreateEndpointConfig", "sagemaker:CreateNotebookInstance"],
         "Resource": "*", "Condition": {"ArnNotEquals": {"sagemaker:VolumeKmsKey": key_arns}}},
        {"Sid": "S3WritesNeedApprovedKey", "Effect": "Deny", "Action": "s3:PutObject", "Resource": "*",
         "Condition": {"StringNotEquals": {"s3:x-amz-server-side-encryption-aws-kms-key-id": key_arns}}},
    ]}


def protect_guardrail() -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": [
        {"Sid": "StayInTheOrganization", "Effect": "Deny", "Action": "organizations:LeaveOrganization",
         "Resource": "*"},
        {"Sid": "KeepCloudTrailOn", "Effect": "Deny",
         "Action": ["cloudtrail:StopLogging", "cloudtrail:DeleteTrail", "cloudtrail:UpdateTrail",
                    "cloudtrail:PutEventSelectors"], "Resource": "*"},
    ]}


def build_guardrails(accounts: Accounts, facts: dict[str, Any], kms_layout: str = "ou",
                     region_layout: str = "root") -> None:
    org = accounts.client("organizations")
    root_id = org.list_roots()["Roots"][0]["Id"]
    ous = {ou["Name"]: ou["Id"] for ou in
           org.list_organizational_units_for_parent(ParentId=root_id)["OrganizationalUnits"]}
    policies = {p["Name"]: p["Id"] for p in org.list_policies(Filter="SERVICE_CONTROL_POLICY")["Policies"]}

    def scp(name: str, content: dict[str, Any], targets: list[str]) -> None:
        if name in policies:
            org.update_policy(PolicyId=policies[name], Content=json.dumps(content))
        else:
            policies[name] = org.create_policy(Name=name, Type="SERVICE_CONTROL_POLICY", Description=name,
                                               Content=json.dumps(content))["Policy"]["PolicySummary"]["Id"]
        attached = {t["TargetId"] for t in org.list_targets_for_policy(PolicyId=policies[name])["Targets"]}
        for target in targets:
            if target not in attached:
                org.attach_policy(PolicyId=policies[name], TargetId=target)

    if region_layout == "root":
        # The inherited region guardrail, fixed in place: StringNotEquals, and NotAction for global services.
        scp(facts["legacy_scp"], region_guardrail(facts["approved_regions"]), [root_id])
    else:  # retire the inherited SCP and attach a new one to both OUs instead
        if facts["legacy_scp"] in policies:
            legacy = policies.pop(facts["legacy_scp"])
            for t in org.list_targets_for_policy(PolicyId=legacy)["Targets"]:
                org.detach_policy(PolicyId=legacy, TargetId=t["TargetId"])
            org.delete_policy(PolicyId=legacy)
        scp("approved-regions-only", region_guardrail(facts["approved_regions"]), list(ous.values()))
    scp("protect-platform", protect_guardrail(), [root_id])
    keys = {bu["account_name"]: accounts.client("kms", bu["account_name"]).describe_key(
        KeyId=bu["key_alias"])["KeyMetadata"]["Arn"] for bu in facts["business_units"]}
    if kms_layout == "ou":
        scp("require-approved-kms-keys", kms_guardrail(sorted(keys.values())), [ous[facts["ous"]["business_units"]]])
    else:  # one SCP per BU account, naming only that account's key
        for name, key_arn in keys.items():
            scp(f"require-approved-kms-key-{name}", kms_guardrail([key_arn]), [accounts.id(name)])


# ------------------------------------------------------------------------------------------------ all


def solve(ctx: Any, facts: dict[str, Any], **variants: str) -> None:
    """The whole reference solution. `variants` pick alternative designs (tests): trust_condition="org_id",
    principal_style="condition", shared_sources="supernet", kms_layout="account", region_layout="ous"."""
    from botocore.loaders import create_loader

    loader = create_loader()  # one model loader for the seven accounts' sessions: seconds saved per solve

    def session_for(account_id: str | None) -> Any:
        session = ctx.session(account=account_id)
        session._session.register_component("data_loader", loader)
        return session

    accounts = Accounts(session_for)
    build_organization(accounts, facts)
    build_baseline(accounts, facts)
    build_identity(accounts, facts, trust_condition=variants.get("trust_condition", "external_id"))
    build_registry(accounts, facts, principal_style=variants.get("principal_style", "roles"))
    build_network(accounts, facts, shared_sources=variants.get("shared_sources", "per_bu"))
    build_guardrails(accounts, facts, kms_layout=variants.get("kms_layout", "ou"),
                     region_layout=variants.get("region_layout", "root"))
