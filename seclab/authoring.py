"""Authoring helpers: build a lab's nbgrader source notebook from a short Python description.

Why: every lab notebook has the same furniture (set-up cell, solution regions with nbgrader metadata, "check my
progress" cells, hints, a manually graded answer). Building them from one description keeps the nbgrader metadata
right (solution cells must be marked, ids unique) and the notebooks consistent. Authors may also edit the .ipynb
in JupyterLab directly; the source of truth is the notebook file.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

_GRADE_ID = re.compile(r"[^a-z0-9_-]+")


def _meta(grade_id: str, solution: bool, grade: bool = False, locked: bool = False, points: int | None = None,
          task: bool = False) -> dict[str, Any]:
    meta: dict[str, Any] = {"grade": grade, "grade_id": grade_id, "locked": locked, "schema_version": 3,
                            "solution": solution, "task": task}
    if points is not None:
        meta["points"] = points
    return {"nbgrader": meta}


def md(text: str, grade_id: str | None = None) -> Any:
    cell = new_markdown_cell(text.strip("\n"))
    if grade_id:
        cell.metadata.update(_meta(grade_id, solution=False, locked=True))
    return cell


def code(source: str, grade_id: str | None = None, locked: bool = True) -> Any:
    cell = new_code_cell(source.strip("\n"))
    if grade_id:
        cell.metadata.update(_meta(grade_id, solution=False, locked=locked))
    return cell


def solution(source: str, grade_id: str) -> Any:
    """A code cell the learner completes; the part between the markers is removed in the release version."""
    if "### BEGIN SOLUTION" not in source:
        raise ValueError(f"solution cell {grade_id} has no ### BEGIN SOLUTION marker")
    cell = new_code_cell(source.strip("\n"))
    cell.metadata.update(_meta(grade_id, solution=True))
    return cell


def answer(prompt_id: str, points: int, model_answer: str) -> Any:
    """A manually graded written answer (markdown) with a model answer removed from the release."""
    text = f"YOUR ANSWER HERE\n\n### BEGIN SOLUTION\n{model_answer.strip()}\n### END SOLUTION"
    cell = new_markdown_cell(text)
    cell.metadata.update(_meta(prompt_id, solution=True, grade=True, points=points))
    return cell


def write_notebook(path: Path, cells: Iterable[Any], title: str) -> Path:
    nb = new_notebook(cells=list(cells))
    nb.metadata.update({
        "kernelspec": {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"},
        "language_info": {"name": "python"},
        "title": title,
    })
    ids = [c.metadata.get("nbgrader", {}).get("grade_id") for c in nb.cells if "nbgrader" in c.metadata]
    dupes = {i for i in ids if ids.count(i) > 1}
    if dupes:
        raise ValueError(f"duplicate nbgrader grade_id(s): {sorted(dupes)}")
    nbformat.validate(nb)
    path.write_text(nbformat.writes(nb), encoding="utf-8")
    return path


def grade_id(text: str) -> str:
    return _GRADE_ID.sub("-", text.lower()).strip("-")
