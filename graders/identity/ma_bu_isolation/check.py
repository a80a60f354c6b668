"""Task 6: isolation proven over the who-can-reach graph of the whole organization (graders/_lib/multi_account.py).

The network side of isolation is judged by ma_network_segmentation; this check follows identities.
"""

from __future__ import annotations

from seclab.grading import CheckContext, Finding, check_library


def _trim(decided_by: list[dict[str, object]]) -> list[dict[str, object]]:
    """The statements that granted (the SCP/RCP levels that merely allow add nothing for a learner)."""
    return [e for e in decided_by if not str(e.get("policy", "")).startswith(("scp", "rcp"))]


def run(ctx: CheckContext) -> Finding:
    lib = check_library("multi_account")
    p = lib.platform(ctx.org, ctx.facts)
    problem = lib.accounts_problem(ctx, p)
    if problem is not None:
        return problem
    principals = p.principals()
    lacking = []
    for bu in p.bus:
        if not any(x.kind == "sso_role" and x.account == bu.account_id for x in principals.values()):
            lacking.append(f"no Identity Center permission set is assigned in {bu.account_name}")
    mlops_arn, detours = p.mlops_detours()
    if mlops_arn is None:
        lacking.append(f"there is no {ctx.facts['shared']['mlops_role']} role in {p.shared_name}")
    if lacking:
        return ctx.fail("nothing_to_prove", what="; ".join(lacking[:3]))
    g = p.graph()
    breaches = p.breaches()
    evidence = {"principals": len(principals), "edges": sum(len(v) for v in g.edges.values()),
                "graph": g.to_dict()}
    if breaches:
        evidence["breaches"] = [dict(b, decided_by=_trim(b["decided_by"])) for b in breaches]
        first = breaches[0]
        pairs = len({(b["from"], b["to"]) for b in breaches})
        return ctx.fail("breach", evidence=evidence, count=pairs, path=first["path"])
    role = ctx.facts["roles"]["mlops_access"]
    if detours:
        evidence["detours"] = detours
        return ctx.fail("mlops_detour", evidence=evidence, bu=detours[0]["bu"], path=detours[0]["path"], role=role)
    n = len(p.bus)
    return ctx.ok("pass", evidence=evidence, pairs=n * (n - 1), principals=len(principals), edges=evidence["edges"],
                  role=role)
