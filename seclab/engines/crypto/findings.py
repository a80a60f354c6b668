"""Findings and the at-rest record: the small shared vocabulary of the encryption engine.

Why one vocabulary: the graders, the notebooks' summary and `seclab crypto report` all read the same dicts, so a
finding has a stable `code` a check can branch on, a `severity`, and a sentence a learner can act on. The at-rest
record is the contract's four fields, built in one place so they mean the same for every resource type.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

KeyKind = Literal["customer_managed", "aws_managed", "aws_owned", "none"]
Severity = Literal["error", "high", "medium", "low", "info"]

KEY_KINDS: tuple[str, ...] = ("customer_managed", "aws_managed", "aws_owned", "none")

# key states in which KMS refuses to use a key (AWS KMS "Key states" table); None = unknown or not applicable
UNUSABLE_STATES = frozenset({"Disabled", "PendingDeletion", "PendingImport", "Unavailable", "PendingReplicaDeletion",
                             "NotFound"})


@dataclass(frozen=True)
class Finding:
    """One thing worth telling: `code` is stable (checks branch on it), `message` is for a learner.

    severity "error" means the engine could not evaluate something: a check must turn it into ERROR, never PASS.
    """

    code: str
    severity: Severity
    message: str

    def to_dict(self) -> dict[str, str]:
        return {"code": self.code, "severity": self.severity, "message": self.message}


def at_rest(encrypted: bool | None, key_arn: str | None, key_kind: KeyKind | None,
            key_state: str | None) -> dict[str, Any]:
    """The contract's at-rest record. `encrypted` None and `key_kind` None mean "not applicable" (a load balancer
    stores nothing); everywhere else key_kind is one of KEY_KINDS and key_arn the key's own ARN (None for
    aws_owned / none, or when the key cannot be named)."""
    return {"encrypted": encrypted, "key_arn": key_arn, "key_kind": key_kind, "key_state": key_state}


# findings about a key itself, reported once on the key's own resource rather than on every store that uses it
KEY_LEVEL_CODES = frozenset({"aws_owned_key", "key_rotation_disabled"})

NOT_APPLICABLE_AT_REST: dict[str, Any] = at_rest(None, None, None, None)


def strength(record: dict[str, Any]) -> int:
    """How strong an at-rest record is, to pick a resource's weakest store (lower is weaker).

    0 not encrypted; 1 names a key KMS would refuse (missing, disabled, pending deletion): the data is at best
    unreadable and the configuration is broken; 2 AWS-owned key (no control, no audit); 3 AWS-managed key
    (auditable, not controllable); 4 customer-managed key in a usable or unknown state. Not applicable = 5;
    encrypted with a key that cannot be known (an object in a bucket nobody inventoried) counts as 2.
    """
    if record.get("encrypted") is None and record.get("key_kind") is None:
        return 5
    if not record.get("encrypted"):
        return 0
    if record.get("key_state") in UNUSABLE_STATES:
        return 1
    if record.get("key_kind") is None:
        return 2  # encrypted with an unknown key (S3 encrypts every object): at least AWS-owned
    return {"aws_owned": 2, "aws_managed": 3, "customer_managed": 4}.get(str(record.get("key_kind")), 0)
