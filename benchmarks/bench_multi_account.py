"""Grading the whole multi-account organization (7 accounts) vs the inventory fetch alone.

Target (issue 8): grading the whole organization takes under 3 s: the eleven checks and the engines over the
collected inventory (who-can-reach graph, SCP proofs, reachability), i.e. `grade_inventory`. The fetch of seven
accounts through the simulator is reported beside it (it is the collector's cost, shared by every lab).

Starts its own simulator (private state dir, free port), sets the lab up and solves it for a fresh learner, then
times ROUNDS rounds of (a) collect_learner with the lab's sections, (b) grade_inventory on that inventory (fresh
inventory objects, so nothing is cached between rounds) and (c) the whole `grade` (fetch + checks).
"""

from __future__ import annotations

import os
import socket
import statistics
import sys
import tempfile
import time

ROUNDS = 3
TARGET_S = 3.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def main() -> int:
    os.environ["SECLAB_STATE_DIR"] = tempfile.mkdtemp(prefix="seclab-bench-multi-account-")
    from seclab.grading.labs import get_lab, require_facts, setup_lab, solve_lab
    from seclab.grading.runner import grade, grade_inventory, sections_for
    from seclab.inventory.collect import collect_learner
    from seclab.sim import control, registry

    control.start(port=free_port())
    try:
        lab = get_lab("multi-account")
        learner = "bench-multi-account"
        registry.add_learner(learner)
        t = time.perf_counter()
        setup_lab(lab, learner)
        solve_lab(lab, learner)
        build = time.perf_counter() - t
        facts = require_facts(lab, learner)
        grade(lab, learner)  # warm the simulator's backends and this process's model loaders
        fetch, checks, full = [], [], []
        score = (0, 0)
        for _ in range(ROUNDS):
            t = time.perf_counter()
            org = collect_learner(learner, sections=sections_for(lab))
            fetch.append(time.perf_counter() - t)
            t = time.perf_counter()
            report = grade_inventory(lab, learner, org, facts)
            checks.append(time.perf_counter() - t)
            score = (report.score, report.max_score)
            t = time.perf_counter()
            grade(lab, learner)
            full.append(time.perf_counter() - t)
    finally:
        control.stop()
    f, c, g = statistics.median(fetch), statistics.median(checks), statistics.median(full)
    ok = c < TARGET_S
    print("## multi-account: grading a 7-account organization\n")
    print(f"Median of {ROUNDS} rounds, warm process; the organization was built (set-up + reference solution) in "
          f"{build:.1f} s. Score {score[0]}/{score[1]}. Issue 8's target: grading the whole organization < "
          f"{TARGET_S:.0f} s.\n")
    print("| inventory fetch, 7 accounts (s) | checks + engines (s) | whole grade (s) | checks + engines < 3 s | "
          "whole grade < 3 s |")
    print("|---|---|---|---|---|")
    print(f"| {f:.2f} | {c:.2f} | {g:.2f} | {'yes' if ok else 'NO'} | {'yes' if g < TARGET_S else 'NO'} |")
    print("\nThe fetch is ~300 API calls at the simulator's per-call cost (the same as bare moto, see bench_sim); "
          "the analysis itself is the checks + engines column.")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
