"""The warm grader (`seclab grader`) and the notebook's use of it, against a live simulator."""

from __future__ import annotations

import io
import json
import os
import signal
from typing import Any

import pytest

from seclab import notebook
from seclab.grading.labs import get_lab, setup_lab, solve_lab
from seclab.grading.service import serve

LAB = "orientation"


def _serve(*lines: str) -> list[dict[str, Any]]:
    out = io.StringIO()
    assert serve(iter(lines), out, warm=False) == 0
    return [json.loads(x) for x in out.getvalue().splitlines()]


def test_serve_answers_each_line_and_survives_bad_ones(sim: Any, learner: Any) -> None:
    setup_lab(get_lab(LAB), learner.name)
    ok = {"lab": LAB, "learner": learner.name, "format": "json"}
    answers = _serve(json.dumps(ok), "\n", "not json", "[1, 2]", json.dumps({"lab": LAB, "format": "pdf"}),
                     json.dumps({"lab": "no-such-lab", "learner": learner.name}),
                     json.dumps({"lab": LAB, "learner": "nobody-at-all"}),
                     json.dumps(dict(ok, format="text")))
    assert [a["exit"] for a in answers] == [1, 2, 2, 2, 5, 5, 1]  # blank lines get no answer
    first = json.loads(answers[0]["report"])
    assert first["lab"] == LAB and first["learner"] == learner.name and not first["passed"]
    assert "not JSON" in answers[1]["error"] and "JSON object" in answers[2]["error"]
    assert "format" in answers[3]["error"] and "no lab named 'no-such-lab'" in answers[4]["error"]
    assert "nobody-at-all" in answers[5]["error"]
    assert answers[6]["report"].startswith("Orientation") or "Score" in answers[6]["report"]


def test_notebook_checks_share_one_warm_grader_that_reads_fresh_state(sim: Any, learner: Any,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SECLAB_LEARNER", learner.name)
    monkeypatch.delenv("SECLAB_WARM_GRADER", raising=False)
    lab = notebook.Lab(LAB)
    try:
        lab.setup(show=False)
        assert notebook._GRADER._unread == 1  # set-up primed the grader with a grade it throws away
        before = lab.report()
        pid = notebook._GRADER.pid
        assert pid is not None and not before["passed"] and notebook._GRADER._unread == 0
        solve_lab(get_lab(LAB), learner.name)
        after = lab.report()  # same process, state read again
        assert notebook._GRADER.pid == pid and after["passed"] and after["score"] == after["max_score"]
        monkeypatch.setenv("SECLAB_WARM_GRADER", "0")
        one_shot = lab.report()
        assert [c["status"] for c in one_shot["checks"]] == [c["status"] for c in after["checks"]]
        monkeypatch.delenv("SECLAB_WARM_GRADER")

        os.kill(pid, signal.SIGKILL)  # a grader that died is replaced, and the check still answers
        again = lab.report()
        assert again["passed"] and notebook._GRADER.pid not in (None, pid)
    finally:
        notebook._GRADER.stop()
    assert notebook._GRADER.pid is None


def test_a_grader_that_does_not_answer_falls_back_to_seclab_grade(sim: Any, learner: Any,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    setup_lab(get_lab(LAB), learner.name)
    grader = notebook._Grader()
    monkeypatch.setattr(notebook, "_GRADER", grader)
    real = notebook.json.loads
    garbled: list[str] = []

    def loads(text: Any, *args: Any, **kwargs: Any) -> Any:
        if isinstance(text, str) and text.startswith('{"exit"'):
            garbled.append(text)
            raise ValueError("garbled")
        return real(text, *args, **kwargs)

    monkeypatch.setattr(notebook.json, "loads", loads)
    lab = notebook.Lab(LAB, learner=learner.name)
    assert grader.pid is not None  # started with the Lab, warming up before the first check
    data = lab.report()  # the grader's lines were unreadable (twice: it is replaced once): seclab grade ran instead
    assert data["lab"] == LAB and grader.pid is None and len(garbled) == 2


def test_warm_up_prepares_the_collectors_clients(sim: Any) -> None:
    from seclab.grading.service import warm_up
    from seclab.inventory import collect
    from seclab.sim.sessions import shared_admin_session

    warm_up()
    made = collect._Clients.of(shared_admin_session())._clients
    assert {"iam", "ec2", "s3", "kms", "sagemaker", "organizations", "sso-admin"} <= set(made)


def test_the_grader_follows_the_environment(sim: Any, learner: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from seclab.sim import registry

    other = registry.add_learner(f"{learner.name}-b")
    for who in (learner, other):
        setup_lab(get_lab(LAB), who.name)
    monkeypatch.setenv("SECLAB_LEARNER", learner.name)
    try:
        assert notebook.Lab(LAB).report()["learner"] == learner.name
        first = notebook._GRADER.pid
        monkeypatch.setenv("SECLAB_LEARNER", other.name)
        assert notebook.Lab(LAB).report()["learner"] == other.name
        assert notebook._GRADER.pid != first  # a new environment, a new grader
    finally:
        notebook._GRADER.stop()
