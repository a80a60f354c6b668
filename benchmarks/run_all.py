"""Run every benchmarks/bench_*.py and write their results, with the machine they ran on, to BENCHMARKS.md.

Each benchmark prints a markdown section (a heading, a table, a verdict line) on stdout. Targets live here, in
benchmarks, never in timed unit tests.
"""

from __future__ import annotations

import datetime as dt
import os
import platform
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        mem_kb = int(next(l for l in Path("/proc/meminfo").read_text().splitlines() if l.startswith("MemTotal"))
                     .split()[1])
        mem = f"{mem_kb / 1024 / 1024:.0f} GiB"
    except (OSError, StopIteration, ValueError):
        mem = "unknown memory"
    return (f"{os.cpu_count()} cores ({cpu}), {mem}, {platform.system()} {platform.release()}, "
            f"Python {platform.python_version()}")


def main() -> int:
    only = sys.argv[1:]
    sections = []
    failed = []
    for script in sorted(HERE.glob("bench_*.py")):
        if only and script.stem not in only:
            continue
        print(f"running {script.name} ...", file=sys.stderr, flush=True)
        proc = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, cwd=ROOT, timeout=1800)
        if proc.returncode != 0:
            failed.append(script.name)
            if proc.stdout.strip().startswith("#"):  # it measured, and a target was missed: show the table
                sections.append(proc.stdout.strip() + "\n\n**Target not met in this run.**\n")
            else:
                sections.append(f"## {script.stem}\n\nFAILED (exit {proc.returncode}):\n\n```\n"
                                f"{(proc.stderr or proc.stdout)[-2000:]}\n```\n")
        else:
            sections.append(proc.stdout.strip() + "\n")
    header = (f"# Benchmarks\n\nMeasured {dt.date.today().isoformat()} on {machine()}.\n"
              f"Run them again with `make bench` (or `.venv/bin/python benchmarks/run_all.py [bench_name ...]`).\n\n")
    if not only:
        (ROOT / "BENCHMARKS.md").write_text(header + "\n".join(sections))
        print(f"wrote {ROOT / 'BENCHMARKS.md'}", file=sys.stderr)
    else:
        print(header + "\n".join(sections))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
