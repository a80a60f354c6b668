"""Grade time vs the inventory fetch alone (target: grading <= 1.5x the fetch), on the orientation lab solved.

Starts its own simulator (private state dir, free port), sets the lab up and solves it for a fresh learner, then
times N rounds of (a) collect_learner alone (the same sections the lab's checks read) and (b) the whole grade (collect + checks + report).
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time

from _harness import free_port

ROUNDS = 7


def main() -> int:
    os.environ["SECLAB_STATE_DIR"] = tempfile.mkdtemp(prefix="seclab-bench-grade-")
    from seclab.grading.labs import get_lab, setup_lab, solve_lab
    from seclab.grading.runner import grade, sections_for
    from seclab.inventory.collect import collect_learner
    from seclab.sim import control, registry

    control.start(port=free_port())
    try:
        rows = []
        for lab_id in ("orientation",):
            lab = get_lab(lab_id)
            learner = f"bench-{lab_id}"[:30]
            registry.add_learner(learner)
            setup_lab(lab, learner)
            solve_lab(lab, learner)
            grade(lab, learner)  # warm the simulator's backends and this process's model loader
            fetch, full = [], []
            for _ in range(ROUNDS):
                t = time.perf_counter()
                collect_learner(learner, sections=sections_for(lab))
                fetch.append(time.perf_counter() - t)
                t = time.perf_counter()
                report = grade(lab, learner)
                full.append(time.perf_counter() - t)
            assert report.score == report.max_score, "the solved lab should grade full"
            f, g = statistics.median(fetch), statistics.median(full)
            rows.append((lab_id, f, g, g / f))
    finally:
        control.stop()
    print("## Grading time vs the inventory fetch alone\n")
    print(f"Median of {ROUNDS} rounds, one solved lab, warm process. Target: grade <= 1.5x fetch.\n")
    print("| lab | inventory fetch (s) | whole grade (s) | ratio | target met |")
    print("|---|---|---|---|---|")
    ok = True
    for lab_id, f, g, r in rows:
        ok &= r <= 1.5
        print(f"| {lab_id} | {f:.3f} | {g:.3f} | {r:.2f}x | {'yes' if r <= 1.5 else 'NO'} |")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
