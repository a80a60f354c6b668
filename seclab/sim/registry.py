"""Learners: who may use the simulator, with which credentials, in which accounts.

Why a file and not the simulator's memory: credentials must exist before the simulator starts (`seclab env` hands
them to a notebook) and survive its restarts. The registry is one JSON file in the state dir, written atomically
under an fcntl lock, so the CLI, the server process (which records member accounts from Organizations responses)
and concurrent test workers never lose each other's updates.

A learner's home account is derived from the name (sha256), so the same name always lands in the same account on
every machine; the access key is random. A learner owns the home account plus every member account their
Organization creates.
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
import time
from dataclasses import dataclass, field
from typing import Any

from seclab.errors import InputError, NotFound, UsageError
from seclab.sim import state

DEFAULT_LEARNER = "default"
NAME_RE = re.compile(r"[a-z0-9][a-z0-9-]{0,62}")
# moto's and LocalStack's default accounts: a learner living there would collide with tooling defaults.
RESERVED_ACCOUNTS = frozenset({"123456789012", "000000000000", "111111111111", "999999999999"})
KEY_PREFIX = "AKIASECLAB"  # 20-char ids: AKIA-like for tools that check the shape, recognisably seclab's
_B32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"


@dataclass(frozen=True)
class Learner:
    """A learner's identity. `accounts` lists the home account first, then member accounts in creation order."""

    name: str
    access_key_id: str
    secret_access_key: str
    home_account: str
    accounts: tuple[str, ...]
    services: tuple[str, ...] | None = None  # the lab's service allow-list; None = every service
    created_at: float = 0.0

    @property
    def arn(self) -> str:
        return f"arn:aws:iam::{self.home_account}:user/{self.name}"

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "access_key_id": self.access_key_id,
            "secret_access_key": self.secret_access_key,
            "home_account": self.home_account,
            "accounts": list(self.accounts),
            "services": None if self.services is None else list(self.services),
            "created_at": self.created_at,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Learner:
        services = data.get("services")
        return cls(
            name=str(data["name"]),
            access_key_id=str(data["access_key_id"]),
            secret_access_key=str(data["secret_access_key"]),
            home_account=str(data["home_account"]),
            accounts=tuple(str(a) for a in data.get("accounts") or [data["home_account"]]),
            services=None if services is None else tuple(str(s) for s in services),
            created_at=float(data.get("created_at") or 0.0),
        )


@dataclass
class _Doc:
    learners: dict[str, dict[str, Any]] = field(default_factory=dict)


def validate_name(name: str) -> str:
    """Return `name` if it is a valid learner name, else raise UsageError saying what a name may contain."""
    if not isinstance(name, str) or not NAME_RE.fullmatch(name):
        raise UsageError(
            f"invalid learner name {name!r}",
            "Use 1-63 characters: lowercase letters, digits and '-', starting with a letter or digit.",
        )
    return name


def new_access_key_id() -> str:
    return KEY_PREFIX + "".join(secrets.choice(_B32) for _ in range(20 - len(KEY_PREFIX)))


def new_secret() -> str:
    return secrets.token_urlsafe(30)[:40]


def _account_for(name: str, taken: set[str]) -> str:
    """A 12-digit account derived from the name; rehash (deterministically) on the rare collision."""
    salt = 0
    while True:
        digest = hashlib.sha256(f"seclab-learner:{name}:{salt}".encode()).digest()
        account = f"{int.from_bytes(digest[:8], 'big') % 10**12:012d}"
        if account not in RESERVED_ACCOUNTS and account not in taken and account[0] != "0":
            return account
        salt += 1


def _load() -> _Doc:
    path = state.learners_file()
    if not path.exists():
        return _Doc()
    data = state.read_json(path)
    if not isinstance(data, dict) or not isinstance(data.get("learners"), dict):
        # Never start over silently: that would overwrite every learner's credentials on the next write.
        raise InputError(f"the learner registry {path} is not valid JSON",
                         "Restore it from a backup, or delete it to start with only the default learner.")
    return _Doc(learners=dict(data["learners"]))


def _save(doc: _Doc) -> None:
    state.write_private(state.learners_file(), json.dumps({"version": 1, "learners": doc.learners}, indent=1))


def _make(name: str, doc: _Doc) -> dict[str, Any]:
    taken = {a for rec in doc.learners.values() for a in rec.get("accounts", [])}
    account = _account_for(name, taken)
    return Learner(
        name=name,
        access_key_id=new_access_key_id(),
        secret_access_key=new_secret(),
        home_account=account,
        accounts=(account,),
        created_at=time.time(),
    ).to_json()


def _ensure_default(doc: _Doc) -> bool:
    if DEFAULT_LEARNER in doc.learners:
        return False
    doc.learners[DEFAULT_LEARNER] = _make(DEFAULT_LEARNER, doc)
    return True


def add_learner(name: str) -> Learner:
    """Register `name` and return its credentials; an existing learner is returned unchanged (idempotent)."""
    validate_name(name)
    path = state.learners_file()
    with state.locked(path):
        doc = _load()
        changed = _ensure_default(doc)
        if name not in doc.learners:
            doc.learners[name] = _make(name, doc)
            changed = True
        if changed:
            _save(doc)
        return Learner.from_json(doc.learners[name])


def get_learner(name: str) -> Learner:
    """The learner called `name`; NotFound if unknown ("default" is created on first use)."""
    validate_name(name)
    doc = _load()
    if name not in doc.learners:
        if name == DEFAULT_LEARNER:
            return add_learner(DEFAULT_LEARNER)
        raise NotFound(f"unknown learner {name!r}", f"Add it with: seclab learner add {name}")
    return Learner.from_json(doc.learners[name])


def list_learners() -> list[Learner]:
    doc = _load()
    if DEFAULT_LEARNER not in doc.learners:
        add_learner(DEFAULT_LEARNER)
        doc = _load()
    return [Learner.from_json(doc.learners[n]) for n in sorted(doc.learners)]


def remove_learner(name: str) -> None:
    """Forget a learner's credentials (their simulated resources stay until the simulator is started --fresh)."""
    validate_name(name)
    if name == DEFAULT_LEARNER:
        raise UsageError("the default learner cannot be removed")
    path = state.learners_file()
    with state.locked(path):
        doc = _load()
        if name not in doc.learners:
            raise NotFound(f"unknown learner {name!r}", "List learners with: seclab learner list")
        del doc.learners[name]
        _save(doc)


def add_account(name: str, account: str) -> Learner:
    """Record that learner `name` owns member `account` (called by the gateway on Organizations CreateAccount)."""
    if not re.fullmatch(r"\d{12}", account):
        raise UsageError(f"invalid account id {account!r}")
    path = state.learners_file()
    with state.locked(path):
        doc = _load()
        if name not in doc.learners:
            raise NotFound(f"unknown learner {name!r}")
        rec = doc.learners[name]
        accounts = list(rec.get("accounts") or [rec["home_account"]])
        if account not in accounts:
            accounts.append(account)
            rec["accounts"] = accounts
            _save(doc)
        return Learner.from_json(rec)


def set_allowed_services(name: str, services: list[str] | tuple[str, ...] | None) -> Learner:
    """Limit learner `name` to `services` (boto3 client names, e.g. ["s3", "kms"]); None lifts the limit."""
    clean: list[str] | None = None
    if services is not None:
        clean = sorted({str(s).strip().lower() for s in services if str(s).strip()})
        for svc in clean:
            if not re.fullmatch(r"[a-z0-9][a-z0-9-]{0,62}", svc):
                raise UsageError(f"invalid service name {svc!r}")
    validate_name(name)
    path = state.learners_file()
    with state.locked(path):
        doc = _load()
        _ensure_default(doc)
        if name not in doc.learners:
            raise NotFound(f"unknown learner {name!r}", f"Add it with: seclab learner add {name}")
        doc.learners[name]["services"] = clean
        _save(doc)
        return Learner.from_json(doc.learners[name])


def clear_member_accounts() -> None:
    """Forget every member account (the simulator was started --fresh: those accounts no longer exist)."""
    path = state.learners_file()
    with state.locked(path):
        doc = _load()
        changed = False
        for rec in doc.learners.values():
            if len(rec.get("accounts") or []) > 1:
                rec["accounts"] = [rec["home_account"]]
                changed = True
        if changed:
            _save(doc)


@dataclass(frozen=True)
class Admin:
    """seclab's own identity: may name any account (x-seclab-account) and use moto's admin API."""

    access_key_id: str
    secret_access_key: str


def admin() -> Admin:
    """seclab's admin credentials, created on first use (0600 file in the state dir)."""
    path = state.admin_file()
    data = state.read_json(path)
    if isinstance(data, dict) and data.get("access_key_id") and data.get("secret_access_key"):
        return Admin(str(data["access_key_id"]), str(data["secret_access_key"]))
    with state.locked(path):
        data = state.read_json(path)
        if not (isinstance(data, dict) and data.get("access_key_id")):
            data = {"access_key_id": new_access_key_id(), "secret_access_key": new_secret()}
            state.write_private(path, json.dumps(data))
        return Admin(str(data["access_key_id"]), str(data["secret_access_key"]))


class RegistryView:
    """The gateway's cached view of the registry: re-read only when the file's mtime changes.

    Why: the gateway authenticates every request; reading and parsing the JSON each time would dominate the
    per-call overhead, while an os.stat is a few microseconds.
    """

    def __init__(self) -> None:
        self._path = state.learners_file()  # resolved once: state_dir() creates folders on every call
        self._mtime: int = -1
        self.by_key: dict[str, Learner] = {}
        self.by_name: dict[str, Learner] = {}
        self.owner_of: dict[str, str] = {}

    def refresh(self) -> None:
        path = self._path
        try:
            mtime = path.stat().st_mtime_ns
        except FileNotFoundError:
            add_learner(DEFAULT_LEARNER)
            mtime = path.stat().st_mtime_ns
        if mtime == self._mtime:
            return
        doc = _load()
        learners = [Learner.from_json(rec) for rec in doc.learners.values()]
        self.by_key = {lr.access_key_id: lr for lr in learners}
        self.by_name = {lr.name: lr for lr in learners}
        self.owner_of = {acct: lr.name for lr in learners for acct in lr.accounts}
        self._mtime = mtime
