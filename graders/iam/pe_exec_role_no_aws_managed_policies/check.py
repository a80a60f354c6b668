"""The execution role carries no AWS managed policy: its permissions are its own, written for this endpoint.

AWS managed policies (AmazonSageMakerFullAccess, AmazonS3ReadOnlyAccess, AmazonEC2ContainerRegistryReadOnly, ...)
are written for every customer, grant far more than one endpoint needs and change when AWS updates them. Inline and
customer-managed policies are both fine.
"""

from __future__ import annotations

import importlib.util
import sys
from types import ModuleType
from typing import Any

from seclab.grading import CheckContext, Finding
from seclab.paths import labs_dir


def _pe() -> ModuleType:
    """The lab's shared evaluation helpers (labs/private-endpoint/checklib.py), loaded once per process."""
    name = "seclab_labs.private_endpoint.checklib"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, labs_dir() / "private-endpoint" / "checklib.py")
        if spec is None or spec.loader is None:
            raise ImportError("labs/private-endpoint/checklib.py cannot be loaded")
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module  # before exec: its dataclasses look their module up
        try:
            spec.loader.exec_module(module)
        except BaseException:
            del sys.modules[name]
            raise
    return sys.modules[name]


def run(ctx: CheckContext) -> Finding:
    pe = _pe()
    f, inv = ctx.facts, ctx.inventory
    name = str(f["execution_role_name"])
    role = inv.iam.role(name)
    if role is None:
        return ctx.fail("role_missing", role=name, account=inv.account_id)
    attached = [dict(a) for a in role.get("AttachedManagedPolicies", []) or []]
    inline = [str(p.get("PolicyName")) for p in role.get("RolePolicyList", []) or []]
    aws = [a for a in attached if str(a.get("PolicyArn", "")).startswith(pe.AWS_MANAGED_PREFIX)]
    evidence = {"role": role.get("Arn"), "AttachedManagedPolicies": attached, "inline_policies": inline}
    if aws:
        return ctx.fail("aws_managed", evidence=evidence, role=name,
                        policies=", ".join(str(a.get("PolicyName")) for a in aws))
    own = inline + [str(a.get("PolicyName")) for a in attached]
    return ctx.ok("pass", evidence=evidence, role=name, policies=", ".join(own) or "none")
