"""The pipeline key has automatic rotation on (the inventory's GetKeyRotationStatus answer)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

from seclab.grading import CheckContext, Finding


def _lib() -> ModuleType:
    name = "seclab_graders.cmk_pipeline_lib"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(
            name, Path(__file__).resolve().parents[2] / "encryption" / "cmk_pipeline_lib" / "lib.py")
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


def run(ctx: CheckContext) -> Finding:
    lib = _lib()
    alias = str(ctx.facts["key_alias"])
    key = lib.usable_cmk(ctx.inventory, ctx.facts)
    if key is None:
        return ctx.fail("no_key", alias=alias)
    evidence = {"key_arn": key.arn, "alias": alias, "KeyRotationEnabled": key.rotation_enabled}
    if key.rotation_enabled is None:
        return ctx.error("rotation_unknown", evidence=evidence, key_arn=key.arn)
    if not key.rotation_enabled:
        return ctx.fail("rotation_off", evidence=evidence, key_arn=key.arn, alias=alias)
    return ctx.ok("pass", evidence=evidence, key_arn=key.arn, alias=alias)
