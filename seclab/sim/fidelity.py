"""Patches to moto, applied once in the simulator process before it serves a request.

Each patch fixes a moto behaviour the labs depend on (moto-feasibility.md §1, §7) or one the journal's
determinism depends on, and each is pinned by a test in tests/sim/test_sim_fidelity.py that fails when moto
changes (the unpatched symbol is kept in ORIGINALS so the tests can check moto still behaves the old way; once it
does not, the patch can go).

1. SageMaker CreateModel drops EnableNetworkIsolation (Model.__init__ hard-codes False): record the request's value.
2. S3 enforces bucket policies wrongly (conditions are ignored, so a DenyInsecureTransport or
   DenyUnencryptedUploads policy blocks every object request): moto no longer enforces bucket policies; seclab
   grades policies statically instead.
3. KMS key material comes from os.urandom, so a restored key could not decrypt old ciphertexts: draw it from
   moto's seeded random instead. STS session tokens likewise.
4. Lazily created backends (a new account's IAM managed policies, a region's default VPC) draw ids from the shared
   seeded random at whatever moment a request first touches them (reads included). They now draw from a random
   seeded by (seed, service, account, region), so ids do not depend on the order of reads and writes.
5. moto's CloudFormation parses templates with yaml.Loader (executes Python tags): swap in a safe loader (at the
   first CloudFormation call, see ensure_cloudformation).
6. S3 lets any account reach any bucket by name: only accounts of the same learner may (others: AccessDenied).
7. Lambda and Batch never start Docker containers.
8. Speed, not behaviour: moto's server lists its own package directory (a listdir and ~180 stats) to route every
   request, and lists a response class's methods with inspect.getmembers on every call. Both answers are fixed for
   the life of the process, so they are computed once. This halves moto's own cost per call.
"""

from __future__ import annotations

import importlib.abc
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

ORIGINALS: dict[str, Any] = {}
_applied = False
_seed = 0
_same_owner: Callable[[str, str], bool] = lambda a, b: a == b  # noqa: E731


def _random() -> Any:
    from moto.moto_api._internal import mock_random

    return mock_random


@contextmanager
def derived_random(key: str) -> Iterator[None]:
    """Run the block with moto's random seeded from (seed, key), then put the shared stream back untouched."""
    rnd = _random()
    saved = rnd.getstate()
    rnd.seed(f"seclab|{_seed}|{key}")
    try:
        yield
    finally:
        rnd.setstate(saved)


def set_owner_check(check: Callable[[str, str], bool]) -> None:
    """`check(account_a, account_b)`: do both accounts belong to the same learner? (used by patch 6)."""
    global _same_owner
    _same_owner = check


def _patch_sagemaker() -> None:
    from moto.sagemaker import responses as sm_responses

    original = sm_responses.SageMakerResponse.create_model
    ORIGINALS["sagemaker.create_model"] = original

    def create_model(self: Any) -> Any:
        result = original(self)
        isolation = self._get_param("EnableNetworkIsolation")
        if isolation is not None:
            model = self.sagemaker_backend.describe_model(self._get_param("ModelName"))
            model.enable_network_isolation = bool(isolation)
        return result

    sm_responses.SageMakerResponse.create_model = create_model  # type: ignore[method-assign]


def _patch_s3_policy() -> None:
    from moto.s3 import models as s3_models

    ORIGINALS["s3.FakeBucket.get_permission"] = s3_models.FakeBucket.get_permission

    def get_permission(self: Any, action: str, resource: str) -> Any:
        from moto.iam.access_control import PermissionResult  # here: moto.iam imports moto.s3 while loading

        return PermissionResult.NEUTRAL

    s3_models.FakeBucket.get_permission = get_permission  # type: ignore[method-assign]


def _patch_kms() -> None:
    from moto.kms import models as kms_models
    from moto.kms import utils as kms_utils

    ORIGINALS["kms.generate_master_key"] = kms_models.generate_master_key

    def generate_master_key() -> bytes:
        return _random().getrandbits(8 * kms_utils.MASTER_KEY_LEN).to_bytes(kms_utils.MASTER_KEY_LEN, "big")

    kms_models.generate_master_key = generate_master_key


def _patch_sts() -> None:
    import base64

    from moto.sts import models as sts_models
    from moto.sts import utils as sts_utils

    ORIGINALS["sts.random_session_token"] = sts_models.random_session_token

    def random_session_token() -> str:
        raw = _random().getrandbits(8 * 266).to_bytes(266, "big")
        prefix = sts_utils.SESSION_TOKEN_PREFIX
        return prefix + base64.b64encode(raw)[len(prefix) :].decode()

    sts_models.random_session_token = random_session_token


def _patch_backend_creation() -> None:
    from moto.core.base_backend import AccountSpecificBackend

    original = AccountSpecificBackend.__getitem__
    ORIGINALS["core.AccountSpecificBackend.__getitem__"] = original

    def getitem(self: Any, region_name: str) -> Any:
        key = "aws" if region_name == "global" else region_name
        if dict.__contains__(self, key):
            return dict.__getitem__(self, key)
        with derived_random(f"{self.service_name}|{self.account_id}|{key}"):
            return original(self, region_name)

    AccountSpecificBackend.__getitem__ = getitem  # type: ignore[method-assign]


def ensure_cloudformation() -> None:
    """Patch moto's CloudFormation loader; called before the first CloudFormation call reaches moto.

    Lazy because importing moto.cloudformation costs seconds (it imports every backend), which would break the
    simulator's start-up budget; nothing parses a template before a CloudFormation call.
    """
    global _cfn_patched
    if _cfn_patched:
        return
    with _apply_lock:
        if not _cfn_patched:
            _patch_cloudformation_yaml()
            _cfn_patched = True


def _patch_cloudformation_yaml() -> None:
    from moto.cloudformation import models as cf_models
    from moto.cloudformation import responses as cf_responses

    from seclab.sim.cfn import SafeYamlShim

    ORIGINALS["cloudformation.yaml"] = cf_responses.yaml
    shim = SafeYamlShim()
    cf_responses.yaml = shim  # type: ignore[assignment]
    cf_models.yaml = shim  # type: ignore[assignment]


def _patch_s3_cross_account() -> None:
    from moto.s3 import models as s3_models
    from moto.s3.exceptions import AccessDeniedByLock

    original = s3_models.S3Backend.get_bucket
    ORIGINALS["s3.S3Backend.get_bucket"] = original

    def get_bucket(self: Any, bucket_name: str) -> Any:
        try:
            return original(self, bucket_name)
        except AccessDeniedByLock:
            owner = s3_models.s3_backends.bucket_accounts.get(bucket_name)
            if owner and _same_owner(self.account_id, owner[1]):
                return s3_models.s3_backends[owner[1]][owner[0]].buckets[bucket_name]
            raise

    s3_models.S3Backend.get_bucket = get_bucket  # type: ignore[method-assign]


def _patch_per_request_scans() -> None:
    import functools

    from moto import backends
    from moto.core import responses as core_responses

    list_modules, list_methods = backends.list_of_moto_modules, core_responses.method_names_from_class
    ORIGINALS["backends.list_of_moto_modules"] = list_modules
    ORIGINALS["core.responses.method_names_from_class"] = list_methods
    modules = tuple(list_modules())
    backends.list_of_moto_modules = lambda: modules  # type: ignore[assignment, return-value]
    method_names = functools.lru_cache(maxsize=None)(lambda clazz: frozenset(list_methods(clazz)))
    core_responses.method_names_from_class = method_names  # type: ignore[assignment]


def _patch_docker() -> None:
    from moto.core.config import default_user_config

    default_user_config.setdefault("lambda", {})["use_docker"] = False  # type: ignore[typeddict-item]
    default_user_config.setdefault("batch", {})["use_docker"] = False  # type: ignore[typeddict-item]


_apply_lock = threading.RLock()
_cfn_patched = False


class _PostImportPatcher(importlib.abc.MetaPathFinder):
    """Runs a patch right after a moto module is first imported.

    Why: importing moto's sagemaker/kms/sts modules up front costs ~0.2 s of start-up that a bare moto_server
    does not pay (it imports service modules on first use); patching at import keeps both the start-up budget and
    the guarantee that no request ever sees an unpatched module.
    """

    def __init__(self, hooks: dict[str, list[Callable[[], None]]]) -> None:
        self.hooks = hooks

    def find_spec(self, fullname: str, path: Any, target: Any = None) -> Any:
        if fullname not in self.hooks:
            return None
        for finder in sys.meta_path:
            if finder is self:
                continue
            spec = finder.find_spec(fullname, path, target) if hasattr(finder, "find_spec") else None
            if spec is not None and spec.loader is not None:
                loader = spec.loader
                original_exec = loader.exec_module  # type: ignore[union-attr]
                hooks = self.hooks.pop(fullname)

                def exec_module(module: Any, _orig: Any = original_exec, _hooks: Any = hooks) -> None:
                    _orig(module)
                    for hook in _hooks:
                        hook()

                loader.exec_module = exec_module  # type: ignore[method-assign, union-attr]
                return spec
        return None


def _when_imported(hooks: dict[str, list[Callable[[], None]]]) -> None:
    """Run each hook now if its module is loaded, else right after it is imported."""
    pending: dict[str, list[Callable[[], None]]] = {}
    for module, fns in hooks.items():
        if module in sys.modules:
            for fn in fns:
                fn()
        else:
            pending[module] = fns
    if pending:
        sys.meta_path.insert(0, _PostImportPatcher(pending))


def apply(seed: int) -> None:
    """Apply every patch (idempotent; service modules are patched as they are imported) and seed moto's random."""
    global _applied, _seed
    with _apply_lock:
        _seed = seed
        if not _applied:
            _patch_backend_creation()
            _patch_docker()
            _patch_per_request_scans()
            _when_imported({
                "moto.sagemaker.responses": [_patch_sagemaker],
                "moto.s3.models": [_patch_s3_policy, _patch_s3_cross_account],
                "moto.kms.models": [_patch_kms],
                "moto.sts.models": [_patch_sts],
            })
            _applied = True
        _random().seed(seed)
