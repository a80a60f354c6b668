"""What the lab benchmarks share: their own simulator, a solved lab, and the timings that matter.

Each benchmark starts a simulator with a private state directory on a free port, sets a lab up and solves it for a
fresh learner, warms the process (model loader, simulator backends), then takes the median of N rounds of
(a) the inventory fetch alone (the sections the lab's checks read), (b) the checks and engines alone on an already
collected inventory, (c) the whole grade as `seclab grade` runs it, in this warm process, (d) `seclab grade` as a new
process (`python -I -m seclab.cli grade`: start-up, imports and clients included), and (e) a notebook's "check my
progress" (`seclab.notebook.Lab.report()`): `Lab(...)` starts the kernel's grader, which warms up (imports, IAM action
database, botocore clients) while the learner works, and `lab.setup()` has it grade once in the background; the first
check is timed WARM_UP_PAUSE_S after that, later checks reuse the same grader.
"""

from __future__ import annotations

import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass

WARM_UP_PAUSE_S = 5.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass(frozen=True)
class LabTiming:
    fetch_s: float
    checks_s: float
    whole_s: float
    cli_s: float
    first_check_s: float
    later_check_s: float
    build_s: float
    checks: int
    score: int
    max_score: int


def time_solved_lab(lab_id: str, rounds: int) -> LabTiming:
    os.environ["SECLAB_STATE_DIR"] = tempfile.mkdtemp(prefix=f"seclab-bench-{lab_id}-")
    from seclab.grading.labs import get_lab, require_facts, setup_lab, solve_lab
    from seclab.grading.runner import grade, grade_inventory, sections_for
    from seclab.inventory.collect import collect_learner
    from seclab.sim import control, registry

    control.start(port=free_port())
    try:
        lab = get_lab(lab_id)
        learner = f"bench-{lab_id}"[:40]
        registry.add_learner(learner)
        t = time.perf_counter()
        setup_lab(lab, learner)
        solve_lab(lab, learner)
        build = time.perf_counter() - t
        facts = require_facts(lab, learner)
        grade(lab, learner)  # warm the simulator's backends and this process's model loader
        fetch, checks, whole, cli = [], [], [], []
        for _ in range(rounds):
            t = time.perf_counter()
            org = collect_learner(learner, sections=sections_for(lab))
            fetch.append(time.perf_counter() - t)
            t = time.perf_counter()
            grade_inventory(lab, learner, org, facts)
            checks.append(time.perf_counter() - t)
            t = time.perf_counter()
            report = grade(lab, learner)
            whole.append(time.perf_counter() - t)
            t = time.perf_counter()
            done = subprocess.run([sys.executable, "-I", "-m", "seclab.cli", "grade", lab_id, "--learner", learner,
                                   "--format", "json"], capture_output=True, text=True, env=os.environ.copy(),
                                  check=False)
            cli.append(time.perf_counter() - t)
            if done.returncode != 0:
                raise AssertionError(f"seclab grade {lab_id} exited {done.returncode}: {done.stderr.strip()[-500:]}")
        from seclab import notebook

        nb = notebook.Lab(lab_id, learner=learner)  # starts the kernel's grader, which warms up meanwhile
        notebook._GRADER.prime({"lab": lab_id, "learner": learner, "format": "json"})  # what lab.setup() does last
        time.sleep(WARM_UP_PAUSE_S)  # a notebook's first check comes minutes after Lab(...): give it seconds
        t = time.perf_counter()
        nb.report()
        first_check = time.perf_counter() - t
        later = []
        for _ in range(rounds):
            t = time.perf_counter()
            nb.report()
            later.append(time.perf_counter() - t)
        notebook._GRADER.stop()
    finally:
        control.stop()
    if report.score != report.max_score:
        raise AssertionError(f"the solved {lab_id} lab graded {report.score}/{report.max_score}, not full marks")
    return LabTiming(statistics.median(fetch), statistics.median(checks), statistics.median(whole),
                     statistics.median(cli), first_check, statistics.median(later), build,
                     len(report.results), report.score, report.max_score)
