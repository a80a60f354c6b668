"""Typed errors that every layer raises and the CLI turns into one line, a hint and a stable exit code.

Why: a learner should never see a traceback for something they can fix; an instructor scripting the CLI
needs exit codes that mean the same thing on every command.
"""

from __future__ import annotations


class ExitCode:
    """Documented exit codes (README, "Exit codes")."""

    OK = 0
    NOT_PASSED = 1  # graded and not passed; `iam eval` with unreadable lines
    USAGE = 2  # bad arguments or malformed input
    SIMULATOR_DOWN = 3  # the simulator is not running or not reachable
    REFUSED = 4  # refused for safety: real AWS, a server we did not start, a closed API
    NOT_FOUND = 5  # unknown lab, learner, check, resource
    EVALUATION = 6  # something could not be evaluated (ERROR status)
    INTERNAL = 70  # a bug in seclab: please report it


class SeclabError(Exception):
    """Base error: `message` says what is wrong, `hint` how to fix it."""

    exit_code: int = ExitCode.INTERNAL

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def one_line(self) -> str:
        text = self.message.rstrip(".") + "."
        return f"{text} {self.hint}".strip() if self.hint else text


class UsageError(SeclabError):
    exit_code = ExitCode.USAGE


class InputError(SeclabError):
    """Malformed input: a file, a JSON document, a policy."""

    exit_code = ExitCode.USAGE


class SimulatorUnavailable(SeclabError):
    exit_code = ExitCode.SIMULATOR_DOWN


class RealAwsRefused(SeclabError):
    exit_code = ExitCode.REFUSED


class Refused(SeclabError):
    exit_code = ExitCode.REFUSED


class NotFound(SeclabError):
    exit_code = ExitCode.NOT_FOUND


class EvaluationError(SeclabError):
    exit_code = ExitCode.EVALUATION
