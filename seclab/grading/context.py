"""What a check sees (CheckContext) and what it returns (Finding); what a lab's setup and solution see (LabContext).

Why: a check must be a small pure function of the inventory and the scenario facts. The context hands it exactly
that, plus constructors that make the status explicit (ok / fail / error / not_applicable) with a keyed message
and evidence, so learner-facing text never lives in code.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import boto3

from seclab.inventory.model import AccountInventory, OrgInventory

from .checks import Status


@dataclass(frozen=True)
class Finding:
    status: Status
    key: str
    params: Mapping[str, Any] = field(default_factory=dict)
    evidence: Any = None


@dataclass(frozen=True)
class CheckContext:
    """One check's view: the snapshot (home account + organization), the scenario facts, the lab's parameters."""

    org: OrgInventory
    facts: Mapping[str, Any]
    params: Mapping[str, Any]
    learner: str
    lab: str

    @property
    def inventory(self) -> AccountInventory:
        return self.org.management

    def account(self, account_id: str) -> AccountInventory | None:
        return self.org.accounts().get(account_id)

    def ok(self, key: str = "pass", evidence: Any = None, **params: Any) -> Finding:
        return Finding(Status.PASS, key, params, evidence)

    def fail(self, key: str, evidence: Any = None, **params: Any) -> Finding:
        return Finding(Status.FAIL, key, params, evidence)

    def error(self, key: str, evidence: Any = None, **params: Any) -> Finding:
        return Finding(Status.ERROR, key, params, evidence)

    def not_applicable(self, key: str, evidence: Any = None, **params: Any) -> Finding:
        return Finding(Status.NOT_APPLICABLE, key, params, evidence)


@dataclass
class LabContext:
    """What a lab's setup(), solve() and reset() get: sessions acting as the learner, and the learner's seed."""

    lab: str
    learner: str
    account_id: str
    seed: int
    region: str = "us-east-1"
    rng: random.Random = field(init=False)

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)

    def session(self, account: str | None = None) -> boto3.Session:
        from seclab.sim.sessions import learner_session

        return learner_session(self.learner, account=account, region=self.region)

    def client(self, service: str, account: str | None = None) -> Any:
        from botocore.config import Config

        cfg = Config(s3={"addressing_style": "path"}, retries={"max_attempts": 3, "mode": "standard"})
        return self.session(account).client(service, config=cfg)
