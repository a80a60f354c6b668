"""What lab notebooks import: set-up, "check my progress", progressive hints and diagrams.

Why subprocesses: the authoritative grade is computed out of the learner's kernel, by `seclab grade` in its own
process (isolated mode: nothing in the notebook's folder or environment can be imported into it), from the
simulator's state. Nothing here trusts kernel variables; patching this module changes only what the learner sees.

"Check my progress" keeps one such process warm per kernel (`seclab grader`, seclab/grading/service.py): `Lab(...)`
starts it, so it pays Python's start-up, the imports and the botocore clients while the learner reads, and
`lab.setup()` has it grade once in the background, so the first check finds every cache warm. When it cannot answer,
the check runs `seclab grade` once instead. SECLAB_WARM_GRADER=0 always runs `seclab grade`.
"""

from __future__ import annotations

import atexit
import html
import json
import os
import select
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

from seclab.paths import state_dir

_STATUS_ICON = {"PASS": "✅", "FAIL": "❌", "ERROR": "⚠️", "NOT_APPLICABLE": "➖"}


def _learner() -> str:
    return os.environ.get("SECLAB_LEARNER") or "default"


def _child_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}


def _cli(*args: str) -> list[str]:
    """The seclab CLI in a fresh, isolated interpreter (python -I: no cwd, no PYTHON* variables)."""
    return [sys.executable, "-I", "-m", "seclab.cli", *args]


def _seclab(*args: str, timeout: int = 180) -> subprocess.CompletedProcess[str]:
    return subprocess.run(_cli(*args), capture_output=True, text=True, timeout=timeout, env=_child_env(),
                          stdin=subprocess.DEVNULL)


class _Grader:
    """The kernel's warm `seclab grader` process, started on first use and replaced when it dies, stops answering
    or the environment it was started with (learner, state dir) changes."""

    def __init__(self) -> None:
        self._proc: subprocess.Popen[str] | None = None
        self._env: dict[str, str] = {}
        self._unread = 0  # answers to prime() requests not read yet
        self._lock = threading.Lock()
        atexit.register(self.stop)

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None and self._proc.poll() is None else None

    def _ensure(self) -> subprocess.Popen[str]:
        env = _child_env()
        if self._proc is not None and (self._proc.poll() is not None or env != self._env):
            self._stop_locked()
        if self._proc is None:
            self._proc = subprocess.Popen(_cli("grader"), env=env,
                                          stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                          text=True)
            self._env, self._unread = env, 0
        return self._proc

    def start(self) -> None:
        """Start the grader now (it warms up while the learner works) unless one is running for this environment."""
        with self._lock:
            self._ensure()

    def prime(self, request: dict[str, Any]) -> None:
        """Have the grader grade once in the background and throw the answer away: the first real check then finds
        every cache warm (botocore's per-operation models, the engines', the simulator's). Best effort."""
        with self._lock:
            try:
                self._send(self._ensure(), request)
                self._unread += 1
            except OSError:
                self._stop_locked()

    def request(self, request: dict[str, Any], timeout: float = 180) -> dict[str, Any] | None:
        """The grader's answer, or None when it gave none (the caller then runs `seclab grade` once).

        A grader that was already running and fails (it died since, say) is replaced and asked again once."""
        with self._lock:
            for _attempt in range(2):
                fresh = self._proc is None or self._proc.poll() is not None or _child_env() != self._env
                try:
                    proc = self._ensure()
                    while self._unread:  # answers to prime() requests come first
                        self._read(proc, timeout)
                        self._unread -= 1
                    self._send(proc, request)
                    return self._read(proc, timeout)
                except (OSError, ValueError, TimeoutError):
                    self._stop_locked()
                    if fresh:
                        return None
            return None

    @staticmethod
    def _send(proc: subprocess.Popen[str], request: dict[str, Any]) -> None:
        assert proc.stdin is not None
        proc.stdin.write(json.dumps(request) + "\n")
        proc.stdin.flush()

    @staticmethod
    def _read(proc: subprocess.Popen[str], timeout: float) -> dict[str, Any]:
        assert proc.stdout is not None
        if not select.select([proc.stdout], [], [], timeout)[0]:
            raise TimeoutError
        answer = json.loads(proc.stdout.readline())
        if not isinstance(answer, dict) or not isinstance(answer.get("exit"), int):
            raise ValueError("not a grader answer")  # noqa: TRY004 - handled with the other unreadable answers
        return answer

    def stop(self) -> None:
        with self._lock:
            self._stop_locked()

    def _stop_locked(self) -> None:
        proc, self._proc, self._unread = self._proc, None, 0
        if proc is None:
            return
        try:
            if proc.stdin is not None:
                proc.stdin.close()  # end of input ends the grader
            proc.wait(timeout=2)
        except (OSError, subprocess.TimeoutExpired):
            proc.kill()
            proc.wait()
        finally:
            if proc.stdout is not None:
                proc.stdout.close()


_GRADER = _Grader()


def _warm_grader_wanted() -> bool:
    return os.environ.get("SECLAB_WARM_GRADER", "1") != "0"


def _display(obj: Any) -> None:
    try:
        from IPython.display import display

        display(obj)
    except ImportError:  # outside Jupyter: print the text form
        print(getattr(obj, "data", obj))


def _html(text: str) -> Any:
    try:
        from IPython.display import HTML

        return HTML(text)
    except ImportError:
        return text


def _markdown(text: str) -> Any:
    try:
        from IPython.display import Markdown

        return Markdown(text)
    except ImportError:
        return text


class LabError(RuntimeError):
    """A seclab command failed; the message is seclab's own one-line explanation."""


class Lab:
    """One lab, for one learner (from $SECLAB_LEARNER, which `seclab env` sets)."""

    def __init__(self, lab_id: str, learner: str | None = None) -> None:
        self.lab_id = lab_id
        self.learner = learner or _learner()
        self.facts: dict[str, Any] = {}
        if _warm_grader_wanted():
            try:
                _GRADER.start()  # warms up while the learner reads; the first check then finds it ready
            except OSError:
                pass  # the first check will run `seclab grade` instead

    def _run_json(self, *args: str) -> Any:
        proc = _seclab(*args, "--learner", self.learner, "--format", "json")
        try:
            return json.loads(proc.stdout)
        except ValueError:
            detail = (proc.stderr or proc.stdout).strip().splitlines()
            raise LabError(detail[-1] if detail else f"seclab {' '.join(args)} failed ({proc.returncode})") from None

    def setup(self, show: bool = True) -> dict[str, Any]:
        """Seed the lab's starting state (safe to run again) and return the scenario facts."""
        self.facts = dict(self._run_json("lab", "setup", self.lab_id))
        if _warm_grader_wanted():
            _GRADER.prime({"lab": self.lab_id, "learner": self.learner, "format": "json"})
        if show:
            rows = "".join(f"<tr><td><code>{html.escape(str(k))}</code></td><td><code>{html.escape(str(v))}</code>"
                           f"</td></tr>" for k, v in sorted(self.facts.items()))
            _display(_html(f"<b>Your scenario ({html.escape(self.lab_id)}, learner {html.escape(self.learner)})"
                           f"</b><table>{rows}</table>"))
        return self.facts

    def report(self) -> dict[str, Any]:
        """The grader's full JSON report (computed out of this kernel, from the simulator's state)."""
        answer = None
        if _warm_grader_wanted():
            answer = _GRADER.request({"lab": self.lab_id, "learner": self.learner, "format": "json"})
        if answer is None:
            data = self._run_json("grade", self.lab_id)
        elif "report" in answer:
            data = json.loads(answer["report"])
        else:
            raise LabError(str(answer.get("error") or f"seclab grade {self.lab_id} failed ({answer['exit']})"))
        if not isinstance(data, dict) or "checks" not in data:
            raise LabError("the grader returned no report")
        return data

    def check(self, task: str | None = None, show: bool = True) -> dict[str, Any]:
        """Check my progress: grade now and show each check's status, message, why and fix."""
        data = self.report()
        checks = [c for c in data["checks"] if task is None or c["task"] == task]
        if show:
            _display(_html(render_checks(data, checks, task)))
        return {"score": sum(c["points"] for c in checks), "max_score": sum(c["max_points"] for c in checks),
                "passed": all(c["status"] == "PASS" for c in checks), "checks": checks}

    def hint(self, task: str) -> str:
        """Reveal the next hint for a task (each call unlocks one more; they stay unlocked)."""
        from seclab.grading.labs import get_lab

        lab = get_lab(self.lab_id)
        hints = next((t.hints for t in lab.tasks if t.id == task), None)
        if hints is None:
            raise LabError(f"lab {self.lab_id} has no task {task!r}; tasks: {', '.join(t.id for t in lab.tasks)}")
        path = state_dir() / "hints" / self.learner / f"{self.lab_id}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        seen = json.loads(path.read_text()) if path.exists() else {}
        n = min(int(seen.get(task, 0)) + 1, len(hints))
        seen[task] = n
        path.write_text(json.dumps(seen))
        shown = "\n".join(f"{i + 1}. {h}" for i, h in enumerate(hints[:n]))
        more = "" if n == len(hints) else f"\n\n_(hint {n} of {len(hints)}; run again for the next)_"
        _display(_markdown(f"**Hints for {task}**\n\n{shown}{more}"))
        return hints[n - 1] if hints else ""

    def probe(self, source: dict[str, Any], to: dict[str, Any], port: int, protocol: str = "tcp",
              show: bool = True) -> dict[str, Any]:
        """Play one connection through your security groups, NACLs and routes (the network engine, out of this
        kernel) and write the VPC Flow Log records AWS would write into your flow logs (`seclab net probe`)."""
        query = json.dumps({"from": source, "to": to, "port": port, "protocol": protocol})
        data = self._run_json("net", "probe", "--query", query)
        if not isinstance(data, dict):
            raise LabError("the probe returned no answer")
        if show:
            answer = data.get("answer") or {}
            written = (data.get("written") or {}).get("written", 0)
            lines = [f"{data.get('action', '?')}: {json.dumps(source)} -> {json.dumps(to)} on {protocol}/{port}; "
                     f"{written} flow-log record(s) written"]
            for b in answer.get("blocked_by", []):
                lines.append(f"  blocked by {b.get('kind')} {b.get('component')}: {b.get('reason')}")
            print("\n".join(lines))
        return data

    def diagram(self, show: bool = True) -> str:
        """A mermaid diagram of what you built, drawn from the simulator's live state."""
        proc = _seclab("diagram", self.lab_id, "--learner", self.learner)
        if proc.returncode != 0:
            raise LabError((proc.stderr or proc.stdout).strip().splitlines()[-1])
        text = proc.stdout
        if show:
            _display(_markdown(text))
        return text


def render_checks(report: dict[str, Any], checks: list[dict[str, Any]], task: str | None = None) -> str:
    e = html.escape
    score = sum(c["points"] for c in checks)
    total = sum(c["max_points"] for c in checks)
    head = f"Task {e(task)}" if task else f"Lab {e(report['lab'])}"
    rows = []
    for c in checks:
        status = c["status"]
        fix = ""
        if status == "FAIL":
            fix = (f"<div style='color:#57606a'>Why it matters: {e(c['why'])}</div>"
                   f"<details><summary>How to fix it</summary><pre>{e(c['remediation'].get('boto3', ''))}</pre>"
                   f"<pre>{e(c['remediation'].get('cli', ''))}</pre></details>")
        rows.append(
            f"<div class='seclab-check' data-status='{status}' style='border:1px solid #d0d7de;border-radius:6px;"
            f"padding:6px 10px;margin:4px 0'>{_STATUS_ICON.get(status, '')} <b>{e(c['title'])}</b> "
            f"<span style='color:#57606a'>({c['points']}/{c['max_points']})</span>"
            f"<div>{e(c['message'])}</div>{fix}</div>"
        )
    return (f"<div class='seclab-progress'><b>{head}: {score}/{total} points</b> "
            f"<span style='color:#57606a'>(graded out of your kernel from the simulator's state)</span>"
            f"{''.join(rows)}</div>")


def check_progress(lab_id: str, task: str | None = None) -> dict[str, Any]:
    """Shortcut for the notebooks' "check my progress" cells."""
    return Lab(lab_id).check(task)


def lab_dir(lab_id: str) -> Path:
    from seclab.paths import labs_dir

    return labs_dir() / lab_id
