"""The collector against a live simulator: who it reads, with which identity, and what it refuses to guess."""

from __future__ import annotations

import uuid
from dataclasses import replace

from seclab.inventory import collect
from seclab.sim import registry


def test_members_come_from_the_registry_and_from_the_organization(sim, learner, learner_client, monkeypatch):
    org = learner_client(learner, "organizations")
    org.create_organization(FeatureSet="ALL")
    members = [org.create_account(Email=f"{learner.name}+{n}@example.com", AccountName=n)["CreateAccountStatus"]
               ["AccountId"] for n in ("alpha", "beta")]
    bucket = f"mem-{uuid.uuid4().hex[:12]}"
    from seclab.sim import sessions

    sessions.learner_session(learner.name, account=members[1]).client("s3").create_bucket(Bucket=bucket)

    inv = collect.collect_learner(learner.name, sections=["s3"])
    assert set(inv.members) == set(members)
    assert [b.name for b in inv.members[members[1]].s3.buckets] == [bucket]
    assert inv.members[members[0]].s3.buckets == ()
    assert inv.management.organizations is not None  # asked for to find the members

    # a registry that lags behind the organization: the organization still names every member
    record = registry.get_learner(learner.name)
    monkeypatch.setattr(registry, "get_learner", lambda name: replace(record, accounts=(record.home_account,)))
    lagging = collect.collect_learner(learner.name, sections=["s3"])
    assert set(lagging.members) == set(members)
    assert [b.name for b in lagging.members[members[1]].s3.buckets] == [bucket]


def test_without_members_only_the_home_account_is_read(sim, learner, learner_client):
    org = learner_client(learner, "organizations")
    org.create_organization(FeatureSet="ALL")
    org.create_account(Email=f"{learner.name}+solo@example.com", AccountName="solo")
    inv = collect.collect_learner(learner.name, sections=["s3"], include_members=False)
    assert inv.members == {} and inv.management.account_id == learner.home_account


def test_tgw_route_tables_are_read_in_the_owner_account_only(sim, learner, learner_client):
    ec2 = learner_client(learner, "ec2")
    tgw = ec2.create_transit_gateway(Description="hub")["TransitGateway"]["TransitGatewayId"]
    table = ec2.create_transit_gateway_route_table(TransitGatewayId=tgw)["TransitGatewayRouteTable"]
    inv = collect.collect_account(learner.home_account, sections=["ec2"])
    ids = {t["TransitGatewayRouteTableId"] for t in inv.ec2.transit_gateway_route_tables}
    assert table["TransitGatewayRouteTableId"] in ids
    stranger = registry.add_learner(f"t-{uuid.uuid4().hex[:12]}")
    assert collect.collect_account(stranger.home_account, sections=["ec2"]).ec2.transit_gateway_route_tables == ()
