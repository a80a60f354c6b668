"""seclab's IAM engine: AWS policy evaluation, least-privilege scoring and who-can-reach-what.

Pure functions over policies and inventories (no boto3, no labs, no grading). The evaluator follows the AWS
documentation; where engines disagree it follows the documentation (../shared/design/iam-and-network-engines.md
§4.5). Public API:

    evaluate(Request, PolicySet) -> Decision          the authorization decision and what decided it
    parse_policy(doc, name) -> Policy                 typed parse, PolicyError on a malformed document
    infer_context(...)                                the explicit context-inference layer graders may use
    principal_policies(inventory, arn) -> PolicySet   a principal's identity policies, boundary and SCPs
    least_privilege(...), trust_policy_findings(...)  scored findings with evidence
    AccessGraph / build_graph(...)                    who can reach what, across accounts
"""

from seclab.engines.iam.context import infer_context
from seclab.engines.iam.errors import PolicyError, RequestError
from seclab.engines.iam.evaluator import (
    ALLOW,
    EXPLICIT_DENY,
    IMPLICIT_DENY,
    Decision,
    PolicySet,
    Request,
    evaluate,
    normalise_context,
    resource_policy_required,
)
from seclab.engines.iam.graph import AccessGraph, Edge, Node, Reach, build_graph
from seclab.engines.iam.inventory import (
    PrincipalPolicies,
    ResourceSide,
    load_principal,
    organization_levels,
    principal_policies,
    resource_side,
)
from seclab.engines.iam.least_privilege import Finding, LeastPrivilegeReport, Requirement, least_privilege
from seclab.engines.iam.policy import Policy, Statement, parse_policy
from seclab.engines.iam.principals import Caller, PrincipalKind, parse_caller
from seclab.engines.iam.trust import TrustReport, trust_policy_findings

__all__ = [
    "ALLOW",
    "EXPLICIT_DENY",
    "IMPLICIT_DENY",
    "AccessGraph",
    "Caller",
    "Decision",
    "Edge",
    "Finding",
    "LeastPrivilegeReport",
    "Node",
    "Policy",
    "PolicyError",
    "PolicySet",
    "PrincipalKind",
    "PrincipalPolicies",
    "Reach",
    "Request",
    "RequestError",
    "Requirement",
    "ResourceSide",
    "Statement",
    "TrustReport",
    "build_graph",
    "evaluate",
    "infer_context",
    "least_privilege",
    "load_principal",
    "normalise_context",
    "organization_levels",
    "parse_caller",
    "parse_policy",
    "principal_policies",
    "resource_policy_required",
    "resource_side",
    "trust_policy_findings",
]
