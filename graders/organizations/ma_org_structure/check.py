"""Task 1: the OUs exist, all seven accounts exist, and each account's parent chain passes through its OU."""

from __future__ import annotations

from seclab.grading import CheckContext, Finding


def run(ctx: CheckContext) -> Finding:
    facts = ctx.facts
    o = ctx.inventory.organizations
    if o is None:
        return ctx.error("org_missing", account=ctx.inventory.account_id)
    ou_names = facts["ous"]
    ous = {str(ou.get("Name")): str(ou["Id"]) for ou in o.ous}
    missing_ous = [n for n in ou_names.values() if n not in ous]
    if missing_ous:
        return ctx.fail("ou_missing", evidence={"ous": sorted(ous)}, missing=" and ".join(missing_ous))
    accounts = {str(a.get("Name")): str(a["Id"]) for a in o.accounts}
    bus = [b["account_name"] for b in facts["business_units"]]
    shared = facts["shared"]["account_name"]
    missing = [n for n in [*bus, shared] if n not in accounts]
    if missing:
        return ctx.fail("accounts_missing", evidence={"accounts": sorted(accounts)}, missing=", ".join(missing))
    names = {v: k for k, v in ous.items()}
    names.update({str(r["Id"]): "the root" for r in o.roots})
    problems = []
    placement = {}
    for name, ou in [*((b, ou_names["business_units"]) for b in bus), (shared, ou_names["infrastructure"])]:
        chain = o.parent_chain(accounts[name])
        placement[name] = [names.get(x, x) for x in chain[:-1]]
        if ous[ou] not in chain:
            where = names.get(chain[-2], chain[-2]) if len(chain) > 1 else "the root"
            problems.append(f"{name} is in {where}, not in {ou}")
    if problems:
        return ctx.fail("misplaced", evidence={"placement": placement}, problems="; ".join(problems))
    return ctx.ok("pass", evidence={"placement": placement}, org_id=o.organization.get("Id"),
                  bus=", ".join(bus), bu_ou=ou_names["business_units"], shared=shared,
                  infra_ou=ou_names["infrastructure"])
