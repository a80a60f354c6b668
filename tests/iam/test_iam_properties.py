"""Properties of the evaluator that must hold for every input (hypothesis):
adding a Deny never grants; removing an Allow never grants; statement, policy and SCP-level order never matter;
the same input always gives the same answer; fuzzed documents raise PolicyError and nothing else."""

from __future__ import annotations

import copy
import json
import random
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from seclab.engines.iam import PolicyError, PolicySet, Request, RequestError, evaluate, parse_policy

A, B = "111122223333", "444455556666"
ACTIONS = ["s3:GetObject", "s3:PutObject", "s3:ListBucket", "kms:Decrypt", "sts:AssumeRole", "iam:PassRole",
           "ec2:RunInstances", "sqs:SendMessage"]
ACTION_PATTERNS = ACTIONS + ["s3:*", "s3:Get*", "*", "kms:*", "iam:Pass?ole", "S3:getobject"]
RESOURCES = ["arn:aws:s3:::b/k", "arn:aws:s3:::b", "arn:aws:s3:::other/x", f"arn:aws:kms:us-east-1:{A}:key/k1",
             f"arn:aws:iam::{A}:role/target", "*"]
RESOURCE_PATTERNS = RESOURCES + ["arn:aws:s3:::b/*", "arn:aws:s3:::*", "arn:aws:s3:::b/${aws:username}",
                                 f"arn:aws:kms:*:{A}:key/*", "arn:aws:iam::*:role/t?rget"]
PRINCIPALS = [f"arn:aws:iam::{A}:user/alice", f"arn:aws:iam::{A}:role/app", f"arn:aws:sts::{A}:assumed-role/app/s1",
              f"arn:aws:iam::{A}:root", f"arn:aws:iam::{B}:role/ext", f"arn:aws:sts::{A}:federated-user/bob",
              "sagemaker.amazonaws.com", "*",
              f"arn:aws:iam::{A}:role/aws-service-role/x.amazonaws.com/AWSServiceRoleForX"]
PRINCIPAL_ELEMENTS: list[Any] = [
    "*", {"AWS": f"arn:aws:iam::{A}:root"}, {"AWS": B}, {"AWS": f"arn:aws:iam::{A}:role/app"},
    {"AWS": f"arn:aws:sts::{A}:assumed-role/app/s1"}, {"AWS": f"arn:aws:iam::{A}:user/alice"},
    {"Service": "sagemaker.amazonaws.com"}, {"AWS": "*"},
]
CONDITIONS: list[dict[str, Any]] = [
    {"StringEquals": {"aws:username": "alice"}},
    {"Bool": {"aws:SecureTransport": "true"}},
    {"StringNotEqualsIfExists": {"aws:PrincipalTag/team": "ml"}},
    {"ForAnyValue:StringLike": {"aws:TagKeys": "a*"}},
    {"ForAllValues:StringEquals": {"aws:TagKeys": ["a", "b"]}},
    {"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}},
    {"Null": {"aws:MultiFactorAuthPresent": "true"}},
    {"StringLike": {"s3:prefix": "home/${aws:username}/*"}},
    {"NumericLessThan": {"s3:max-keys": "10"}},
    {"ArnLike": {"aws:SourceArn": f"arn:aws:sagemaker:*:{A}:*"}},
]
CONTEXT_KEYS: dict[str, list[Any]] = {
    "aws:username": ["alice", "bob"],
    "aws:SecureTransport": ["true", "false"],
    "aws:PrincipalTag/team": ["ml", "web"],
    "aws:TagKeys": [["a"], ["a", "c"], []],
    "aws:SourceIp": ["10.1.2.3", "192.0.2.1"],
    "aws:MultiFactorAuthPresent": ["true"],
    "s3:prefix": ["home/alice/x", "other"],
    "s3:max-keys": ["5", "50"],
    "aws:SourceArn": [f"arn:aws:sagemaker:us-east-1:{A}:training-job/t", f"arn:aws:sagemaker:us-east-1:{B}:x/y"],
}


@st.composite
def statement(draw: Any, with_principal: bool) -> dict[str, Any]:
    s: dict[str, Any] = {"Effect": draw(st.sampled_from(["Allow", "Allow", "Deny"]))}
    if draw(st.booleans()):
        s["Sid"] = draw(st.sampled_from(["A", "B", "S1"]))
    acts = draw(st.lists(st.sampled_from(ACTION_PATTERNS) | st.just("*"), min_size=1, max_size=3))
    s["NotAction" if draw(st.integers(0, 5)) == 0 else "Action"] = acts if len(acts) > 1 else acts[0]
    res = draw(st.lists(st.sampled_from(RESOURCE_PATTERNS) | st.just("*"), min_size=1, max_size=3))
    if not with_principal or draw(st.booleans()):
        s["NotResource" if draw(st.integers(0, 6)) == 0 else "Resource"] = res
    if with_principal:
        s["NotPrincipal" if draw(st.integers(0, 8)) == 0 else "Principal"] = draw(st.sampled_from(PRINCIPAL_ELEMENTS))
    if draw(st.integers(0, 2)) == 0:
        merged: dict[str, Any] = {}
        for c in draw(st.lists(st.sampled_from(CONDITIONS), min_size=1, max_size=2)):
            for op, kv in c.items():
                merged.setdefault(op, {}).update(kv)
        s["Condition"] = merged
    return s


def policy(with_principal: bool = False, min_size: int = 0) -> Any:
    return st.builds(
        lambda sts, v: {**({"Version": v} if v else {}), "Statement": sts},
        st.lists(statement(with_principal), min_size=min_size, max_size=4),
        st.sampled_from(["2012-10-17", "2012-10-17", "2008-10-17", None]),
    )


def _maybe(strategy: Any, size: int) -> Any:
    """Mostly absent (so the layers that are present decide), sometimes present."""
    return st.one_of(st.just([]), st.just([]), st.lists(strategy, min_size=1, max_size=size))


@st.composite
def policy_sets(draw: Any) -> dict[str, Any]:
    return {
        "identity": draw(st.lists(policy(min_size=1), min_size=1, max_size=3)),
        "resource": draw(st.lists(policy(True), max_size=1)),
        "scp": draw(_maybe(st.lists(policy(min_size=1), min_size=1, max_size=2), 2)),
        "rcp": draw(_maybe(st.lists(policy(True, min_size=1), min_size=1, max_size=2), 1)),
        "boundary": draw(_maybe(policy(min_size=1), 1)),
        "session": draw(_maybe(policy(min_size=1), 1)),
    }


@st.composite
def requests(draw: Any) -> Request:
    principal = draw(st.sampled_from(PRINCIPALS))
    account = principal.split(":")[4] if principal.startswith("arn:") else None
    ctx = {}
    for key in draw(st.lists(st.sampled_from(sorted(CONTEXT_KEYS)), unique=True, max_size=5)):
        ctx[key] = draw(st.sampled_from(CONTEXT_KEYS[key]))
    return Request(principal, account, draw(st.sampled_from(ACTIONS)), draw(st.sampled_from(RESOURCES)),
                   draw(st.sampled_from([A, B])), ctx)


def decide(spec: dict[str, Any], req: Request, mgmt: str | None = None) -> str:
    return evaluate(req, PolicySet(**copy.deepcopy(spec), management_account=mgmt)).decision


def _slots(spec: dict[str, Any]) -> list[tuple[str, list[Any]]]:
    """Every policy of a spec with the group it belongs to."""
    out = []
    for kind in ("identity", "resource", "boundary", "session"):
        out += [(kind, p["Statement"]) for p in spec[kind]]
    for kind in ("scp", "rcp"):
        out += [(kind, p["Statement"]) for level in spec[kind] for p in level]
    return out


SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _targeted_deny(req: Request, with_principal: bool) -> dict[str, Any]:
    s: dict[str, Any] = {"Effect": "Deny", "Action": req.action, "Resource": "*"}
    if with_principal:
        s["Principal"] = "*"
    return s


@SETTINGS
@given(policy_sets(), requests(), st.data())
def test_adding_a_deny_never_grants(spec: dict[str, Any], req: Request, data: Any) -> None:
    """Tried in every policy of the set: a random Deny statement and one aimed at the request."""
    before = decide(spec, req)
    for i in range(len(_slots(spec))):
        for aimed in (False, True):
            changed = copy.deepcopy(spec)
            kind, stmts = _slots(changed)[i]
            principal = kind in ("resource", "rcp")
            new = _targeted_deny(req, principal) if aimed else {**data.draw(statement(principal)), "Effect": "Deny"}
            stmts.insert(data.draw(st.integers(0, len(stmts))), new)
            after = decide(changed, req)
            if before != "allow":
                assert after != "allow", (kind, new)
            if before == "explicit_deny":
                assert after == "explicit_deny", (kind, new)


@SETTINGS
@given(policy_sets(), requests())
def test_removing_an_allow_never_grants(spec: dict[str, Any], req: Request) -> None:
    """Tried for every Allow statement of the set, one at a time."""
    before = decide(spec, req)
    if before == "allow":
        return
    for slot, (_, stmts) in enumerate(_slots(spec)):
        for i, s in enumerate(stmts):
            if s["Effect"] != "Allow":
                continue
            changed = copy.deepcopy(spec)
            del _slots(changed)[slot][1][i]
            assert decide(changed, req) != "allow", s


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(policy_sets(), requests(), st.randoms(use_true_random=False))
def test_order_never_matters(spec: dict[str, Any], req: Request, rnd: random.Random) -> None:
    before = evaluate(req, PolicySet(**copy.deepcopy(spec)))
    shuffled = copy.deepcopy(spec)
    for kind in ("identity", "resource", "boundary", "session"):
        rnd.shuffle(shuffled[kind])
    for kind in ("scp", "rcp"):
        rnd.shuffle(shuffled[kind])
        for level in shuffled[kind]:
            rnd.shuffle(level)
    for _, stmts in _slots(shuffled):
        rnd.shuffle(stmts)
    after = evaluate(req, PolicySet(**shuffled))
    assert after.decision == before.decision
    if before.decision == "explicit_deny":
        key = lambda d: json.dumps(d, sort_keys=True)  # noqa: E731
        assert len(after.decided_by) == len(before.decided_by)
        assert {d["effect"] for d in after.decided_by} == {"Deny"}
        assert len({key(d) for d in after.decided_by}) <= len(after.decided_by)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(policy_sets(), requests())
def test_same_input_same_answer(spec: dict[str, Any], req: Request) -> None:
    first = evaluate(req, PolicySet(**copy.deepcopy(spec)))
    ps = PolicySet(**copy.deepcopy(spec))
    second = evaluate(req, ps)
    third = evaluate(req, ps)  # compiled and cached now
    assert first == second == third


def test_management_account_flag_only_relaxes_scps() -> None:
    """A sanity anchor for the properties above: SCPs apply to members, not to the management account."""
    spec = {"identity": [{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}],
            "resource": [], "scp": [[{"Version": "2012-10-17", "Statement": [
                {"Effect": "Allow", "Action": "ec2:*", "Resource": "*"}]}]], "rcp": [], "boundary": [], "session": []}
    req = Request(f"arn:aws:iam::{A}:role/app", A, "s3:GetObject", "arn:aws:s3:::b/k", A)
    assert decide(spec, req) == "implicit_deny"
    assert decide(spec, req, mgmt=A) == "allow"


JSONISH = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=12)
    | st.sampled_from(["*", "Allow", "Deny", "s3:GetObject", "arn:aws:s3:::b/*", "2012-10-17", "${aws:username}",
                       "StringEquals", "ForAllValues:StringLike", "aws:SourceIp", "10.0.0.0/8", "NumericLessThan"]),
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.sampled_from(["Version", "Statement", "Effect", "Action", "NotAction", "Resource",
                                       "NotResource", "Principal", "NotPrincipal", "Condition", "Sid", "AWS",
                                       "Service", "StringEquals", "IpAddress", "DateLessThan", "Bool", "Null",
                                       "aws:SourceIp", "x"]) | st.text(max_size=6), children, max_size=5),
    max_leaves=25,
)


@settings(max_examples=600, deadline=None)
@given(JSONISH, requests(), st.sampled_from(["identity", "resource", "boundary", "scp", "session"]),
       st.booleans())
def test_fuzzed_documents_only_raise_policy_errors(doc: Any, req: Request, slot: str, as_text: bool) -> None:
    payload = json.dumps(doc) if as_text else doc
    try:
        parse_policy(payload, name="fuzz")
    except PolicyError:
        pass
    kwargs: dict[str, Any] = {slot: [[payload]] if slot == "scp" else [payload]}
    try:
        d = evaluate(req, PolicySet(**kwargs))
    except (PolicyError, RequestError):
        return
    assert d.decision in ("allow", "explicit_deny", "implicit_deny")


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=40), st.binary(max_size=40))
def test_fuzzed_text_only_raises_policy_errors(text: str, raw: bytes) -> None:
    for payload in (text, raw, "{" + text, '{"Statement": ' + text + "}"):
        try:
            parse_policy(payload)
        except PolicyError:
            pass
