"""Grading a finished private-endpoint lab: the whole grade vs the inventory fetch alone, and the checks alone.

Target (issue 6): the whole grade (fetch + 24 checks + report) under 1 s on a 2-core machine.
"""

from __future__ import annotations

from _harness import time_solved_lab

ROUNDS = 7
LAB = "private-endpoint"
TARGET_S = 1.0


def main() -> int:
    t = time_solved_lab(LAB, ROUNDS)
    print(f"## Grading a finished {LAB} lab ({t.checks} checks), median of {ROUNDS} rounds\n")
    print("| inventory fetch (s) | checks alone (s) | whole grade (s) | `seclab grade`, new process (s) | "
          "check my progress: first, 5 s after set-up / later (s) | target | met |")
    print("|---|---|---|---|---|---|---|")
    ok = t.whole_s < TARGET_S
    print(f"| {t.fetch_s:.3f} | {t.checks_s:.3f} | {t.whole_s:.3f} | {t.cli_s:.2f} | {t.first_check_s:.2f} / {t.later_check_s:.2f} | < {TARGET_S:.1f} s | {'yes' if ok else 'NO'} |")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
