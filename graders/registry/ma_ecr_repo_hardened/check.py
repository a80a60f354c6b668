"""Task 3a: the central repository's own settings (encryption key resolved by the encryption engine)."""

from __future__ import annotations

from seclab.engines.crypto import resolve_key
from seclab.grading import CheckContext, Finding


def run(ctx: CheckContext) -> Finding:
    facts = ctx.facts
    shared = facts["shared"]["account_name"]
    repo_name = facts["shared"]["ecr_repository"]
    o = ctx.inventory.organizations
    acct = next((str(a["Id"]) for a in (o.accounts if o else ()) if a.get("Name") == shared), None)
    inv = ctx.account(acct) if acct else None
    if inv is None:
        return ctx.fail("account_missing", account=shared)
    repo = next((r for r in inv.ecr.repositories if r.get("repositoryName") == repo_name), None)
    if repo is None:
        return ctx.fail("repo_missing", repo=repo_name, account=shared)
    evidence = {k: repo.get(k) for k in ("repositoryArn", "encryptionConfiguration", "imageScanningConfiguration",
                                          "imageTagMutability")}
    problems = []
    enc = repo.get("encryptionConfiguration") or {}
    key_arn = None
    if enc.get("encryptionType") != "KMS":
        problems.append(f"images are encrypted with {enc.get('encryptionType') or 'AES256'} (ECR's own key), not "
                        "KMS: encryption is fixed at creation, so delete and re-create the repository with "
                        "encryptionType KMS and your key")
    else:
        key = resolve_key(inv, str(enc.get("kmsKey") or "alias/aws/ecr"))
        evidence["resolved_key"] = {"arn": key.arn, "kind": key.key_kind, "state": key.key_state}
        if key.key_kind != "customer_managed" or not key.exists:
            problems.append(f"its KMS key {key.arn or enc.get('kmsKey') or 'aws/ecr'} is {str(key.key_kind).replace('_', '-')}, "
                            f"not a customer-managed key of {shared} (re-create it with your key "
                            f"{facts['shared']['ecr_key_alias']})")
        elif key.key_state != "Enabled":
            problems.append(f"its KMS key {key.arn} is {key.key_state}: enable it")
        key_arn = key.arn
    if not (repo.get("imageScanningConfiguration") or {}).get("scanOnPush"):
        problems.append("images are not scanned on push: put_image_scanning_configuration(scanOnPush=True)")
    if repo.get("imageTagMutability") != "IMMUTABLE":
        problems.append(f"tags are {repo.get('imageTagMutability') or 'MUTABLE'}, so a tag can be moved to a "
                        "different image after review: put_image_tag_mutability(imageTagMutability='IMMUTABLE')")
    if problems:
        return ctx.fail("weak", evidence=evidence, repo=repo_name, account=shared, problems="; ".join(problems))
    return ctx.ok("pass", evidence=evidence, repo=repo_name, account=shared, key_arn=key_arn)
