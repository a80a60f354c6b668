"""Grading a finished cmk-pipeline lab: the whole grade vs the inventory fetch alone, and the checks alone.

Targets: the whole grade under 3 s and the checks and engines alone under 1 s on a 2-core machine.
"""

from __future__ import annotations

from _harness import time_solved_lab

ROUNDS = 5
LAB = "cmk-pipeline"
TARGET_S = 3.0
CHECKS_TARGET_S = 1.0


def main() -> int:
    t = time_solved_lab(LAB, ROUNDS)
    ok = t.whole_s < TARGET_S and t.checks_s < CHECKS_TARGET_S
    print(f"## Grading a finished {LAB} lab ({t.checks} checks), median of {ROUNDS} rounds\n")
    print("| inventory fetch (s) | checks alone (s) | whole grade (s) | `seclab grade`, new process (s) | "
          "check my progress: first, 5 s after set-up / later (s) | target | met |")
    print("|---|---|---|---|---|---|---|")
    print(f"| {t.fetch_s:.3f} | {t.checks_s:.3f} | {t.whole_s:.3f} | {t.cli_s:.2f} | {t.first_check_s:.2f} / {t.later_check_s:.2f} | whole < {TARGET_S:.1f} s, checks < "
          f"{CHECKS_TARGET_S:.1f} s | {'yes' if ok else 'NO'} |")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
