"""How good is a confidence? Reliability tables, Brier scores and operating points: pure
functions over (confidence, label) pairs, used by ``qa verdict fit`` and ``qa eval``."""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np


def reliability(confidence: Sequence[float], labels: Sequence[int], bins: int = 10) -> list[dict[str, Any]]:
    """Predicted against observed in equal-width bins (empty bins left out)."""
    p, y = np.asarray(confidence, dtype=float), np.asarray(labels, dtype=float)
    which = np.minimum((p * bins).astype(int), bins - 1)
    table = []
    for b in range(bins):
        inside = which == b
        if inside.any():
            table.append({"bin": f"{b / bins:.1f}-{(b + 1) / bins:.1f}", "n": int(inside.sum()),
                          "predicted": round(float(p[inside].mean()), 4), "observed": round(float(y[inside].mean()), 4)})
    return table


def brier(confidence: Sequence[float], labels: Sequence[int]) -> float:
    p, y = np.asarray(confidence, dtype=float), np.asarray(labels, dtype=float)
    return round(float(np.mean((p - y) ** 2)), 4) if len(p) else 0.0


def operating_points(rows: Sequence[Any], predicted: np.ndarray, answered: float, not_found: float) -> tuple[float, float]:
    """``answer_at`` lets at least ``answered`` of each kind of answerable question through
    (questions and lookups alike); ``not_found_below`` calls at most ``not_found`` of each kind of answerable question
    "not found"."""
    kinds = {r.kind for r in rows if r.answerable}
    by_kind = [np.array([p for r, p in zip(rows, predicted) if r.kind == kind]) for kind in sorted(kinds)]
    # "lower": an observed confidence, so that at least the target share lies at or above it
    return (min(float(np.quantile(p, 1 - answered, method="lower")) for p in by_kind),
            min(float(np.quantile(p, not_found, method="lower")) for p in by_kind))


def shares(rows: Sequence[Any], predicted: np.ndarray, answer_at: float, not_found_below: float) -> dict[str, dict]:
    """Per kind of question: how many, answered, rejected, called "not found"."""
    result = {}
    for kind in sorted({r.kind for r in rows}):
        p = np.array([q for r, q in zip(rows, predicted) if r.kind == kind])
        result[kind] = {"n": len(p), "answered": round(float((p >= answer_at).mean()), 4),
                        "rejected": round(float((p < answer_at).mean()), 4),
                        "not_found": round(float((p < not_found_below).mean()), 4)}
    return result


def report(rows: Sequence[Any], predicted: np.ndarray, answer_at: float, not_found_below: float,
           folds: int) -> dict[str, Any]:
    labels = [r.label for r in rows]
    return {
        "held_out": f"{folds}-fold cross-validation grouped by article (index and question source held out)",
        "rows": len(rows),
        "brier": brier(predicted, labels),
        "reliability": reliability(predicted, labels),
        "by_kind": shares(rows, predicted, answer_at, not_found_below),
    }
