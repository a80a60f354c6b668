"""Render a grading report as text (terminal), JSON (the stable contract) or HTML (a self-contained page).

Why separate: analysis and presentation stay apart; every format renders the same Report, so the notebook, the
CLI and the take-home report can never disagree on a status or a score.
"""

from __future__ import annotations

import html
import json
from typing import Any

from .runner import Report

_MARK = {"PASS": "PASS", "FAIL": "FAIL", "ERROR": "ERROR", "NOT_APPLICABLE": "N/A"}


def to_json(report: Report) -> str:
    return json.dumps(report.to_json(), indent=2, default=str)


def to_text(report: Report, verbose: bool = True) -> str:
    data = report.to_json()
    lines = [
        f"{report.lab.title} ({report.lab.id}) - learner {report.learner}",
        f"Score {data['score']}/{data['max_score']} - {'PASSED' if data['passed'] else 'not passed yet'} "
        f"(pass mark {report.lab.passing_percentage}%)",
        "",
    ]
    by_task: dict[str, list[dict[str, Any]]] = {}
    for c in data["checks"]:
        by_task.setdefault(c["task"], []).append(c)
    for task in data["tasks"]:
        lines.append(f"{task['title']}  [{task['score']}/{task['max_score']}]")
        for c in by_task.get(task["id"], []):
            lines.append(f"  {_MARK[c['status']]:<5} {c['title']}  ({c['points']}/{c['max_points']})")
            if c["status"] != "PASS" and verbose:
                lines.append(f"        {c['message']}")
                if c["status"] == "FAIL":
                    lines.append(f"        Why it matters: {c['why']}")
                    lines.append(f"        Fix: {c['remediation'].get('summary', '')}")
        lines.append("")
    if report.errors:
        lines.append(f"{len(report.errors)} check(s) could not be evaluated (ERROR); they score nothing until fixed.")
    return "\n".join(lines).rstrip() + "\n"


_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2rem;color:#1b1f24;max-width:70rem}
h1{font-size:1.4rem;margin-bottom:.2rem} .score{font-size:1.1rem;margin:.3rem 0 1.2rem}
.task{margin:1.2rem 0 .4rem;font-weight:600}
.check{border:1px solid #d0d7de;border-radius:6px;padding:.6rem .8rem;margin:.4rem 0}
.badge{display:inline-block;min-width:3.6rem;text-align:center;border-radius:4px;padding:.05rem .4rem;
 font-size:.8rem;font-weight:700;color:#fff;margin-right:.5rem}
.PASS{background:#1a7f37}.FAIL{background:#cf222e}.ERROR{background:#9a6700}.NOT_APPLICABLE{background:#6e7781}
.msg{margin:.4rem 0} .why{color:#57606a} pre{background:#f6f8fa;padding:.5rem;border-radius:4px;overflow:auto}
details summary{cursor:pointer;color:#0969da} .meta{color:#57606a;font-size:.85rem}
"""


def to_html(report: Report, standalone: bool = True) -> str:
    data = report.to_json()
    e = html.escape
    parts = [
        f"<h1>{e(report.lab.title)}</h1>",
        f"<div class='score'>Learner <b>{e(report.learner)}</b> &middot; score <b>{data['score']}/{data['max_score']}</b>"
        f" &middot; {'<b>passed</b>' if data['passed'] else 'not passed yet'}"
        f" (pass mark {report.lab.passing_percentage}%)</div>",
    ]
    by_task: dict[str, list[dict[str, Any]]] = {}
    for c in data["checks"]:
        by_task.setdefault(c["task"], []).append(c)
    for task in data["tasks"]:
        parts.append(f"<div class='task'>{e(task['title'])} ({task['score']}/{task['max_score']})</div>")
        for c in by_task.get(task["id"], []):
            status = c["status"]
            body = [f"<span class='badge {status}'>{_MARK[status]}</span><b>{e(c['title'])}</b>"
                    f" <span class='meta'>({c['points']}/{c['max_points']} points, {e(c['severity'])})</span>",
                    f"<div class='msg'>{e(c['message'])}</div>"]
            if status != "PASS":
                rem = c["remediation"]
                body.append(f"<div class='why'>Why it matters: {e(c['why'])}</div>")
                body.append(
                    "<details><summary>How to fix it</summary>"
                    f"<p>{e(rem.get('summary', ''))}</p><p>boto3:</p><pre>{e(rem.get('boto3', ''))}</pre>"
                    f"<p>AWS CLI:</p><pre>{e(rem.get('cli', ''))}</pre></details>"
                )
            if c.get("evidence") not in (None, {}, []):
                body.append("<details><summary>Evidence</summary>"
                            f"<pre>{e(json.dumps(c['evidence'], indent=2, default=str))}</pre></details>")
            refs = "; ".join(f"{k}: {', '.join(v)}" for k, v in c["compliance"].items() if v)
            if refs:
                body.append(f"<div class='meta'>Controls: {e(refs)}</div>")
            parts.append(f"<div class='check' data-check='{e(c['id'])}' data-status='{status}'>{''.join(body)}</div>")
    inner = "\n".join(parts)
    if not standalone:
        return f"<div class='seclab-report'><style>{_CSS}</style>{inner}</div>"
    return (f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>{e(report.lab.title)} - seclab</title>"
            f"<style>{_CSS}</style></head><body>{inner}</body></html>\n")


def render(report: Report, fmt: str) -> str:
    if fmt == "json":
        return to_json(report) + "\n"
    if fmt == "html":
        return to_html(report)
    return to_text(report)
