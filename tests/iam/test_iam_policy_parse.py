"""Policy parsing: typed statements, and PolicyErrors that name the policy and where the problem is."""

from __future__ import annotations

import json
from typing import Any

import pytest

from seclab.engines.iam import PolicyError, PolicySet, Request, evaluate, parse_policy
from seclab.errors import ExitCode, InputError

OK = {"Version": "2012-10-17", "Statement": [{"Sid": "Read", "Effect": "Allow", "Action": "s3:GetObject",
                                               "Resource": "arn:aws:s3:::b/*"}]}


def test_dict_and_json_text_parse_alike() -> None:
    a = parse_policy(OK, name="p")
    b = parse_policy(json.dumps(OK), name="p")
    assert a.statements[0].action == b.statements[0].action == ("s3:GetObject",)
    assert a.statements[0].ref == "Read"
    assert a.variables_enabled


def test_statement_object_form_and_lists() -> None:
    p = parse_policy({"Statement": {"Effect": "Deny", "NotAction": ["iam:*", "sts:*"], "NotResource": "x"}})
    s = p.statements[0]
    assert s.not_action == ("iam:*", "sts:*") and s.not_resource == ("x",) and s.index == 0
    assert p.version is None and not p.variables_enabled  # no Version means 2008-10-17


def test_principal_forms() -> None:
    p = parse_policy({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": "*", "Action": "s3:*"},
        {"Effect": "Allow", "Principal": {"AWS": ["*", "111122223333"], "Service": "x.amazonaws.com"},
         "Action": "s3:*"},
        {"Effect": "Deny", "NotPrincipal": {"AWS": "arn:aws:iam::111122223333:root"}, "Action": "s3:*"},
    ]})
    assert p.statements[0].principal.star
    assert p.statements[1].principal.star and p.statements[1].principal.aws == ("111122223333",)
    assert p.statements[2].not_principal.aws == ("arn:aws:iam::111122223333:root",)


def test_condition_values_keep_json_literals() -> None:
    p = parse_policy({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*",
        "Condition": {"Bool": {"aws:SecureTransport": True}, "NumericLessThan": {"s3:max-keys": [10, 2.5]},
                      "ForAnyValue:StringLikeIfExists": {"aws:TagKeys": "a*"}}}]})
    conds = {c.base: c for c in p.statements[0].conditions}
    assert conds["Bool"].values == ("true",)
    assert conds["NumericLessThan"].values == ("10", "2.5")
    c = conds["StringLike"]
    assert c.set_operator == "ForAnyValue" and c.if_exists and c.key == "aws:TagKeys"


def err(doc: Any, name: str = "identity[0]") -> PolicyError:
    with pytest.raises(PolicyError) as info:
        parse_policy(doc, name=name)
    return info.value


def test_invalid_json_has_line_and_column() -> None:
    e = err('{\n  "Version": "2012-10-17",\n  "Statement": [\n    {"Effect": "Allow",, }\n  ]\n}')
    assert e.line == 4 and e.column is not None and e.column > 1
    assert "identity[0] (line 4" in e.message and "invalid JSON" in e.message
    assert isinstance(e, InputError) and e.exit_code == ExitCode.USAGE and e.hint


@pytest.mark.parametrize(
    ("doc", "path", "text"),
    [
        ({"Version": "2012-10-17", "Statment": []}, "Statment", "unknown top-level element"),
        ({"Version": "2012-10-17", "Statement": [{"effect": "Allow"}]}, "Statement[0].effect", "did you mean 'Effect'"),
        ({"Version": "2012-10-17", "Statement": [{"Effect": "allow", "Action": "s3:*", "Resource": "*"}]},
         "Statement[0].Effect", '"Allow" or "Deny"'),
        ({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": 5, "Resource": "*"}]},
         "Statement[0].Action", "string or a list"),
        ({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["s3:x", 1], "Resource": "*"}]},
         "Statement[0].Action[1]", "must be strings"),
        ({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "GetObject", "Resource": "*"}]},
         "Statement[0].Action", "no service prefix"),
        ({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "NotAction": "s3:x"}]},
         "Statement[0]", "not both"),
        ({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Resource": "*"}]}, "Statement[0]",
         "neither Action nor NotAction"),
        ({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*",
                                                 "Condition": {"StringEqualz": {"k": "v"}}}]},
         "Statement[0].Condition.StringEqualz", "unknown condition operator"),
        ({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*",
                                                 "Condition": {"StringEquals": {"k": {"nested": 1}}}}]},
         "Statement[0].Condition.StringEquals.k", "strings, numbers or booleans"),
        ({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*",
                                                 "Condition": {"NullIfExists": {"k": "true"}}}]},
         "Statement[0].Condition.NullIfExists", "unknown condition operator"),
        ({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Principal": {"Bogus": "x"}}]},
         "Statement[0].Principal.Bogus", "unknown principal type"),
        ({"Version": "2012-10-17", "Statement": "nope"}, "Statement", "object or a list"),
        ({"Version": "2012-10-18", "Statement": []}, "Version", "Version must be"),
    ],
)
def test_structural_errors_name_the_path(doc: Any, path: str, text: str) -> None:
    e = err(doc)
    assert e.path == path
    assert text in e.message
    assert e.message.startswith("identity[0]: ")


def test_not_an_object_and_duplicates() -> None:
    assert "JSON object" in err("[1, 2]").message
    dup = '{"Statement": [{"Effect": "Allow", "Effect": "Deny", "Action": "s:a"}]}'
    assert "duplicate key 'Effect'" in err(dup).message
    assert "nested too deeply" in err("[" * 100000 + "]" * 100000).message
    assert "JSON object" in err("[[]]").message


def test_policyset_errors_carry_the_label() -> None:
    ps = PolicySet(identity=[OK, {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": "*", "Action": "s3:*", "Resource": "*"}]}])
    with pytest.raises(PolicyError) as info:
        evaluate(Request("arn:aws:iam::111122223333:role/a", "111122223333", "s3:GetObject", "x", None), ps)
    assert info.value.policy == "identity[1]" and "Principal is not allowed" in info.value.message


def test_condition_value_errors_are_found_when_compiled() -> None:
    bad = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*",
                                                  "Condition": {"NumericLessThan": {"s3:max-keys": "ten"}}}]}
    with pytest.raises(PolicyError) as info:
        PolicySet(boundary=[bad]).validate()
    assert info.value.policy == "boundary[0]" and "not a number" in info.value.message
    with pytest.raises(PolicyError, match="CIDR"):
        PolicySet(identity=[{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*",
            "Resource": "*", "Condition": {"IpAddress": {"aws:SourceIp": "300.1.1.1/8"}}}]}]).validate()
    with pytest.raises(PolicyError, match="ISO 8601"):
        PolicySet(identity=[{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*",
            "Resource": "*", "Condition": {"DateLessThan": {"aws:CurrentTime": "yesterday"}}}]}]).validate()


def test_identity_statement_needs_resource_and_single_policy_is_rejected() -> None:
    with pytest.raises(PolicyError, match="neither Resource nor NotResource"):
        PolicySet(identity=[{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*"}]}]).validate()
    with pytest.raises(PolicyError, match="list of policies"):
        PolicySet(identity=OK)  # type: ignore[arg-type]
    with pytest.raises(PolicyError, match="one list per organization level"):
        PolicySet(scp=[OK])  # type: ignore[list-item]
