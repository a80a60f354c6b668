"""Key resolution and classification on hand-built inventories (no simulator)."""

from __future__ import annotations

import pytest

from crypto_builders import ACCT, OTHER, REGION, alias, inventory, key, key_arn
from seclab.engines.crypto import resolve_key
from seclab.inventory.model import OrgInventory

KID = "1234abcd-12ab-34cd-56ef-1234567890ab"
MANAGED = "8c3faf07-f43c-4d11-abdb-9183079214c7"


@pytest.fixture()
def inv():
    return inventory(keys=(key(KID, aliases=("alias/models",)),))


@pytest.mark.parametrize("ref", [
    KID,
    key_arn(KID),
    "alias/models",
    f"arn:aws:kms:{REGION}:{ACCT}:alias/models",
    f"  {KID}  ",
])
def test_every_reference_form_resolves_to_the_key_arn(inv, ref):
    info = resolve_key(inv, ref)
    assert info.arn == key_arn(KID)
    assert (info.key_kind, info.key_state, info.exists) == ("customer_managed", "Enabled", True)
    assert info.aliases == ("alias/models",)
    assert info.at_rest() == {"encrypted": True, "key_arn": key_arn(KID), "key_kind": "customer_managed",
                              "key_state": "Enabled"}


def test_missing_key_id_is_a_not_found_finding_with_its_arn(inv):
    info = resolve_key(inv, "0000aaaa-0000-4000-8000-000000000000")
    assert info.key_state == "NotFound" and info.exists is False
    assert info.arn == key_arn("0000aaaa-0000-4000-8000-000000000000")
    assert [f.code for f in info.findings] == ["key_not_found"]


def test_missing_alias_is_not_found_without_an_arn(inv):
    info = resolve_key(inv, "alias/nope")
    assert (info.key_state, info.arn, info.exists) == ("NotFound", None, False)
    assert info.findings[0].severity == "high"


def test_malformed_reference_is_a_finding_not_a_crash(inv):
    for ref in ("s3://bucket/key", "arn:aws:s3:::bucket", "arn:aws:kms:us-east-1:1:grant/x"):
        info = resolve_key(inv, ref)
        assert info.key_state == "NotFound"
        assert info.findings[0].code == "key_reference_malformed"


def test_aws_managed_alias_classified_by_prefix_even_when_moto_says_customer():
    managed = key(MANAGED, manager="CUSTOMER", aliases=("alias/aws/s3",), rotation=None)
    info = resolve_key(inventory(keys=(managed,)), "alias/aws/s3")
    assert (info.key_kind, info.arn, info.key_state) == ("aws_managed", key_arn(MANAGED), "Enabled")
    # by key id too: the alias pointing at it decides
    assert resolve_key(inventory(keys=(managed,)), MANAGED).key_kind == "aws_managed"


def test_key_manager_aws_is_aws_managed_without_alias():
    assert resolve_key(inventory(keys=(key(KID, manager="AWS"),)), KID).key_kind == "aws_managed"


def test_aws_managed_alias_not_created_yet_is_aws_managed_with_unknown_state():
    inv = inventory(aliases=(alias("alias/aws/s3", MANAGED),))
    info = resolve_key(inv, "alias/aws/s3")
    assert (info.key_kind, info.key_state, info.exists) == ("aws_managed", None, True)
    assert info.arn == key_arn(MANAGED)
    # an AWS-managed alias the simulator does not even list (aws/sagemaker): still aws_managed, key unknown
    info = resolve_key(inventory(), "alias/aws/sagemaker")
    assert (info.key_kind, info.arn, info.key_state) == ("aws_managed", None, None)


@pytest.mark.parametrize("state,code", [("Disabled", "key_disabled"), ("PendingDeletion", "key_pending_deletion"),
                                        ("PendingImport", "key_unusable")])
def test_unusable_states_are_reported(state, code):
    info = resolve_key(inventory(keys=(key(KID, state=state),)), KID)
    assert info.key_state == state
    assert info.usable is False
    assert code in [f.code for f in info.findings]


def test_pending_deletion_names_the_date():
    info = resolve_key(inventory(keys=(key(KID, state="PendingDeletion"),)), KID)
    assert info.deletion_date and "2030-01-01" in info.deletion_date
    assert "2030-01-01" in next(f.message for f in info.findings if f.code == "key_pending_deletion")


def test_rotation_off_is_low_finding_only_for_customer_keys():
    info = resolve_key(inventory(keys=(key(KID, rotation=False),)), KID)
    assert info.rotation is False
    assert [f.severity for f in info.findings if f.code == "key_rotation_disabled"] == ["low"]
    managed = resolve_key(inventory(keys=(key(KID, rotation=None, aliases=("alias/aws/ebs",)),)), KID)
    assert managed.rotation is True and not [f for f in managed.findings if f.code == "key_rotation_disabled"]


def test_asymmetric_key_cannot_encrypt_at_rest():
    info = resolve_key(inventory(keys=(key(KID, spec="RSA_2048", usage="SIGN_VERIFY"),)), KID)
    assert "key_not_symmetric_encryption" in [f.code for f in info.findings]


def test_key_in_another_account_without_its_inventory_is_classified_by_arn(inv):
    info = resolve_key(inv, key_arn(KID, OTHER))
    assert (info.arn, info.account, info.key_kind, info.key_state, info.exists) == (
        key_arn(KID, OTHER), OTHER, "customer_managed", None, None)
    codes = [f.code for f in info.findings]
    assert "key_in_other_account" in codes and "key_state_unknown" in codes


def test_key_in_another_account_resolved_with_its_inventory(inv):
    other = inventory(keys=(key(KID, account=OTHER, state="Disabled"),), account=OTHER)
    info = resolve_key(inv, key_arn(KID, OTHER), accounts={OTHER: other})
    assert (info.key_state, info.exists, info.account) == ("Disabled", True, OTHER)
    # an OrgInventory brings every account
    org = OrgInventory(management=inv, members={OTHER: other})
    assert resolve_key(org, key_arn(KID, OTHER)).key_state == "Disabled"
    # and a missing key there is NotFound, not unknown
    assert resolve_key(org, key_arn("0000aaaa-0000-4000-8000-000000000000", OTHER)).key_state == "NotFound"


def test_other_account_alias_arn_cannot_name_the_key(inv):
    info = resolve_key(inv, f"arn:aws:kms:{REGION}:{OTHER}:alias/shared")
    assert info.arn is None and info.key_state is None and info.key_kind == "customer_managed"


def test_other_region_is_unknown(inv):
    info = resolve_key(inv, f"arn:aws:kms:eu-west-1:{ACCT}:key/{KID}")
    assert info.key_state is None and info.exists is None


def test_empty_reference_means_service_default_or_nothing(inv):
    owned = resolve_key(inv, None, service="sagemaker")
    assert owned.at_rest() == {"encrypted": True, "key_arn": None, "key_kind": "aws_owned", "key_state": None}
    assert resolve_key(inv, "", service="logs").key_kind == "aws_owned"
    none = resolve_key(inv, None)
    assert none.at_rest() == {"encrypted": False, "key_arn": None, "key_kind": "none", "key_state": None}
