"""`seclab iam eval`: the JSON-lines contract, bad lines, missing files, stdin and text output."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent.parent
SECLAB = str(ROOT / ".venv" / "bin" / "seclab")

GOOD = {
    "id": "good",
    "policies": {"identity": [{"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"}]}]},
    "request": {"principal_arn": "arn:aws:iam::111122223333:role/app", "principal_account": "111122223333",
                "action": "s3:GetObject", "resource": "arn:aws:s3:::b/k", "resource_account": "111122223333",
                "context": {}},
    "expected": "implicit_deny",  # deliberately wrong: `expected` must be ignored
}


def run(args: list[str], stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([SECLAB, "iam", "eval", *args], input=stdin, capture_output=True, text=True, timeout=60)


def lines(p: subprocess.CompletedProcess[str]) -> list[dict[str, Any]]:
    return [json.loads(line) for line in p.stdout.splitlines()]


def test_bad_lines_are_reported_and_the_run_goes_on(tmp_path: Path) -> None:
    bad_policy = json.loads(json.dumps(GOOD))
    bad_policy["id"] = "bad-policy"
    bad_policy["policies"]["identity"][0]["Statement"][0]["Effect"] = "allow"
    unknown_key = json.loads(json.dumps(GOOD))
    unknown_key["id"] = "typo"
    unknown_key["policies"]["identitiy"] = unknown_key["policies"].pop("identity")
    bad_request = json.loads(json.dumps(GOOD))
    bad_request["id"] = "no-service"
    bad_request["request"]["action"] = "GetObject"
    f = tmp_path / "cases.jsonl"
    f.write_text("\n".join([json.dumps(GOOD), "{not json", json.dumps(bad_policy), "", json.dumps(unknown_key),
                            json.dumps(bad_request), json.dumps(dict(GOOD, id="last"))]) + "\n")
    p = run([str(f)])
    out = lines(p)
    assert p.returncode == 1
    assert [o.get("id") for o in out] == ["good", None, "bad-policy", "typo", "no-service", "last"]
    assert out[0] == {"id": "good", "decision": "allow", "decided_by": out[0]["decided_by"]}
    assert "line 2: invalid JSON" in out[1]["error"]
    assert "identity[0]" in out[2]["error"] and "Statement[0].Effect" in out[2]["error"]
    assert "identitiy" in out[3]["error"]
    assert "service:Action" in out[4]["error"]
    assert out[5]["decision"] == "allow"


def test_all_lines_evaluated_exit_zero(tmp_path: Path) -> None:
    f = tmp_path / "ok.jsonl"
    f.write_text(json.dumps(GOOD) + "\n")
    p = run([str(f), "--format", "jsonl"])
    assert p.returncode == 0 and lines(p)[0]["decision"] == "allow"


def test_missing_file_is_one_line_exit_two(tmp_path: Path) -> None:
    p = run([str(tmp_path / "nope.jsonl")])
    assert p.returncode == 2
    assert p.stdout == ""
    assert len(p.stderr.strip().splitlines()) == 1 and "no such file" in p.stderr


def test_stdin_and_text_format() -> None:
    p = run(["-", "--format", "text"], stdin=json.dumps(GOOD) + "\n")
    assert p.returncode == 0
    fields = p.stdout.strip().split("\t")
    assert fields[0] == "good" and fields[1] == "allow" and "identity[0]" in fields[2]


def test_not_utf8_is_an_input_error(tmp_path: Path) -> None:
    f = tmp_path / "latin1.jsonl"
    f.write_bytes(b'{"id": "\xe9"}\n')
    p = run([str(f)])
    assert p.returncode == 2 and "UTF-8" in p.stderr


def test_help_documents_exit_codes() -> None:
    p = subprocess.run([SECLAB, "iam", "eval", "--help"], capture_output=True, text=True, timeout=60)
    assert p.returncode == 0 and "Exit code 0" in p.stdout
