"""The invoking application's subnet reaches the endpoint on the model port (8080), as the network engine decides.

The source is a workload in the application subnet carrying the application's security group; the destination is
the endpoint where its VpcConfig places it. When blocked, every blocking component is named.
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
    from seclab.engines.net import reach

    pe = _pe()
    f, inv = ctx.facts, ctx.inventory
    ch = pe.chain(inv, f)
    if ch.endpoint is None:
        return ctx.fail("endpoint_missing", **pe.endpoint_missing_params(f))
    if ch.missing:
        return ctx.fail("chain_broken", endpoint=f["endpoint_name"], missing=", ".join(ch.missing))
    known = {str(s.get("SubnetId")) for s in inv.ec2.subnets}
    if f["app_subnet_id"] not in known or not any(g.get("GroupId") == f["app_security_group_id"]
                                                  for g in inv.ec2.security_groups):
        return ctx.error("target_missing", subnet=f["app_subnet_id"], group=f["app_security_group_id"])
    bad = [s for s in pe.model_subnets(ch) if s not in known]
    if bad:
        return ctx.fail("unknown_subnet", subnet=bad[0])
    port = int(f["port"])
    answer = reach(inv, {"from": {"subnet": f["app_subnet_id"], "security_groups": [f["app_security_group_id"]]},
                         "to": {"sagemaker_endpoint": f["endpoint_name"]}, "port": port, "protocol": "tcp"})
    params = {"endpoint": f["endpoint_name"], "subnet": f["app_subnet_id"], "cidr": f["app_subnet_cidr"],
              "port": port, "app_sg": f["app_security_group_id"]}
    if answer.get("in_vpc") is False:
        return ctx.fail("not_in_vpc", evidence=answer, **params)
    if not answer.get("reachable"):
        blockers = "; ".join(f"{b['kind'].replace('_', ' ')} {b['component']}: {b['reason']}"
                             for b in answer.get("blocked_by", []))
        return ctx.fail("blocked", evidence=answer, blockers=blockers or "no path found", **params)
    path = " -> ".join(dict.fromkeys(str(h["component"]) for h in answer.get("path", [])))
    return ctx.ok("pass", evidence=answer, path=path, **params)
