"""Typed errors of the IAM engine.

Why: a learner's malformed policy must come back as one line naming the policy and the place in it
("identity[1]: Statement[0].Effect: ..."), never as a traceback, and a grader must be able to tell "the policy is
broken" (PolicyError) from "the question was malformed" (RequestError). Both are InputErrors, so the CLI maps them
to exit code 2.
"""

from __future__ import annotations

from seclab.errors import InputError

_GRAMMAR_URL = "https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_grammar.html"


class PolicyError(InputError):
    """A policy document that AWS would reject: invalid JSON, an unknown element, a value of the wrong type.

    `policy` names the policy (its label such as "identity[0]", or its name/ARN), `path` is the JSON path of the
    problem inside the document ("Statement[1].Condition.StringEquals"), and `line`/`column` are set when the
    document was JSON text that could not be parsed.
    """

    def __init__(
        self,
        problem: str,
        *,
        policy: str = "policy",
        path: str = "",
        line: int | None = None,
        column: int | None = None,
        hint: str = "",
    ) -> None:
        where = policy
        if line is not None:
            where += f" (line {line}, column {column})"
        if path:
            where += f": {path}"
        super().__init__(f"{where}: {problem}", hint or f"Fix the policy document; grammar: {_GRAMMAR_URL}")
        self.problem = problem
        self.policy = policy
        self.path = path
        self.line = line
        self.column = column

    def renamed(self, policy: str) -> PolicyError:
        """The same error attributed to `policy` (a PolicySet label is only known once the policy is placed)."""
        return PolicyError(
            self.problem, policy=policy, path=self.path, line=self.line, column=self.column, hint=self.hint
        )


class RequestError(InputError):
    """A request the evaluator cannot interpret (no principal, an action without a service prefix, ...)."""

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(
            message,
            hint
            or "A request needs principal_arn, action (service:Action) and resource; context values are strings "
            "or lists of strings.",
        )
