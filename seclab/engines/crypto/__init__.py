"""The encryption engine: how each resource is protected at rest and in transit, and whether that holds.

Pure functions over the inventory (no boto3): the simulator validates no key reference and enforces no key or
bucket policy (moto-feasibility §1.3-1.5), so this engine resolves every reference itself and judges policies by
evaluating requests with the IAM engine.

    report(inventory) -> dict                    the `seclab crypto report` document (see report.py)
    summary(report, customer_key_arn=None)       learner-facing sentences
    resolve_key(inventory, ref, service=None)    a key reference -> KeyInfo
    analyze_key_policy(inventory, key)           who administers / uses a KMS key
    tls_enforcement / upload_encryption          what a bucket policy really enforces
"""

from __future__ import annotations

from .findings import KEY_KINDS, Finding, strength
from .keypolicy import ADMIN_ACTIONS, USE_ACTIONS, analyze_key_policy
from .keys import KeyInfo, aws_managed_key, resolve_key
from .report import account_resources, report
from .s3 import default_encryption, tls_enforcement, upload_encryption
from .summary import render_text, summary

__all__ = [
    "ADMIN_ACTIONS",
    "KEY_KINDS",
    "USE_ACTIONS",
    "Finding",
    "KeyInfo",
    "account_resources",
    "analyze_key_policy",
    "aws_managed_key",
    "default_encryption",
    "render_text",
    "report",
    "resolve_key",
    "strength",
    "summary",
    "tls_enforcement",
    "upload_encryption",
]
