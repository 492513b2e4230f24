"""Paths of the transfer stages that xlt.layout does not hold yet. Every stage depends on
layout.py, so a path added there reruns them all; this one moves there with the next change that
does. Derived from layout's own paths, so that the metrics tree is still spelt in one place."""
from __future__ import annotations

from pathlib import Path

from xlt.layout import Layout


def matrix_metrics(root: Path, task: str, source: str) -> Path:
    """metrics/transfer/matrix/<task>/<source>.json, beside metrics/transfer/inlang/."""
    return Layout(root).inlang_metrics(task, source).parents[2] / "matrix" / task / f"{source}.json"
