"""Builds multi-account.ipynb (the nbgrader source notebook).

Run: .venv/bin/python labs/multi-account/make_notebook.py

The solution cells and the provided helper cells are copied from solution.py (inspect.getsource), so the notebook's
reference code is exactly the code the tests run.
"""

from __future__ import annotations

import importlib.util
import inspect
import json
import sys
from pathlib import Path
from types import ModuleType

from seclab.authoring import answer, code, md, solution, write_notebook

HERE = Path(__file__).resolve().parent


def _solution_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("multi_account_solution", HERE / "solution.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # inspect finds a class's source through its module
    spec.loader.exec_module(module)
    return module


SOL = _solution_module()


def src(*names: str) -> str:
    return "\n\n".join(inspect.getsource(getattr(SOL, n)).rstrip() for n in names)


def solved(grade_id: str, names: tuple[str, ...], call: str) -> object:
    return solution(f"### BEGIN SOLUTION\n{src(*names)}\n\n\n{call}\n### END SOLUTION", grade_id=grade_id)


GLOBAL_LIST = "GLOBAL_SERVICES = " + json.dumps(SOL.GLOBAL_SERVICES, indent=4)

cells = [
    md("""
# A multi-account ML platform with hard isolation

Five business units (BUs) share your company's ML platform. Each trains and serves its own models on its own data,
and **no business unit may reach another's models, data or compute**. A central MLOps team runs what is shared:
the container registry the models are served from, and the deployments into each business unit.

You are the platform team. You will build, in your own simulated AWS organization:

1. **Accounts**: one AWS account per business unit and a Shared Services account, in organizational units (OUs).
2. **Identities**: IAM Identity Center permission sets for each business unit's data scientists and ML engineers
   and for the platform admins; a cross-account `MLOpsAccess` role in every BU account that only the Shared
   Services `MLOps` role may assume.
3. **A central registry**: an ECR repository in Shared Services (your KMS key, scan on push, immutable tags) that
   only the business units' execution roles can pull from, and that no business unit can push to.
4. **A hub-and-spoke network**: every BU's VPC talks to Shared Services on HTTPS, never to another BU.
5. **Guardrails** (service control policies, SCPs): only the approved regions, only the approved KMS keys, nobody
   leaves the organization or stops CloudTrail.
6. **Proof**: the grader follows every identity path and every route across the whole organization and shows
   you an isolation matrix.

```mermaid
flowchart TB
  root["Organization root<br/>SCPs: approved regions only, stay in the org, CloudTrail stays on"]
  root --> bus["OU BusinessUnits<br/>SCP: approved KMS keys only"]
  root --> infra["OU Infrastructure"]
  bus --> bu1["bu-A account<br/>VPC, bucket, KMS key<br/>MLOpsAccess, MLExecution"]
  bus --> bu2["bu-B account (x5)"]
  infra --> shared["shared-services account<br/>MLOps role, ECR platform/ml-serving, VPC"]
  idc(["IAM Identity Center<br/>groups -> permission sets"]) -.->|DataScientist-A, MLEngineer-A| bu1
  idc -.->|PlatformAdmin| shared
  shared -.->|MLOps assumes MLOpsAccess| bu1
  shared -.->|MLOps assumes MLOpsAccess| bu2
  bu1 <==>|peering, tcp/443| shared
  bu2 <==>|peering, tcp/443| shared
  bu1 -.-x|never| bu2
```

### What the simulator can and cannot show

Everything you build is real AWS API calls (boto3) against a simulated cloud. The simulator stores every
policy, but **it does not enforce SCPs, trust policies, repository policies or security groups**, and it cannot
serve one account's ECR images or KMS keys to another account. So the grader does what an auditor does: it
evaluates representative requests with seclab's IAM engine (SCP levels, trust policies, resource policies) and
follows routes with seclab's network engine, over the whole organization's inventory. Two places where you will
see the simulator's limits:

- **Transit gateway**: at scale you would use a transit gateway shared through RAM. The simulator cannot route a
  VPC to a transit gateway owned by another account (it drops the route's target) and does not honour RAM
  shares, so this lab builds hub and spoke with **VPC peering**, which works across accounts here and is
  non-transitive by design. The network engine judges a transit gateway's route tables the same way.
- **Identity Center roles**: an assignment does not create the `AWSReservedSSO_*` role in the target account; the
  grader models that role from the permission set, as AWS would create it.

> Your grade comes from the simulator's state, computed outside this notebook. Editing the notebook cannot
> change it.
""", grade_id="intro"),
    md("## Set up\nRun this cell first. It prepares your organization and prints the plan you will build.",
       grade_id="setup-md"),
    code("""
import json
from collections.abc import Callable
from typing import Any

import boto3
from IPython.display import Markdown, display
from seclab.notebook import Lab

lab = Lab("multi-account")
facts = lab.setup(show=False)

rows = "\\n".join(f"| {bu['name']} | `{bu['account_name']}` | `{bu['cidr']}` | `{bu['bucket']}` | `{bu['key_alias']}` | "
                 f"{', '.join(bu['groups'].values())} |" for bu in facts["business_units"])
sh = facts["shared"]
display(Markdown(f\"\"\"**Your plan**

| business unit | account | VPC CIDR | bucket | approved KMS key | Identity Center groups |
|---|---|---|---|---|---|
{rows}
| shared services | `{sh['account_name']}` | `{sh['cidr']}` | ECR `{sh['ecr_repository']}` | `{sh['ecr_key_alias']}` | {facts['platform_admin']['group']} |

Approved regions: **{', '.join(facts['approved_regions'])}**. Platform range: `{facts['supernet']}`.
Service port: **tcp/{facts['service_port']}**. MLOps ExternalId: `{facts['external_id']}`.
OUs: `{facts['ous']['business_units']}`, `{facts['ous']['infrastructure']}`.
\"\"\"))
""", grade_id="setup"),
    md("""
### Acting in member accounts

Your credentials belong to the organization's **management account**. To act in a member account you assume
`OrganizationAccountAccessRole`, which AWS Organizations creates in every account it creates (its trust admits
the management account). The helper below does that for you: `accounts.client("ec2", "bu-retail")` is an EC2
client in the bu-retail account, `accounts.client("organizations")` one in your management account, and
`accounts.id("shared-services")` that account's id.
""", grade_id="helpers-md"),
    code("""
def session_for(account_id):
    \"\"\"None: your management account; otherwise a session inside that member account.\"\"\"
    if account_id is None:
        return boto3.Session()
    creds = boto3.client("sts").assume_role(
        RoleArn=f"arn:aws:iam::{account_id}:role/OrganizationAccountAccessRole",
        RoleSessionName="platform-team")["Credentials"]
    return boto3.Session(aws_access_key_id=creds["AccessKeyId"], aws_secret_access_key=creds["SecretAccessKey"],
                         aws_session_token=creds["SessionToken"])


""" + src("Accounts") + """


accounts = Accounts(session_for)
print("management account:", accounts.id(None))
""", grade_id="helpers"),
    md("""
## 1. Accounts and organizational units

Set-up already turned your account into an organization's management account (with SCPs enabled). Build the
structure:

1. Under the root, create the OUs `facts["ous"]["business_units"]` and `facts["ous"]["infrastructure"]`.
2. Create the five business-unit accounts and the Shared Services account with
   `organizations.create_account(AccountName=..., Email=...)` (names and e-mails are in `facts`).
3. Move each business unit's account into the BusinessUnits OU and Shared Services into Infrastructure.

Guardrails attach to OUs, so the placement decides which rules bind each account.
Stuck? `lab.hint("organization")` reveals one hint at a time.
""", grade_id="task1-md"),
    solved("task1", ("build_organization",), "build_organization(accounts, facts)"),
    code('lab.check("organization")', grade_id="check1"),
    md("""
### The account baseline (provided)

A real platform has an account-vending pipeline that gives every new account the same starting point. Run this
cell: it gives each business-unit account a VPC and private subnet from the CIDR plan, an empty `ml-workloads`
security group, the business unit's **approved KMS key**, its encrypted private bucket and the `MLExecution` role
SageMaker runs as; and Shared Services a VPC, subnet and empty security group. It is not graded on its own, but
every later task builds on it. Accounts that do not exist yet are skipped.
""", grade_id="baseline-md"),
    code(src("build_baseline") + "\n\n\nbuild_baseline(accounts, facts)", grade_id="baseline"),
    md("""
## 2. Identity Center permission sets and the cross-account MLOps roles

**People.** The company's identity provider already syncs groups into IAM Identity Center: for each business unit
`<bu>-data-scientists` and `<bu>-ml-engineers`, and `platform-admins`. Create, in Identity Center
(`sso-admin`, in your management account):

- for each business unit, the permission sets `DataScientist-<bu>` and `MLEngineer-<bu>` with an **inline
  policy scoped to that business unit only** (its bucket, its KMS key, SageMaker resources in its account,
  passing its own `MLExecution` role to SageMaker; no `*` resources for data, no IAM changes). Data scientists
  read and write data and run training jobs; ML engineers read models and create models, endpoint configs and
  endpoints;
- assign each to its group **in that business unit's account only**;
- a `PlatformAdmin` permission set that may assume the `MLOps` role, assigned to `platform-admins` in
  **Shared Services only**.

**The MLOps path.** In Shared Services create the `MLOps` role (trusting only the PlatformAdmin Identity Center
role) and let it assume each business unit's `MLOpsAccess` role. In every business-unit account create
`MLOpsAccess`, whose trust policy admits **only** `arn:aws:iam::<shared-services>:role/MLOps`, with the condition
`sts:ExternalId` = `facts["external_id"]` (or `aws:PrincipalOrgID` = your organization id). Never an account's
`:root`, never `"*"`.
""", grade_id="task2-md"),
    solved("task2", ("bu_policy", "_put_role", "build_identity"), "build_identity(accounts, facts)"),
    code('lab.check("identity")', grade_id="check2"),
    md("""
## 3. The central model-serving registry

In Shared Services:

1. create a KMS key with the alias `facts["shared"]["ecr_key_alias"]` (ECR's encryption is chosen when the
   repository is created and cannot be changed);
2. create the repository `facts["shared"]["ecr_repository"]` encrypted with that key, **scan on push** and
   **immutable tags**;
3. set a repository policy that lets **each business unit's `MLExecution` role** pull
   (`ecr:BatchGetImage`, `ecr:GetDownloadUrlForLayer`, `ecr:BatchCheckLayerAvailability`) and nobody else:
   no account roots, no `"*"`, and no push or delete action for anyone outside Shared Services.

The simulator cannot serve Shared Services' images to another account, so the grader evaluates the repository
policy for representative principals instead (each execution role, another role of the same account, an
outsider; pull and push actions).
""", grade_id="task3-md"),
    solved("task3", ("build_registry",), "build_registry(accounts, facts)"),
    code('lab.check("registry")', grade_id="check3"),
    md("""
## 4. Hub-and-spoke network

Connect every business unit's VPC to Shared Services, and never a business unit to another:

1. for each business unit, a **VPC peering connection** from its VPC to the Shared Services VPC
   (`create_vpc_peering_connection(VpcId=..., PeerVpcId=..., PeerOwnerId=<shared-services id>)` in the BU
   account), accepted in Shared Services;
2. routes: the BU's route table sends the Shared Services CIDR over its peering; the Shared Services route
   table sends each BU's CIDR over that BU's peering. Peering is not transitive: two BUs peered with the hub
   still cannot reach each other, as long as no route or peering joins them directly;
3. security groups: the Shared Services group admits tcp/443 from each business unit's CIDR; each business
   unit's `ml-workloads` group admits tcp/443 from the Shared Services CIDR only.

The grader asks the network engine, over the whole organization, whether each BU is routed to Shared Services
and whether any BU is routed to another, and reads every inbound rule of the platform's security groups.
""", grade_id="task4-md"),
    solved("task4", ("_vpc", "_route", "_ingress", "build_network"), "build_network(accounts, facts)"),
    code('lab.check("network")', grade_id="check4"),
    md("""
## 5. Guardrails as SCPs

SCPs are the one control a member account's own administrators cannot remove. The previous platform team left
one: read it first.
""", grade_id="task5-md-a"),
    code("""
org = accounts.client("organizations")
for p in org.list_policies(Filter="SERVICE_CONTROL_POLICY")["Policies"]:
    if p["Name"] == facts["legacy_scp"]:
        content = org.describe_policy(PolicyId=p["Id"])["Policy"]["Content"]
        print(p["Name"], json.dumps(json.loads(content), indent=2))
""", grade_id="legacy"),
    md("""
It has two bugs. Fix them and add the missing guardrails:

1. **Regions**: deny everything outside `facts["approved_regions"]`. Use `StringNotEquals` on
   `aws:RequestedRegion`, and exempt the global services (IAM, STS, Organizations, Support, CloudFront,
   Route 53, ...) with `NotAction`, as in AWS's documented example: their requests are served from us-east-1
   whatever region a client names.
2. **Keys**: on the BusinessUnits OU, deny `sagemaker:CreateTrainingJob`, `CreateProcessingJob`,
   `CreateEndpointConfig` (and the other volume-encrypting creates) unless `sagemaker:VolumeKmsKey` is an
   approved key, and `s3:PutObject` unless `s3:x-amz-server-side-encryption-aws-kms-key-id` is an approved key.
   The approved keys are the business units' keys (`alias/<bu>-ml` in each BU account); name them by ARN.
3. **Protection**: on the root, deny `organizations:LeaveOrganization` and `cloudtrail:StopLogging`,
   `DeleteTrail`, `UpdateTrail`, `PutEventSelectors`.

Keep `FullAWSAccess` attached everywhere: SCPs never grant, they only take away. The simulator does not enforce
SCPs, so the grader **proves** each guardrail: it evaluates requests through every SCP level (root, OU, account)
as every principal of every member account (and a role created tomorrow): a request in a forbidden region must
be denied, one in an approved region allowed; a training job without the approved key denied, with it allowed.

Note for real AWS: with this S3 rule, uploads must name the key (`SSEKMSKeyId=...`) even when the bucket's
default encryption already uses it, because the header is absent from requests that rely on the default.
""", grade_id="task5-md-b"),
    solved("task5", ("region_guardrail", "kms_guardrail", "protect_guardrail", "build_guardrails"),
           GLOBAL_LIST + "\n\n\n" + "build_guardrails(accounts, facts)"),
    code('lab.check("guardrails")', grade_id="check5"),
    md("""
## 6. Prove isolation across the organization

The grader now builds the organization's **who-can-reach graph**: Identity Center groups sign in to the roles
their permission sets give, principals assume roles (their policies, the SCPs and the role's trust policy all
evaluated), principals pass roles to SageMaker, and bucket and key policies admit principals of other accounts.
For every ordered pair of business units it looks for any path from one to the other's models, data or compute,
and it checks that the MLOps role enters each business unit only as `MLOpsAccess`. The network engine adds the
routes. Here is the result, drawn from your organization's live state:
""", grade_id="task6-md"),
    code('lab.diagram()\nlab.check("isolation")', grade_id="check6"),
    md("""
### What if? (provided)

Isolation breaks through chains. This cell makes one realistic mistake (a business unit's ML engineers are given
the PlatformAdmin permission set in Shared Services, "so they can debug deployments"), shows you what the grader
says, then undoes it. Read the path in the message.
""", grade_id="whatif-md"),
    code("""
sso = accounts.client("sso-admin")
instance = sso.list_instances()["Instances"][0]
ia = instance["InstanceArn"]
groups = {g["DisplayName"]: g["GroupId"] for g in
          accounts.client("identitystore").list_groups(IdentityStoreId=instance["IdentityStoreId"])["Groups"]}
psets = {sso.describe_permission_set(InstanceArn=ia, PermissionSetArn=a)["PermissionSet"]["Name"]: a
         for a in sso.list_permission_sets(InstanceArn=ia)["PermissionSets"]}
engineers = facts["business_units"][0]["groups"]["MLEngineer"]
if "PlatformAdmin" in psets and accounts.has(facts["shared"]["account_name"]):
    mistake = dict(InstanceArn=ia, TargetId=accounts.id(facts["shared"]["account_name"]), TargetType="AWS_ACCOUNT",
                   PermissionSetArn=psets["PlatformAdmin"], PrincipalType="GROUP", PrincipalId=groups[engineers])
    sso.create_account_assignment(**mistake)
    try:
        lab.check("isolation")
    finally:
        sso.delete_account_assignment(**mistake)
    print("undone: the assignment is deleted again")
else:
    print("Build task 2 first (the PlatformAdmin permission set and the shared-services account).")
""", grade_id="whatif"),
    md("""
**In your own words:** the what-if above changed one Identity Center assignment and no policy at all. Explain
why that one change let a business unit reach the others' data, and name two controls in this lab that would
have stopped (or at least revealed) it.
""", grade_id="reflect-md"),
    answer("reflect", 5, """
The ML engineers' group got the PlatformAdmin role in Shared Services; that role may assume MLOps, and MLOps may
assume every business unit's MLOpsAccess role, which reads that unit's models. Each link was legitimate for the
platform team; the assignment connected a business unit to the start of the chain. Controls: keeping PlatformAdmin
assignments to the platform-admins group (reviewed), and the isolation proof over the who-can-reach graph, which
names the whole path; narrower MLOpsAccess permissions (deploy without reading data) would limit the damage.
"""),
    md("## Check your whole lab\nThe whole lab, graded from the simulator's state, then the live diagram.",
       grade_id="final-md"),
    code("result = lab.check()\nlab.diagram()", grade_id="final"),
]

if __name__ == "__main__":
    write_notebook(HERE / "multi-account.ipynb", cells, "A multi-account ML platform with hard isolation")
    print("wrote", HERE / "multi-account.ipynb")
