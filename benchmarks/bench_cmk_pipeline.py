"""Grading a finished cmk-pipeline lab: the whole grade vs the inventory fetch alone, and the checks alone.

Target: the whole grade (fetch + 18 checks + report) under 3 s on a 2-core machine; the checks alone (key-policy
analysis, a few hundred bucket-policy requests, the least-privilege analysis) under 1 s. Starts its own simulator
(private state dir, free port), sets the lab up and solves it for a fresh learner, warms the process, then takes the
median of N rounds of (a) collect_learner alone (the sections the lab's checks read), (b) grade_inventory on an
already collected inventory, (c) the whole grade as `seclab grade` runs it.
"""

from __future__ import annotations

import os
import socket
import statistics
import tempfile
import time

ROUNDS = 5
LAB = "cmk-pipeline"
TARGET_S = 3.0
CHECKS_TARGET_S = 1.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def main() -> int:
    os.environ["SECLAB_STATE_DIR"] = tempfile.mkdtemp(prefix="seclab-bench-cmk-")
    from seclab.grading.labs import get_lab, require_facts, setup_lab, solve_lab
    from seclab.grading.runner import grade, grade_inventory, sections_for
    from seclab.inventory.collect import collect_learner
    from seclab.sim import control, registry

    control.start(port=free_port())
    try:
        lab = get_lab(LAB)
        learner = "bench-cmk-pipeline"
        registry.add_learner(learner)
        setup_lab(lab, learner)
        solve_lab(lab, learner)
        facts = require_facts(lab, learner)
        grade(lab, learner)  # warm the simulator's backends and this process's model loader
        fetch, checks, whole = [], [], []
        for _ in range(ROUNDS):
            t = time.perf_counter()
            org = collect_learner(learner, sections=sections_for(lab))
            fetch.append(time.perf_counter() - t)
            t = time.perf_counter()
            grade_inventory(lab, learner, org, facts)
            checks.append(time.perf_counter() - t)
            t = time.perf_counter()
            report = grade(lab, learner)
            whole.append(time.perf_counter() - t)
        assert report.score == report.max_score, "the solved lab should grade full"
    finally:
        control.stop()
    f, c, w = (statistics.median(x) for x in (fetch, checks, whole))
    ok = w < TARGET_S and c < CHECKS_TARGET_S
    print(f"## Grading a finished {LAB} lab ({len(report.results)} checks), median of {ROUNDS} rounds\n")
    print("| inventory fetch (s) | checks alone (s) | whole grade (s) | target | met |")
    print("|---|---|---|---|---|")
    print(f"| {f:.3f} | {c:.3f} | {w:.3f} | whole < {TARGET_S:.1f} s, checks < {CHECKS_TARGET_S:.1f} s | "
          f"{'yes' if ok else 'NO'} |")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
