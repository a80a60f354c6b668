"""Every call becomes a CloudTrail event; LookupEvents shows a learner only their own; trails get log files."""

from __future__ import annotations

import datetime as dt
import gzip
import json
import time
import uuid

import botocore.exceptions
import pytest

from seclab.sim import registry


def test_lookup_events_returns_own_calls_only(learner, learner_client):
    other = registry.add_learner(f"t-{uuid.uuid4().hex[:12]}")
    bucket = f"audit-{uuid.uuid4().hex[:10]}"
    learner_client(learner, "s3").create_bucket(Bucket=bucket)
    learner_client(other, "s3").list_buckets()
    mine = learner_client(learner, "cloudtrail").lookup_events(MaxResults=50)["Events"]
    theirs = learner_client(other, "cloudtrail").lookup_events(MaxResults=50)["Events"]
    created = [e for e in mine if e["EventName"] == "CreateBucket"]
    assert created and created[0]["Username"] == learner.name
    assert created[0]["AccessKeyId"] == learner.access_key_id
    assert {"ResourceType": "AWS::S3::Bucket", "ResourceName": bucket} in created[0]["Resources"]
    assert not any(bucket in json.dumps(e, default=str) for e in theirs)
    assert all(json.loads(e["CloudTrailEvent"])["recipientAccountId"] == other.home_account for e in theirs)


def test_event_shape_and_redaction(learner, learner_client):
    iam = learner_client(learner, "iam")
    iam.create_user(UserName="dev")
    iam.create_login_profile(UserName="dev", Password="Sup3r-Secret-Pass!")
    events = learner_client(learner, "cloudtrail").lookup_events(
        LookupAttributes=[{"AttributeKey": "EventName", "AttributeValue": "CreateLoginProfile"}])["Events"]
    assert len(events) == 1
    raw = events[0]["CloudTrailEvent"]
    assert "Sup3r-Secret-Pass!" not in raw
    event = json.loads(raw)
    for key in ("eventVersion", "eventTime", "eventSource", "eventName", "awsRegion", "sourceIPAddress",
                "userAgent", "userIdentity", "requestParameters", "eventID", "readOnly", "recipientAccountId"):
        assert key in event
    assert event["eventSource"] == "iam.amazonaws.com"
    assert event["readOnly"] is False
    assert event["requestParameters"]["userName"] == "dev"
    assert event["requestParameters"]["password"] == "HIDDEN_DUE_TO_SECURITY_REASONS"
    ident = event["userIdentity"]
    assert ident["type"] == "IAMUser" and ident["accountId"] == learner.home_account
    assert ident["arn"] == f"arn:aws:iam::{learner.home_account}:user/{learner.name}"
    assert ident["accessKeyId"] == learner.access_key_id and ident["principalId"]


def test_failed_calls_carry_error_code(learner, learner_client):
    with pytest.raises(botocore.exceptions.ClientError):
        learner_client(learner, "iam").get_role(RoleName="does-not-exist")
    events = learner_client(learner, "cloudtrail").lookup_events(
        LookupAttributes=[{"AttributeKey": "EventName", "AttributeValue": "GetRole"}])["Events"]
    event = json.loads(events[0]["CloudTrailEvent"])
    assert event["errorCode"] == "NoSuchEntity"
    assert event["readOnly"] is True and events[0]["ReadOnly"] == "true"


def test_lookup_filters_time_window_and_paging(learner, learner_client):
    kms = learner_client(learner, "kms")
    for _ in range(7):
        kms.list_keys()
    ct = learner_client(learner, "cloudtrail")
    page = ct.lookup_events(LookupAttributes=[{"AttributeKey": "EventSource", "AttributeValue": "kms.amazonaws.com"}],
                            MaxResults=3)
    assert len(page["Events"]) == 3 and page["NextToken"]
    rest = ct.lookup_events(LookupAttributes=[{"AttributeKey": "EventSource", "AttributeValue": "kms.amazonaws.com"}],
                            MaxResults=50, NextToken=page["NextToken"])
    assert len(page["Events"]) + len(rest["Events"]) == 7
    times = [e["EventTime"] for e in page["Events"] + rest["Events"]]
    assert times == sorted(times, reverse=True)
    future = dt.datetime.now(dt.timezone.utc) + dt.timedelta(hours=1)
    assert ct.lookup_events(StartTime=future)["Events"] == []
    by_key = ct.lookup_events(LookupAttributes=[{"AttributeKey": "AccessKeyId",
                                                 "AttributeValue": learner.access_key_id}])["Events"]
    assert by_key and all(e["AccessKeyId"] == learner.access_key_id for e in by_key)
    with pytest.raises(botocore.exceptions.ClientError) as err:
        ct.lookup_events(LookupAttributes=[{"AttributeKey": "EventName", "AttributeValue": "A"},
                                           {"AttributeKey": "EventName", "AttributeValue": "B"}])
    assert err.value.response["Error"]["Code"] == "InvalidLookupAttributesException"
    with pytest.raises(botocore.exceptions.ClientError) as err:
        ct.lookup_events(NextToken="forged")
    assert err.value.response["Error"]["Code"] == "InvalidNextTokenException"


def test_s3_data_events_are_not_in_lookup(learner, learner_client):
    s3 = learner_client(learner, "s3")
    bucket = f"data-{uuid.uuid4().hex[:10]}"
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="k", Body=b"v")
    names = [e["EventName"] for e in learner_client(learner, "cloudtrail").lookup_events()["Events"]]
    assert "CreateBucket" in names and "PutObject" not in names


def test_logging_trail_gets_gzipped_log_files(learner, learner_client):
    s3 = learner_client(learner, "s3")
    bucket = f"trail-{uuid.uuid4().hex[:10]}"
    s3.create_bucket(Bucket=bucket)
    ct = learner_client(learner, "cloudtrail")
    ct.create_trail(Name="org-audit", S3BucketName=bucket, S3KeyPrefix="logs")
    learner_client(learner, "ec2").describe_vpcs()  # before logging starts: never delivered
    ct.start_logging(Name="org-audit")
    learner_client(learner, "iam").create_role(RoleName="after-start", AssumeRolePolicyDocument="{}")
    deadline = time.monotonic() + 15
    records: list[dict] = []
    while time.monotonic() < deadline:
        keys = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket, Prefix="logs/").get("Contents", [])]
        records = []
        for key in keys:
            records += json.loads(gzip.decompress(s3.get_object(Bucket=bucket, Key=key)["Body"].read()))["Records"]
        if any(r["eventName"] == "CreateRole" for r in records):
            break
        time.sleep(0.5)
    assert keys, "no log file delivered"
    prefix = f"logs/AWSLogs/{learner.home_account}/CloudTrail/us-east-1/"
    assert all(k.startswith(prefix) and k.endswith(".json.gz") for k in keys)
    assert f"{learner.home_account}_CloudTrail_us-east-1_" in keys[0]
    names = [r["eventName"] for r in records]
    assert "CreateRole" in names and "StartLogging" in names
    assert "DescribeVpcs" not in names
    assert all(r["recipientAccountId"] == learner.home_account for r in records)
    assert all(not k.startswith("_") for r in records for k in r)


def test_lookup_is_regional_and_global_services_live_in_us_east_1(learner, learner_client):
    learner_client(learner, "ec2", region="eu-west-1").describe_vpcs()
    learner_client(learner, "iam", region="eu-west-1").list_roles()
    east = learner_client(learner, "cloudtrail").lookup_events()["Events"]
    west = learner_client(learner, "cloudtrail", region="eu-west-1").lookup_events()["Events"]
    assert "DescribeVpcs" in [e["EventName"] for e in west] and "DescribeVpcs" not in [e["EventName"] for e in east]
    assert "ListRoles" in [e["EventName"] for e in east] and "ListRoles" not in [e["EventName"] for e in west]
