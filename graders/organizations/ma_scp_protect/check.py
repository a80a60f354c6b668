"""Task 5c: the platform-protection guardrail, proven by evaluating requests through the SCP levels."""

from __future__ import annotations

from seclab.grading import CheckContext, Finding, check_library


def run(ctx: CheckContext) -> Finding:
    lib = check_library("multi_account")
    p = lib.platform(ctx.org, ctx.facts)
    problem = lib.accounts_problem(ctx, p)
    if problem is not None:
        return problem
    # an approved and a forbidden region: a guardrail that holds only because a region statement denies
    # everything there would not hold everywhere
    regions = [ctx.facts["approved_regions"][0], ctx.facts["forbidden_region_probes"][0]]
    accounts = [str(b.account_id) for b in p.bus] + [str(p.shared_id)]
    actors = lib.bu_actors(p, accounts)
    requests = 0
    for who in actors:
        for region in regions:
            trail = f"arn:aws:cloudtrail:{region}:{who.account}:trail/platform-trail"
            for action, resource in (("organizations:LeaveOrganization", "*"), ("cloudtrail:StopLogging", trail),
                                     ("cloudtrail:DeleteTrail", trail)):
                d = lib.scp_decision(p, who, action, resource, region)
                requests += 1
                if d.decision != "explicit_deny":
                    return ctx.fail("not_denied", evidence={"decision": d.to_dict()}, action=action,
                                    who=who.label, region=region)
    return ctx.ok("pass", evidence={"requests": requests}, principals=len(actors), accounts=len(accounts),
                  requests=requests)
