"""The private-endpoint lab end to end on a real simulator.

- set-up only: idempotent, not passed, every check FAIL with a helpful message, no ERROR;
- the reference solution (applied twice: it is idempotent) gets full marks;
- every check has a one-flaw variant of the solution that fails it and nothing it does not concern (exact sets);
- alternative correct solutions get full marks; the CLI contract; the notebook (slow).

Speed: one learner is solved once (module fixture) and most flaws and alternatives are applied to it and then
reverted, each test grading in between (~2 s); the few flaws that cannot be undone (CloudTrail history, flow-log
records) get fresh learners. The whole module stays on one xdist worker (the shared learner is per worker).
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
import tarfile
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from lab_notebooks import execute_notebook, release

from seclab.grading.labs import get_lab, lab_context, setup_lab, solve_lab
from seclab.grading.runner import grade
from seclab.inventory.collect import collect_learner

ROOT = Path(__file__).resolve().parents[2]
SECLAB = str(Path(sys.executable).parent / "seclab")
LAB = "private-endpoint"
pytestmark = pytest.mark.xdist_group("private-endpoint")  # the shared learner lives in one worker's simulator
FRESH = pytest.mark.xdist_group("private-endpoint-fresh")  # tests with their own learners may run elsewhere


def _load(name: str) -> Any:
    import importlib.util

    spec = importlib.util.spec_from_file_location(f"pe_test_{name}", ROOT / "labs" / LAB / f"{name}.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


SOL = _load("solution")
ALL_CHECKS = {ref.id for t in get_lab(LAB).tasks for ref in t.checks}


def failing(report: Any) -> set[str]:
    return {r.spec.id for r in report.results if r.status.value != "PASS"}


def by_id(report: Any, check_id: str) -> Any:
    return next(r for r in report.results if r.spec.id == check_id)


def new_learner() -> str:
    from seclab.sim import registry

    return registry.add_learner(f"t-{uuid.uuid4().hex[:12]}").name


# ------------------------------------------------------------------------------------------------ set-up only


@FRESH
def test_setup_only_fails_every_check_helpfully(sim: Any, learner: Any) -> None:
    lab = get_lab(LAB)
    facts = setup_lab(lab, learner.name)
    assert setup_lab(lab, learner.name) == facts, "set-up must be idempotent"
    report = grade(lab, learner.name)
    assert not report.passed and report.score == 0
    statuses = {r.spec.id: r.status.value for r in report.results}
    assert set(statuses.values()) == {"FAIL"}, statuses
    for r in report.results:
        assert r.message.endswith(".") and "could not be evaluated" not in r.message and "<" not in r.message
    assert f"There is no role {facts['execution_role_name']}" in by_id(report, "pe_exec_role_trust_sagemaker_only").message
    assert "AmazonSageMakerFullAccess" in by_id(report, "pe_app_role_invoke_only").message
    assert facts["endpoint_name"] in by_id(report, "pe_model_private_subnets").message
    # every task is unfinished
    assert all(not t["done"] for t in report.to_json()["tasks"])


@FRESH
def test_setup_builds_a_realistic_distinct_scenario(sim: Any, learner: Any, learner_client: Callable[..., Any]) -> None:
    lab = get_lab(LAB)
    facts = setup_lab(lab, learner.name)
    other = setup_lab(lab, new_learner())
    assert facts["model_bucket"] != other["model_bucket"]
    assert (facts["prefix"], facts["vpc_cidr"], facts["model_prefix"]) != (other["prefix"], other["vpc_cidr"],
                                                                         other["model_prefix"])
    s3 = learner_client(learner, "s3")
    keys = {o["Key"] for o in s3.list_objects_v2(Bucket=facts["model_bucket"])["Contents"]}
    assert {facts["model_artifact_key"], facts["other_model_key"], facts["dataset_key"]} <= keys
    body = s3.get_object(Bucket=facts["model_bucket"], Key=facts["model_artifact_key"])["Body"].read()
    with tarfile.open(fileobj=io.BytesIO(body), mode="r:gz") as tar:
        names = set(tar.getnames())
        code = tar.extractfile("code/inference.py").read().decode()  # type: ignore[union-attr]
    assert {"model.pth", "code/inference.py", "code/requirements.txt"} <= names
    assert "def model_fn" in code and "def predict_fn" in code
    ec2 = learner_client(learner, "ec2")
    public = ec2.describe_route_tables(RouteTableIds=[facts["public_route_table_id"]])["RouteTables"][0]
    assert any(r.get("GatewayId", "").startswith("igw-") for r in public["Routes"])
    private = ec2.describe_route_tables(RouteTableIds=[facts["model_route_table_id"]])["RouteTables"][0]
    assert not any(r.get("GatewayId", "").startswith("igw-") for r in private["Routes"])


# ------------------------------------------------------------------------------------------------ shared learner


class Shared:
    def __init__(self, learner: str, facts: dict[str, Any]) -> None:
        self.learner = learner
        self.facts = facts
        self.lab = get_lab(LAB)
        self.ctx = lab_context(self.lab, learner)

    def grade(self) -> Any:
        return grade(self.lab, self.learner)


@pytest.fixture(scope="session")  # session, not module: xdist may tear module fixtures down between batches
def shared(sim: Any) -> Iterator[Shared]:
    name = new_learner()
    lab = get_lab(LAB)
    facts = setup_lab(lab, name)
    solve_lab(lab, name)
    solve_lab(lab, name)  # the reference solution is idempotent
    yield Shared(name, facts)


def test_solution_gets_full_marks(shared: Shared) -> None:
    report = shared.grade()
    assert report.score == report.max_score == 100 and report.passed, failing(report)
    assert not report.errors


# --- building blocks for flaws and alternatives (each returns the function that undoes it)

Undo = Callable[[], None]
EXEC_POLICY = "model-artifact-logs-network"


def _exec_policy(s: Shared, doc: dict[str, Any]) -> Undo:
    iam = s.ctx.client("iam")
    iam.put_role_policy(RoleName=s.facts["execution_role_name"], PolicyName=EXEC_POLICY, PolicyDocument=json.dumps(doc))
    return lambda: iam.put_role_policy(RoleName=s.facts["execution_role_name"], PolicyName=EXEC_POLICY,
                                       PolicyDocument=json.dumps(SOL.exec_role_policy(s.facts)))


def _edit_statement(s: Shared, sid: str, **changes: Any) -> Undo:
    doc = SOL.exec_role_policy(s.facts)
    for stmt in doc["Statement"]:
        if stmt["Sid"] == sid:
            stmt.update(changes)
    return _exec_policy(s, doc)


def _add_statement(s: Shared, stmt: dict[str, Any]) -> Undo:
    doc = SOL.exec_role_policy(s.facts)
    doc["Statement"].append(stmt)
    return _exec_policy(s, doc)


def _attach(s: Shared, role: str, policy: str) -> Undo:
    iam = s.ctx.client("iam")
    arn = f"arn:aws:iam::aws:policy/{policy}"
    iam.attach_role_policy(RoleName=role, PolicyArn=arn)
    return lambda: iam.detach_role_policy(RoleName=role, PolicyArn=arn)


def _trust(s: Shared, doc: dict[str, Any]) -> Undo:
    iam = s.ctx.client("iam")
    role = s.facts["execution_role_name"]
    iam.update_assume_role_policy(RoleName=role, PolicyDocument=json.dumps(doc))
    return lambda: iam.update_assume_role_policy(RoleName=role, PolicyDocument=json.dumps(SOL.exec_trust_policy(s.facts)))


def _group_id(s: Shared, name: str) -> str:
    groups = s.ctx.client("ec2").describe_security_groups(Filters=[
        {"Name": "vpc-id", "Values": [s.facts["vpc_id"]]}, {"Name": "group-name", "Values": [name]}])["SecurityGroups"]
    return str(groups[0]["GroupId"])


def _model_sg(s: Shared) -> str:
    return _group_id(s, f"{s.facts['prefix']}-model-sg")


def _ingress(s: Shared, gid: str, perm: dict[str, Any]) -> Undo:
    ec2 = s.ctx.client("ec2")
    ec2.authorize_security_group_ingress(GroupId=gid, IpPermissions=[perm])
    return lambda: ec2.revoke_security_group_ingress(GroupId=gid, IpPermissions=[perm])


def _replace_ingress(s: Shared, gid: str, old: dict[str, Any], new: dict[str, Any]) -> Undo:
    ec2 = s.ctx.client("ec2")
    ec2.revoke_security_group_ingress(GroupId=gid, IpPermissions=[old])
    ec2.authorize_security_group_ingress(GroupId=gid, IpPermissions=[new])

    def undo() -> None:
        ec2.revoke_security_group_ingress(GroupId=gid, IpPermissions=[new])
        ec2.authorize_security_group_ingress(GroupId=gid, IpPermissions=[old])
    return undo


def _app_rule(s: Shared) -> dict[str, Any]:
    return {"IpProtocol": "tcp", "FromPort": 8080, "ToPort": 8080, "IpRanges": [{"CidrIp": s.facts["app_subnet_cidr"]}]}


def _swap_model(s: Shared, suffix: str, **overrides: Any) -> Undo:
    """Serve another model: new model + config, endpoint recreated on it (the simulator has no UpdateEndpoint)."""
    sm = s.ctx.client("sagemaker")
    f = s.facts
    base = sm.describe_model(ModelName=f["model_name"])
    args: dict[str, Any] = {"ModelName": f["model_name"] + suffix, "ExecutionRoleArn": base["ExecutionRoleArn"],
                            "PrimaryContainer": {"Image": f["image_uri"], "ModelDataUrl": f["model_data_url"]},
                            "VpcConfig": base["VpcConfig"], "EnableNetworkIsolation": True}
    args.update(overrides)
    sm.create_model(**args)
    sm.create_endpoint_config(EndpointConfigName=f["endpoint_config_name"] + suffix, ProductionVariants=[{
        "VariantName": "AllTraffic", "ModelName": args["ModelName"], "InitialInstanceCount": 1,
        "InstanceType": "ml.m5.large"}])
    ct = s.ctx.client("cloudtrail")
    sm.delete_endpoint(EndpointName=f["endpoint_name"])
    sm.create_endpoint(EndpointName=f["endpoint_name"], EndpointConfigName=f["endpoint_config_name"] + suffix)
    ct.lookup_events(MaxResults=5)  # a redeployed endpoint is reviewed again (the review must follow the deploy)

    def undo() -> None:
        sm.delete_endpoint(EndpointName=f["endpoint_name"])
        sm.create_endpoint(EndpointName=f["endpoint_name"], EndpointConfigName=f["endpoint_config_name"])
        sm.delete_endpoint_config(EndpointConfigName=f["endpoint_config_name"] + suffix)
        sm.delete_model(ModelName=args["ModelName"])
        ct.lookup_events(MaxResults=5)
    return undo


def _vpce(s: Shared, kind: str) -> dict[str, Any]:
    eps = s.ctx.client("ec2").describe_vpc_endpoints(Filters=[{"Name": "vpc-id", "Values": [s.facts["vpc_id"]]}])
    return next(e for e in eps["VpcEndpoints"] if e["VpcEndpointType"] == kind and e["State"].lower() != "deleted")


def _endpoint_policy(s: Shared, doc: dict[str, Any]) -> Undo:
    ec2 = s.ctx.client("ec2")
    vid = _vpce(s, "Gateway")["VpcEndpointId"]
    ec2.modify_vpc_endpoint(VpcEndpointId=vid, PolicyDocument=json.dumps(doc))
    return lambda: ec2.modify_vpc_endpoint(VpcEndpointId=vid,
                                           PolicyDocument=json.dumps(SOL.s3_endpoint_policy(s.facts)))


def _app_policy(s: Shared, doc: dict[str, Any]) -> Undo:
    iam = s.ctx.client("iam")
    role = s.facts["app_role_name"]
    iam.put_role_policy(RoleName=role, PolicyName="invoke-model-endpoint", PolicyDocument=json.dumps(doc))
    return lambda: iam.put_role_policy(RoleName=role, PolicyName="invoke-model-endpoint",
                                       PolicyDocument=json.dumps(SOL.app_invoke_policy(s.facts)))


def _flow_log(s: Shared, **create: Any) -> Undo:
    """Replace the VPC flow log with another one (or none when `create` is empty)."""
    ec2 = s.ctx.client("ec2")
    f = s.facts

    def replace(args: dict[str, Any] | None) -> None:
        ids = [fl["FlowLogId"] for fl in ec2.describe_flow_logs()["FlowLogs"]]
        if ids:
            ec2.delete_flow_logs(FlowLogIds=ids)
        if args:
            ec2.create_flow_logs(**args)

    reference = {"ResourceIds": [f["vpc_id"]], "ResourceType": "VPC", "TrafficType": "ALL",
                 "LogDestinationType": "cloud-watch-logs", "LogGroupName": f["flow_log_group"],
                 "DeliverLogsPermissionArn": f["flow_logs_role_arn"]}
    replace({**reference, **create} if create else None)
    return lambda: replace(reference)


def _selectors(s: Shared, **selectors: Any) -> Undo:
    ct = s.ctx.client("cloudtrail")
    ct.put_event_selectors(TrailName=s.facts["trail_name"], **selectors)
    return lambda: ct.put_event_selectors(TrailName=s.facts["trail_name"], EventSelectors=[{
        "ReadWriteType": "All", "IncludeManagementEvents": True,
        "DataResources": [{"Type": "AWS::S3::Object",
                           "Values": [f"arn:aws:s3:::{s.facts['model_bucket']}/{s.facts['model_prefix']}/"]}]}])


# --- one flaw each: (apply, the exact set of checks it must fail)


def flaw_trust_without_source_account(s: Shared) -> Undo:
    doc = SOL.exec_trust_policy(s.facts)
    del doc["Statement"][0]["Condition"]
    return _trust(s, doc)


def flaw_trust_also_ec2(s: Shared) -> Undo:
    doc = SOL.exec_trust_policy(s.facts)
    doc["Statement"][0]["Principal"] = {"Service": ["sagemaker.amazonaws.com", "ec2.amazonaws.com"]}
    return _trust(s, doc)


def flaw_logs_group_arn_without_streams(s: Shared) -> Undo:
    f = s.facts
    return _edit_statement(s, "WriteThisEndpointsLogs", Resource=(
        f"arn:aws:logs:{f['region']}:{f['account_id']}:log-group:{f['endpoint_log_group']}"))


def flaw_artifact_read_missing(s: Shared) -> Undo:
    return _edit_statement(s, "ReadTheModelArtifact", Resource=f"arn:aws:s3:::{s.facts['model_bucket']}/models/other/*")


def flaw_bucket_star(s: Shared) -> Undo:
    return _edit_statement(s, "ReadTheModelArtifact", Resource=f"arn:aws:s3:::{s.facts['model_bucket']}/*")


def flaw_list_without_prefix_condition(s: Shared) -> Undo:
    return _edit_statement(s, "ListOnlyTheModelPrefix", Condition={})


def flaw_s3_star_on_prefix(s: Shared) -> Undo:
    return _edit_statement(s, "ReadTheModelArtifact", Action="s3:*")


def flaw_logs_star(s: Shared) -> Undo:
    return _edit_statement(s, "WriteThisEndpointsLogs", Action="logs:*", Resource="*")


def flaw_sagemaker_star(s: Shared) -> Undo:
    return _add_statement(s, {"Sid": "Oops", "Effect": "Allow", "Action": "sagemaker:*", "Resource": "*"})


def flaw_pass_role(s: Shared) -> Undo:
    return _add_statement(s, {"Sid": "Oops", "Effect": "Allow", "Action": "iam:PassRole", "Resource": "*"})


def flaw_ecr_readonly_managed(s: Shared) -> Undo:
    return _attach(s, s.facts["execution_role_name"], "AmazonEC2ContainerRegistryReadOnly")


def flaw_s3_readonly_managed(s: Shared) -> Undo:
    return _attach(s, s.facts["execution_role_name"], "AmazonS3ReadOnlyAccess")


def flaw_sagemaker_full_access_on_exec(s: Shared) -> Undo:
    return _attach(s, s.facts["execution_role_name"], "AmazonSageMakerFullAccess")


def flaw_legacy_role(s: Shared) -> Undo:
    f = s.facts
    return _swap_model(s, "-legacy", ExecutionRoleArn=f"arn:aws:iam::{f['account_id']}:role/{f['legacy_role_name']}")


def flaw_no_network_isolation(s: Shared) -> Undo:
    return _swap_model(s, "-open", EnableNetworkIsolation=False)


def flaw_other_artifact(s: Shared) -> Undo:
    f = s.facts
    return _swap_model(s, "-other", PrimaryContainer={"Image": f["image_uri"],
                                                      "ModelDataUrl": f"s3://{f['model_bucket']}/{f['other_model_key']}"})


def flaw_igw_route_on_model_subnet(s: Shared) -> Undo:
    ec2 = s.ctx.client("ec2")
    rt = s.facts["model_route_table_id"]
    ec2.create_route(RouteTableId=rt, DestinationCidrBlock="0.0.0.0/0", GatewayId=s.facts["internet_gateway_id"])
    return lambda: ec2.delete_route(RouteTableId=rt, DestinationCidrBlock="0.0.0.0/0")


def flaw_rule_cidr_typo(s: Shared) -> Undo:
    typo = s.facts["app_subnet_cidr"].replace(".1.0/24", ".2.0/24")
    new = {**_app_rule(s), "IpRanges": [{"CidrIp": typo}]}
    return _replace_ingress(s, _model_sg(s), _app_rule(s), new)


def flaw_ipv6_open(s: Shared) -> Undo:
    return _ingress(s, _model_sg(s), {"IpProtocol": "tcp", "FromPort": 8080, "ToPort": 8080,
                                      "Ipv6Ranges": [{"CidrIpv6": "::/0"}]})


def flaw_ipv4_open(s: Shared) -> Undo:
    return _ingress(s, _model_sg(s), {"IpProtocol": "tcp", "FromPort": 8080, "ToPort": 8080,
                                      "IpRanges": [{"CidrIp": "0.0.0.0/0"}]})


def flaw_whole_vpc_range(s: Shared) -> Undo:
    new = {**_app_rule(s), "IpRanges": [{"CidrIp": s.facts["vpc_cidr"]}]}
    return _replace_ingress(s, _model_sg(s), _app_rule(s), new)


def flaw_all_ports_from_app(s: Shared) -> Undo:
    return _ingress(s, _model_sg(s), {"IpProtocol": "-1", "IpRanges": [{"CidrIp": s.facts["app_subnet_cidr"]}]})


def flaw_gateway_on_app_route_table_only(s: Shared) -> Undo:
    ec2 = s.ctx.client("ec2")
    vid = _vpce(s, "Gateway")["VpcEndpointId"]
    f = s.facts
    ec2.modify_vpc_endpoint(VpcEndpointId=vid, AddRouteTableIds=[f["app_route_table_id"]],
                            RemoveRouteTableIds=[f["model_route_table_id"]])
    return lambda: ec2.modify_vpc_endpoint(VpcEndpointId=vid, AddRouteTableIds=[f["model_route_table_id"]],
                                           RemoveRouteTableIds=[f["app_route_table_id"]])


def flaw_endpoint_policy_star(s: Shared) -> Undo:
    return _endpoint_policy(s, {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"}]})


def flaw_endpoint_policy_blocks_model(s: Shared) -> Undo:
    return _endpoint_policy(s, {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::another-bucket/*"}]})


def _recreate_runtime_endpoint(s: Shared, private_dns: bool) -> None:
    """The simulator ignores modify_vpc_endpoint(PrivateDnsEnabled=...): replace the endpoint instead."""
    ec2 = s.ctx.client("ec2")
    old = _vpce(s, "Interface")
    ec2.delete_vpc_endpoints(VpcEndpointIds=[old["VpcEndpointId"]])
    ec2.create_vpc_endpoint(VpcEndpointType="Interface", VpcId=s.facts["vpc_id"],
                            ServiceName=s.facts["runtime_service_name"], SubnetIds=old["SubnetIds"],
                            SecurityGroupIds=[g["GroupId"] for g in old["Groups"]], PrivateDnsEnabled=private_dns)


def flaw_private_dns_off(s: Shared) -> Undo:
    _recreate_runtime_endpoint(s, False)
    return lambda: _recreate_runtime_endpoint(s, True)


def flaw_runtime_sg_open(s: Shared) -> Undo:
    gid = _group_id(s, f"{s.facts['prefix']}-runtime-vpce-sg")
    return _ingress(s, gid, {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443,
                             "IpRanges": [{"CidrIp": "0.0.0.0/0"}]})


def flaw_runtime_sg_whole_vpc(s: Shared) -> Undo:
    gid = _group_id(s, f"{s.facts['prefix']}-runtime-vpce-sg")
    return _ingress(s, gid, {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443,
                             "IpRanges": [{"CidrIp": s.facts["vpc_cidr"]}]})


def flaw_app_invoke_any_endpoint(s: Shared) -> Undo:
    doc = SOL.app_invoke_policy(s.facts)
    doc["Statement"][0]["Resource"] = "*"
    return _app_policy(s, doc)


def flaw_app_full_access_kept(s: Shared) -> Undo:
    return _attach(s, s.facts["app_role_name"], "AmazonSageMakerFullAccess")


def flaw_app_cannot_invoke(s: Shared) -> Undo:
    doc = SOL.app_invoke_policy(s.facts)
    doc["Statement"][0]["Action"] = "sagemaker:DescribeEndpoint"
    return _app_policy(s, doc)


def flaw_flow_log_accept_only(s: Shared) -> Undo:
    return _flow_log(s, TrafficType="ACCEPT")


def flaw_flow_log_on_app_subnet_only(s: Shared) -> Undo:
    return _flow_log(s, ResourceIds=[s.facts["app_subnet_id"]], ResourceType="Subnet")


def _flow_log_restore(s: Shared) -> Undo:
    def undo() -> None:
        _flow_log(s, TrafficType="ALL")
    return undo


def flaw_no_flow_logs(s: Shared) -> Undo:
    return _flow_log(s)


def flaw_trail_stopped(s: Shared) -> Undo:
    ct = s.ctx.client("cloudtrail")
    ct.stop_logging(Name=s.facts["trail_name"])
    return lambda: ct.start_logging(Name=s.facts["trail_name"])


def flaw_no_data_events(s: Shared) -> Undo:
    return _selectors(s, EventSelectors=[{"ReadWriteType": "All", "IncludeManagementEvents": True}])


def flaw_data_events_write_only(s: Shared) -> Undo:
    f = s.facts
    return _selectors(s, EventSelectors=[
        {"ReadWriteType": "All", "IncludeManagementEvents": True},
        {"ReadWriteType": "WriteOnly", "IncludeManagementEvents": False, "DataResources": [
            {"Type": "AWS::S3::Object", "Values": [f"arn:aws:s3:::{f['model_bucket']}/"]}]}])


NET_ALL = {"pe_model_private_subnets", "pe_endpoint_reachable_from_app", "pe_endpoint_no_internet_ingress",
           "pe_endpoint_no_other_subnets", "pe_endpoint_only_port_8080"}

FLAWS: dict[str, tuple[Callable[[Shared], Undo], set[str]]] = {
    "trust_without_source_account": (flaw_trust_without_source_account, {"pe_exec_role_trust_sagemaker_only"}),
    "trust_also_ec2": (flaw_trust_also_ec2, {"pe_exec_role_trust_sagemaker_only"}),
    "logs_group_arn_without_streams": (flaw_logs_group_arn_without_streams, {"pe_exec_role_required_permissions"}),
    "artifact_read_missing": (flaw_artifact_read_missing, {"pe_exec_role_required_permissions"}),
    "bucket_star": (flaw_bucket_star, {"pe_exec_role_s3_prefix_only"}),
    "list_without_prefix_condition": (flaw_list_without_prefix_condition, {"pe_exec_role_s3_prefix_only"}),
    "s3_star_on_prefix": (flaw_s3_star_on_prefix, {"pe_exec_role_s3_read_only"}),
    "logs_star": (flaw_logs_star, {"pe_exec_role_logs_scoped"}),
    "sagemaker_star": (flaw_sagemaker_star, {"pe_exec_role_no_other_services"}),
    "pass_role": (flaw_pass_role, {"pe_exec_role_no_other_services"}),
    "ecr_readonly_managed": (flaw_ecr_readonly_managed, {"pe_exec_role_no_aws_managed_policies"}),
    # a broad managed policy is two flaws at once: the managed policy and what it grants
    "s3_readonly_managed": (flaw_s3_readonly_managed, {"pe_exec_role_no_aws_managed_policies",
                                                       "pe_exec_role_s3_prefix_only"}),
    "sagemaker_full_access_on_exec": (flaw_sagemaker_full_access_on_exec, {
        "pe_exec_role_no_aws_managed_policies", "pe_exec_role_no_other_services", "pe_exec_role_s3_prefix_only",
        "pe_exec_role_logs_scoped"}),
    "legacy_role": (flaw_legacy_role, {"pe_endpoint_uses_execution_role"}),
    "other_artifact": (flaw_other_artifact, {"pe_endpoint_uses_execution_role"}),
    "no_network_isolation": (flaw_no_network_isolation, {"pe_model_network_isolation"}),
    "igw_route_on_model_subnet": (flaw_igw_route_on_model_subnet, {"pe_model_private_subnets"}),
    "rule_cidr_typo": (flaw_rule_cidr_typo, {"pe_endpoint_reachable_from_app"}),
    "ipv6_open": (flaw_ipv6_open, {"pe_endpoint_no_internet_ingress"}),
    # 0.0.0.0/0 admits the internet AND every other subnet of the VPC
    "ipv4_open": (flaw_ipv4_open, {"pe_endpoint_no_internet_ingress", "pe_endpoint_no_other_subnets"}),
    "whole_vpc_range": (flaw_whole_vpc_range, {"pe_endpoint_no_other_subnets"}),
    "all_ports_from_app": (flaw_all_ports_from_app, {"pe_endpoint_only_port_8080"}),
    "gateway_on_app_route_table_only": (flaw_gateway_on_app_route_table_only, {"pe_s3_gateway_endpoint_model_routes"}),
    "endpoint_policy_star": (flaw_endpoint_policy_star, {"pe_s3_endpoint_policy_model_bucket"}),
    "endpoint_policy_blocks_model": (flaw_endpoint_policy_blocks_model, {"pe_s3_endpoint_policy_model_bucket"}),
    "private_dns_off": (flaw_private_dns_off, {"pe_runtime_interface_endpoint_private_dns"}),
    "runtime_sg_open": (flaw_runtime_sg_open, {"pe_runtime_endpoint_app_only"}),
    "runtime_sg_whole_vpc": (flaw_runtime_sg_whole_vpc, {"pe_runtime_endpoint_app_only"}),
    "app_invoke_any_endpoint": (flaw_app_invoke_any_endpoint, {"pe_app_role_invoke_only"}),
    "app_full_access_kept": (flaw_app_full_access_kept, {"pe_app_role_invoke_only"}),
    "app_cannot_invoke": (flaw_app_cannot_invoke, {"pe_app_role_invoke_only"}),
    "flow_log_accept_only": (flaw_flow_log_accept_only, {"pe_vpc_flow_logs_cover_endpoint"}),
    # the records of the probes stay in the group, but the model subnet is no longer watched
    "flow_log_on_app_subnet_only": (flaw_flow_log_on_app_subnet_only, {"pe_vpc_flow_logs_cover_endpoint",
                                                                       "pe_flow_logs_show_probes"}),
    # without a flow log the probes' records have nowhere to be found
    "no_flow_logs": (flaw_no_flow_logs, {"pe_vpc_flow_logs_cover_endpoint", "pe_flow_logs_show_probes"}),
    "trail_stopped": (flaw_trail_stopped, {"pe_cloudtrail_trail_logging"}),
    "no_data_events": (flaw_no_data_events, {"pe_cloudtrail_model_data_events"}),
    "data_events_write_only": (flaw_data_events_write_only, {"pe_cloudtrail_model_data_events"}),
}


@pytest.mark.parametrize("name", list(FLAWS))
def test_one_flaw_fails_exactly_its_checks(shared: Shared, name: str) -> None:
    apply, expected = FLAWS[name]
    undo = apply(shared)
    try:
        report = shared.grade()
    finally:
        undo()
    assert failing(report) == expected, name
    for r in report.results:
        if r.spec.id in expected:
            assert r.status.value == "FAIL" and r.message.endswith(".") and "<" not in r.message, r.message


def test_every_check_has_an_isolating_flaw() -> None:
    isolated = {next(iter(exp)) for _, exp in FLAWS.values() if len(exp) == 1}
    fresh = {"pe_cloudtrail_expected_calls_only", "pe_flow_logs_show_probes"}  # fresh-learner tests below
    assert ALL_CHECKS - isolated - fresh == set()


# --- alternative correct solutions


def alt_sg_to_sg_reference(s: Shared) -> Undo:
    new = {"IpProtocol": "tcp", "FromPort": 8080, "ToPort": 8080,
           "UserIdGroupPairs": [{"GroupId": s.facts["app_security_group_id"]}]}
    return _replace_ingress(s, _model_sg(s), _app_rule(s), new)


def alt_customer_managed_policy(s: Shared) -> Undo:
    iam = s.ctx.client("iam")
    f = s.facts
    arn = iam.create_policy(PolicyName=f"{f['prefix']}-endpoint-policy-{uuid.uuid4().hex[:6]}",
                            PolicyDocument=json.dumps(SOL.exec_role_policy(f)))["Policy"]["Arn"]
    iam.attach_role_policy(RoleName=f["execution_role_name"], PolicyArn=arn)
    iam.delete_role_policy(RoleName=f["execution_role_name"], PolicyName=EXEC_POLICY)

    def undo() -> None:
        iam.put_role_policy(RoleName=f["execution_role_name"], PolicyName=EXEC_POLICY,
                            PolicyDocument=json.dumps(SOL.exec_role_policy(f)))
        iam.detach_role_policy(RoleName=f["execution_role_name"], PolicyArn=arn)
    return undo


def alt_two_private_subnets_in_two_azs(s: Shared) -> Undo:
    ec2 = s.ctx.client("ec2")
    f = s.facts
    sub_b = ec2.create_subnet(VpcId=f["vpc_id"], CidrBlock=f["spare_model_subnet_cidr"],
                              AvailabilityZone=f["az_b"])["Subnet"]["SubnetId"]
    assoc = ec2.associate_route_table(RouteTableId=f["model_route_table_id"], SubnetId=sub_b)["AssociationId"]
    undo_model = _swap_model(s, "-2az", VpcConfig={"Subnets": [*f["model_subnet_ids"], sub_b],
                                                   "SecurityGroupIds": [_model_sg(s)]})

    def undo() -> None:
        undo_model()
        ec2.disassociate_route_table(AssociationId=assoc)
        ec2.delete_subnet(SubnetId=sub_b)
    return undo


def alt_invoke_only_through_the_vpc_endpoint(s: Shared) -> Undo:
    doc = SOL.app_invoke_policy(s.facts)
    doc["Statement"][0]["Condition"] = {"StringEquals": {"aws:SourceVpce": _vpce(s, "Interface")["VpcEndpointId"]}}
    return _app_policy(s, doc)


def alt_endpoint_policy_for_the_execution_role_only(s: Shared) -> Undo:
    doc = SOL.s3_endpoint_policy(s.facts)
    doc["Statement"][0]["Principal"] = {"AWS": s.facts["execution_role_arn"]}
    doc["Statement"][0]["Resource"] = f"arn:aws:s3:::{s.facts['model_bucket']}/{s.facts['model_prefix']}/*"
    doc["Statement"][0]["Action"] = "s3:GetObject"
    return _endpoint_policy(s, doc)


def alt_subnet_flow_logs(s: Shared) -> Undo:
    ec2 = s.ctx.client("ec2")
    f = s.facts
    ids = [fl["FlowLogId"] for fl in ec2.describe_flow_logs()["FlowLogs"]]
    ec2.delete_flow_logs(FlowLogIds=ids)
    ec2.create_flow_logs(ResourceIds=[f["app_subnet_id"], *f["model_subnet_ids"]], ResourceType="Subnet",
                         TrafficType="ALL", LogDestinationType="cloud-watch-logs", LogGroupName=f["flow_log_group"],
                         DeliverLogsPermissionArn=f["flow_logs_role_arn"])
    return _flow_log_restore(s)


def alt_advanced_event_selectors(s: Shared) -> Undo:
    f = s.facts
    return _selectors(s, AdvancedEventSelectors=[
        {"Name": "management", "FieldSelectors": [{"Field": "eventCategory", "Equals": ["Management"]}]},
        {"Name": "model reads", "FieldSelectors": [
            {"Field": "eventCategory", "Equals": ["Data"]}, {"Field": "resources.type", "Equals": ["AWS::S3::Object"]},
            {"Field": "resources.ARN", "StartsWith": [f"arn:aws:s3:::{f['model_bucket']}/{f['model_prefix']}/"]}]}])


def alt_model_sg_tight_egress(s: Shared) -> Undo:
    """Hardening the model group's egress (only 443 to S3's prefix list) changes no verdict."""
    ec2 = s.ctx.client("ec2")
    gid = _model_sg(s)
    pl = next(p["PrefixListId"] for p in ec2.describe_prefix_lists()["PrefixLists"]
              if p["PrefixListName"] == s.facts["s3_service_name"])
    everything = {"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}
    s3_only = {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "PrefixListIds": [{"PrefixListId": pl}]}
    ec2.revoke_security_group_egress(GroupId=gid, IpPermissions=[everything])
    ec2.authorize_security_group_egress(GroupId=gid, IpPermissions=[s3_only])

    def undo() -> None:
        ec2.revoke_security_group_egress(GroupId=gid, IpPermissions=[s3_only])
        ec2.authorize_security_group_egress(GroupId=gid, IpPermissions=[everything])
    return undo


ALTERNATIVES = [alt_sg_to_sg_reference, alt_customer_managed_policy, alt_two_private_subnets_in_two_azs,
                alt_invoke_only_through_the_vpc_endpoint, alt_endpoint_policy_for_the_execution_role_only,
                alt_subnet_flow_logs, alt_advanced_event_selectors, alt_model_sg_tight_egress]


@pytest.mark.parametrize("alt", ALTERNATIVES, ids=lambda f: f.__name__[4:])
def test_alternative_correct_solutions_get_full_marks(shared: Shared, alt: Callable[[Shared], Undo]) -> None:
    undo = alt(shared)
    try:
        report = shared.grade()
    finally:
        undo()
    assert report.score == report.max_score, failing(report)


def test_probe_records_are_read_when_the_inventory_carries_log_events(shared: Shared) -> None:
    """The record-level branch of pe_flow_logs_show_probes, fed with the real records of the probes."""
    import dataclasses
    import types

    from seclab.grading import CheckContext
    from seclab.grading.checks import get_check

    org = collect_learner(shared.learner, sections=["ec2", "sagemaker", "logs", "cloudtrail"])
    inv = org.management
    events = shared.ctx.client("logs").filter_log_events(logGroupName=shared.facts["flow_log_group"])["events"]
    assert {"ACCEPT", "REJECT"} <= {e["message"].split()[12] for e in events}
    run = get_check("pe_flow_logs_show_probes").run

    def verdict(kept: list[dict[str, Any]]) -> tuple[str, str]:
        logs = types.SimpleNamespace(log_groups=inv.logs.log_groups, resource_policies=(),
                                     events={shared.facts["flow_log_group"]: tuple(kept)})
        fake = dataclasses.replace(org, management=dataclasses.replace(inv, logs=logs))
        finding = run(CheckContext(org=fake, facts=shared.facts, params={}, learner=shared.learner, lab=LAB))
        return finding.status.value, finding.key

    assert verdict(events) == ("PASS", "pass")
    assert verdict([e for e in events if " ACCEPT " in e["message"]]) == ("FAIL", "no_reject")
    assert verdict([e for e in events if " REJECT " in e["message"]]) == ("FAIL", "no_accept")
    assert verdict([]) == ("FAIL", "no_records")


def test_back_to_full_marks_after_every_flaw_is_undone(shared: Shared) -> None:
    report = shared.grade()
    assert report.score == report.max_score, failing(report)


def test_an_unexpected_call_by_the_app_role_shows_in_cloudtrail(shared: Shared) -> None:
    """Last on the shared learner: CloudTrail history cannot be undone."""
    import boto3

    from seclab.sim import control

    c = shared.ctx.client("sts").assume_role(RoleArn=shared.facts["app_role_arn"], RoleSessionName="app")["Credentials"]
    s3 = boto3.client("s3", region_name="us-east-1", endpoint_url=control.current_endpoint(),
                      aws_access_key_id=c["AccessKeyId"], aws_secret_access_key=c["SecretAccessKey"],
                      aws_session_token=c["SessionToken"])
    s3.list_buckets()
    report = shared.grade()
    assert failing(report) == {"pe_cloudtrail_expected_calls_only"}
    msg = by_id(report, "pe_cloudtrail_expected_calls_only").message
    assert "s3:ListBuckets" in msg and shared.facts["app_role_name"] in msg


# ------------------------------------------------------------------------------------------------ fresh learners


def _solved_with(step4: dict[str, Any]) -> Any:
    name = new_learner()
    lab = get_lab(LAB)
    facts = setup_lab(lab, name)
    ctx = lab_context(lab, name)
    SOL.step1_execution_role(ctx, facts)
    SOL.step2_endpoint(ctx, facts)
    SOL.step3_private_connectivity(ctx, facts)
    SOL.step4_verification(ctx, facts, **step4)
    return grade(lab, name)


@FRESH
def test_not_reviewing_cloudtrail_fails_only_the_review(sim: Any) -> None:
    report = _solved_with({"review_trail": False})
    assert failing(report) == {"pe_cloudtrail_expected_calls_only"}
    assert "You have not looked at CloudTrail since" in by_id(report, "pe_cloudtrail_expected_calls_only").message


@FRESH
def test_no_probes_fails_only_the_probe_evidence(sim: Any) -> None:
    report = _solved_with({"probes": False})
    assert failing(report) == {"pe_flow_logs_show_probes"}
    assert "Run the two probes" in by_id(report, "pe_flow_logs_show_probes").message


@FRESH
def test_cli_run_solution_json_contract(sim: Any, learner: Any) -> None:
    proc = subprocess.run([SECLAB, "run", LAB, "--learner", learner.name, "--solution", "--format", "json"],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    data = json.loads(proc.stdout)
    assert data["lab"] == LAB and data["score"] == data["max_score"] == 100 and data["passed"] is True
    assert len(data["tasks"]) == 4 and all(t["done"] for t in data["tasks"])
    for c in data["checks"]:
        assert c["status"] == "PASS" and set(c["remediation"]) >= {"summary", "boto3", "cli"} and c["compliance"]


def test_cli_setup_prints_the_same_facts(shared: Shared) -> None:
    proc = subprocess.run([SECLAB, "lab", "setup", LAB, "--learner", shared.learner, "--format", "json"],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    facts = json.loads(proc.stdout)
    assert facts == json.loads(json.dumps(shared.facts))
    assert facts["port"] == 8080 and facts["app_subnet_cidr"].endswith(".1.0/24")
    assert facts["model_data_url"].startswith(f"s3://{facts['model_bucket']}/models/")


def test_diagram_draws_what_was_built(shared: Shared, learner: Any) -> None:
    diagram = _load("diagram").diagram
    text = diagram(collect_learner(shared.learner, sections=["ec2", "sagemaker", "cloudtrail"]), shared.facts)
    assert text.startswith("```mermaid\nflowchart") and text.rstrip().endswith("```")
    assert shared.facts["endpoint_name"] in text and "tcp/8080" in text and "model bucket only" in text
    assert "PUBLIC: route to internet gateway" in text and "not built yet" not in text
    facts = setup_lab(get_lab(LAB), learner.name)
    empty = diagram(collect_learner(learner.name, sections=["ec2", "sagemaker", "cloudtrail"]), facts)
    assert empty.count("not built yet") >= 4


# ------------------------------------------------------------------------------------------------ notebooks


@FRESH
@pytest.mark.slow
def test_source_notebook_executes_to_full_marks(sim: Any, learner: Any, tmp_path: Path) -> None:
    nb = execute_notebook(ROOT / "labs" / LAB / "private-endpoint.ipynb", learner.name, tmp_path)
    outputs = json.dumps([c.get("outputs", []) for c in nb.cells])
    assert "seclab-check" in outputs and '"output_type": "error"' not in outputs
    assert "ACCEPT" in outputs and "REJECT" in outputs and "```mermaid" in outputs
    report = grade(get_lab(LAB), learner.name)
    assert report.score == report.max_score, failing(report)


@FRESH
@pytest.mark.slow
def test_nbgrader_release_runs_untouched_and_scores_low(sim: Any, learner: Any, tmp_path: Path) -> None:
    proc, released = release(ROOT / "labs" / LAB / "private-endpoint.ipynb", LAB, tmp_path / "course")
    assert proc.returncode == 0 and released.exists(), proc.stderr[-1000:]
    text = released.read_text()
    assert "BEGIN SOLUTION" not in text and "YOUR CODE HERE" in text and "YOUR ANSWER HERE" in text
    assert "create_vpc_endpoint(VpcEndpointType" not in text and "sm.create_endpoint_config(" not in text
    nb = execute_notebook(released, learner.name, tmp_path)
    outputs = json.dumps([c.get("outputs", []) for c in nb.cells])
    assert '"output_type": "error"' not in outputs and "seclab-check" in outputs
    report = grade(get_lab(LAB), learner.name)
    assert report.score == 0 and not report.passed and not report.errors


def test_reset_returns_to_the_starting_account(shared: Shared) -> None:
    """Last of all on the shared learner: `seclab lab reset` undoes the learner's work (history stays, as on AWS)."""
    from seclab.grading.labs import reset_lab

    facts = reset_lab(shared.lab, shared.learner)
    assert facts == shared.facts
    report = shared.grade()
    assert report.score == 0 and not report.errors, [(r.spec.id, r.status.value) for r in report.results
                                                     if r.status.value != "FAIL"]
