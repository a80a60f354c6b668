"""Multi-account lab set-up: the organization a platform team inherits, and the scenario's plan (facts).

What set-up creates in the learner's management account (and nothing else, because member accounts are the
learner's first task):
- the AWS Organization (all features) with the SERVICE_CONTROL_POLICY type enabled on the root;
- the inherited, broken region guardrail: an SCP named by facts["legacy_scp"] attached to the root, written by a
  previous team with the wrong operator (StringEquals) and no global-service exemptions. It is created only when
  set-up creates the organization, so running set-up again never undoes the learner's fix;
- the Identity Center groups the company's identity provider already syncs: two per business unit
  (data scientists, ML engineers) and the platform admins. Identity Center itself is the simulator's default instance.

Everything else (OUs, the seven accounts, permission sets, roles, the registry, the network, the guardrails) is the
learner's work. The facts are the plan: business-unit names, account names and e-mails, the CIDR plan, approved
regions, approved KMS keys and their purposes, role and permission-set names. All names derive from the learner's
seed, so two learners differ and S3's global bucket names never collide.
"""

from __future__ import annotations

import json
from typing import Any

BU_POOL = ("retail", "risk", "marketing", "logistics", "research", "fraud", "pricing", "claims", "supply", "media")
SECOND_REGIONS = ("eu-west-1", "eu-central-1", "us-west-2", "ca-central-1")
FORBIDDEN_PROBES = ("ap-southeast-2", "sa-east-1", "ap-northeast-1", "me-south-1")
BU_ROLES = ("DataScientist", "MLEngineer")


def plan(ctx: Any) -> dict[str, Any]:
    """The scenario facts: a pure function of the learner's seed (same learner, same plan)."""
    rng = ctx.rng
    suffix = f"{ctx.seed % 10**8:08d}"
    bus = rng.sample(BU_POOL, 5)
    octet = rng.randrange(16, 200)
    second = rng.choice(SECOND_REGIONS)
    forbidden = [r for r in FORBIDDEN_PROBES if r != second][:2]
    email = f"platform-{suffix}"
    business_units = []
    for i, bu in enumerate(bus):
        third = 16 * (i + 1)
        business_units.append({
            "name": bu,
            "account_name": f"bu-{bu}",
            "email": f"{email}+bu-{bu}@example.com",
            "cidr": f"10.{octet}.{third}.0/20",
            "subnet_cidr": f"10.{octet}.{third}.0/24",
            "bucket": f"seclab-{bu}-ml-{suffix}",
            "key_alias": f"alias/{bu}-ml",
            "groups": {"DataScientist": f"{bu}-data-scientists", "MLEngineer": f"{bu}-ml-engineers"},
            "permission_sets": {role: f"{role}-{bu}" for role in BU_ROLES},
        })
    return {
        "business_units": business_units,
        "bu_names": bus,
        "shared": {
            "account_name": "shared-services",
            "email": f"{email}+shared-services@example.com",
            "cidr": f"10.{octet}.0.0/20",
            "subnet_cidr": f"10.{octet}.0.0/24",
            "ecr_repository": "platform/ml-serving",
            "ecr_key_alias": "alias/platform-ecr",
            "mlops_role": "MLOps",
        },
        "ous": {"business_units": "BusinessUnits", "infrastructure": "Infrastructure"},
        "supernet": f"10.{octet}.0.0/16",
        "service_port": 443,
        "security_groups": {"business_unit": "ml-workloads", "shared": "shared-services"},
        "roles": {"mlops_access": "MLOpsAccess", "execution": "MLExecution"},
        "bu_roles": list(BU_ROLES),
        "platform_admin": {"permission_set": "PlatformAdmin", "group": "platform-admins"},
        "external_id": f"mlops-{rng.getrandbits(48):012x}",
        "approved_regions": ["us-east-1", second],
        "forbidden_region_probes": forbidden,
        "kms_purposes": {
            "alias/<bu>-ml (one per business-unit account)": "the only key a business unit may use for its S3 "
                                                              "data and models and its SageMaker volumes",
            "alias/platform-ecr (shared services)": "encrypts the central registry's container images",
        },
        "legacy_scp": "legacy-region-guardrail",
    }


def legacy_region_scp(regions: list[str]) -> dict[str, Any]:
    """The inherited guardrail: StringEquals (wrong operator) and Action "*" (no global-service exemptions)."""
    return {"Version": "2012-10-17", "Statement": [{
        "Sid": "RegionGuardrail", "Effect": "Deny", "Action": "*", "Resource": "*",
        "Condition": {"StringEquals": {"aws:RequestedRegion": regions}},
    }]}


def setup(ctx: Any) -> dict[str, Any]:
    facts = plan(ctx)
    org = ctx.client("organizations")
    created = False
    try:
        org.describe_organization()
    except org.exceptions.AWSOrganizationsNotInUseException:
        org.create_organization(FeatureSet="ALL")
        created = True
    root = org.list_roots()["Roots"][0]
    if not any(p.get("Type") == "SERVICE_CONTROL_POLICY" and p.get("Status") == "ENABLED"
               for p in root.get("PolicyTypes", [])):
        org.enable_policy_type(RootId=root["Id"], PolicyType="SERVICE_CONTROL_POLICY")
    if created:
        existing = {p["Name"] for p in org.list_policies(Filter="SERVICE_CONTROL_POLICY")["Policies"]}
        if facts["legacy_scp"] not in existing:
            policy = org.create_policy(
                Name=facts["legacy_scp"], Type="SERVICE_CONTROL_POLICY",
                Description="Region guardrail from the previous platform team (inherited)",
                Content=json.dumps(legacy_region_scp(facts["approved_regions"])))["Policy"]["PolicySummary"]
            org.attach_policy(PolicyId=policy["Id"], TargetId=root["Id"])

    sso = ctx.client("sso-admin")
    store = sso.list_instances()["Instances"][0]["IdentityStoreId"]
    ids = ctx.client("identitystore")
    have = {g.get("DisplayName") for g in _pages(ids, "list_groups", "Groups", IdentityStoreId=store)}
    wanted = [g for bu in facts["business_units"] for g in bu["groups"].values()]
    wanted.append(facts["platform_admin"]["group"])
    for name in wanted:
        if name not in have:
            ids.create_group(IdentityStoreId=store, DisplayName=name, Description="synced from the company IdP")
    return facts


def _pages(client: Any, op: str, key: str, **kwargs: Any) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    token = None
    while True:
        page = getattr(client, op)(**kwargs, **({"NextToken": token} if token else {}))
        out += page.get(key, [])
        token = page.get("NextToken")
        if not token:
            return out

