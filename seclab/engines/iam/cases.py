"""The request-case format (../shared/design/iam-and-network-engines.md §4) read into Request + PolicySet.

Why a module of its own: the CLI (`seclab iam eval`), the conformance suite and the benchmark all read the same
JSON lines, and must agree on every field. A case is
    {"id", "policies": {identity, resource, scp, rcp, boundary, session, endpoint?},
     "request": {principal_arn, principal_account, action, resource, resource_account, context},
     "management_account"?: "...", "resource_policy_required"?: bool,
     "expected"?, "source"?, "note"?, "tags"?}
`expected`, `source`, `note` and `tags` are ignored by evaluation. Unknown keys inside "policies" or "request"
are errors (a misspelt "identitiy" must not silently mean "no identity policy").
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from seclab.engines.iam.errors import PolicyError, RequestError
from seclab.engines.iam.evaluator import Decision, PolicySet, Request, evaluate
from seclab.errors import InputError

_POLICY_KEYS = ("identity", "resource", "scp", "rcp", "boundary", "session", "endpoint")
_REQUEST_KEYS = ("principal_arn", "principal_account", "action", "resource", "resource_account", "context")


@dataclass(frozen=True, slots=True)
class CaseResult:
    id: Any
    decision: Decision | None
    error: str | None

    def to_dict(self) -> dict[str, Any]:
        if self.decision is None:
            return {"id": self.id, "error": self.error}
        return {"id": self.id, "decision": self.decision.decision, "decided_by": self.decision.decided_by}


def case_inputs(case: Mapping[str, Any]) -> tuple[Request, PolicySet]:
    """Build the evaluator's inputs from one parsed case; raises InputError subclasses on a malformed case."""
    if not isinstance(case, Mapping):
        raise RequestError("a case must be a JSON object")
    policies = case.get("policies", {})
    if not isinstance(policies, Mapping):
        raise RequestError("policies must be an object")
    for key in policies:
        if key not in _POLICY_KEYS:
            raise RequestError(f"unknown policies key {key!r} (allowed: {', '.join(_POLICY_KEYS)})")
    req = case.get("request")
    if not isinstance(req, Mapping):
        raise RequestError("the case has no request object")
    for key in req:
        if key not in _REQUEST_KEYS:
            raise RequestError(f"unknown request key {key!r} (allowed: {', '.join(_REQUEST_KEYS)})")
    for key in ("principal_arn", "action", "resource"):
        if not isinstance(req.get(key), str):
            raise RequestError(f"request.{key} must be a string")
    for key in ("principal_account", "resource_account"):
        if req.get(key) is not None and not isinstance(req.get(key), str):
            raise RequestError(f"request.{key} must be a string (a 12-digit account id)")
    for key in ("identity", "resource", "boundary", "session", "endpoint"):
        if not isinstance(policies.get(key, []), list):
            raise PolicyError(f"policies.{key} must be a list of policies", policy=key)
    for key in ("scp", "rcp"):
        levels = policies.get(key, [])
        if not isinstance(levels, list) or not all(isinstance(level, list) for level in levels):
            raise PolicyError(f"policies.{key} must be a list of levels, each a list of policies", policy=key)
    mgmt = case.get("management_account")
    if mgmt is not None and not isinstance(mgmt, str):
        raise RequestError("management_account must be a string")
    required = case.get("resource_policy_required")
    if required is not None and not isinstance(required, bool):
        raise RequestError("resource_policy_required must be true or false")
    ps = PolicySet(
        identity=policies.get("identity", []),
        resource=policies.get("resource", []),
        scp=policies.get("scp", []),
        rcp=policies.get("rcp", []),
        boundary=policies.get("boundary", []),
        session=policies.get("session", []),
        endpoint=policies.get("endpoint", []),
        management_account=mgmt,
        resource_policy_required=required,
    )
    request = Request(
        principal_arn=req["principal_arn"],
        principal_account=req.get("principal_account"),
        action=req["action"],
        resource=req["resource"],
        resource_account=req.get("resource_account"),
        context=req.get("context") or {},
    )
    return request, ps


def evaluate_case(case: Mapping[str, Any]) -> Decision:
    request, ps = case_inputs(case)
    return evaluate(request, ps)


def run_lines(lines: Iterable[str]) -> Iterator[CaseResult]:
    """Evaluate one case per non-blank line, in order. A line that cannot be read or evaluated yields an error
    result and the run continues."""
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        case_id: Any = None
        try:
            case = json.loads(line)
        except (json.JSONDecodeError, RecursionError) as exc:
            msg = exc.msg if isinstance(exc, json.JSONDecodeError) else "nested too deeply"
            yield CaseResult(None, None, f"line {number}: invalid JSON: {msg}")
            continue
        if isinstance(case, Mapping):
            case_id = case.get("id")
        try:
            yield CaseResult(case_id, evaluate_case(case), None)
        except InputError as exc:
            yield CaseResult(case_id, None, f"line {number}: {exc.message}")
