"""Pure numpy scoring functions, tested on tiny arrays (as bm25s keeps its own).

Segments: a passage owns a run of slots ``offsets[c]:offsets[c+1]`` in a flat array of
sentence rows (its sentences, or its anchor sentences); ``segment_slots`` lists the slots
of many passages at once and ``segment_max`` takes the best value of each passage's run.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np


def zscore(values: np.ndarray) -> np.ndarray:
    """Standard scores over the candidates; all zeros when every value is the same."""
    spread = float(values.std())
    if spread < 1e-9:
        return np.zeros_like(values, dtype=np.float32)
    return ((values - values.mean()) / spread).astype(np.float32)


def scale_by_max(values: np.ndarray) -> np.ndarray:
    """Values divided by the largest one. For BM25, which is sparse (most passages score 0):
    a z-score would give one passage sharing a single common word a huge value."""
    top = float(values.max()) if len(values) else 0.0
    if top <= 0:
        return np.zeros_like(values, dtype=np.float32)
    return (values / top).astype(np.float32)


def segment_slots(offsets: np.ndarray, segments: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The slots of every segment, concatenated, and where each segment's run starts in them."""
    firsts, counts = offsets[segments], offsets[segments + 1] - offsets[segments]
    starts = np.cumsum(counts) - counts
    return np.repeat(firsts - starts, counts) + np.arange(int(counts.sum())), starts


def segment_max(values: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """The largest value of each run: ``values`` has one entry per slot of the concatenated
    runs, ``starts`` where each run begins (``segment_slots``); every run is non-empty."""
    if len(starts) == 0:
        return np.zeros(0, dtype=np.float32)
    return np.maximum.reduceat(values, starts).astype(np.float32)


def non_overlapping(spans: Sequence[tuple[str, int, int]], order: Sequence[int], k: int) -> list[int]:
    """The first ``k`` positions of ``order`` whose ``(doc_id, start, end)`` spans overlap no
    span chosen before them (greedy, as non-maximum suppression)."""
    chosen: list[int] = []
    for i in order:
        doc, start, end = spans[i]
        if any(doc == d and start < e and s < end for d, s, e in (spans[j] for j in chosen)):
            continue
        chosen.append(int(i))
        if len(chosen) == k:
            break
    return chosen


def segment_argmax(values: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """The position (into ``values``) of the largest value of each run; the first on ties."""
    if len(starts) == 0:
        return np.zeros(0, dtype=np.int64)
    run = np.repeat(np.arange(len(starts)), np.diff(np.append(starts, len(values))))
    order = np.lexsort((np.arange(len(values)), -values, run))  # by run, then value descending, then position
    return order[np.searchsorted(run[order], np.arange(len(starts)))]
