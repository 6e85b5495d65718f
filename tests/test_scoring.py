"""scoring.py: pure numpy functions on tiny arrays."""

import numpy as np

from qa.scoring import non_overlapping, scale_by_max, segment_max, segment_slots, zscore


def test_zscore_centres_and_scales_and_is_zero_for_constant_values():
    assert np.allclose(zscore(np.array([1.0, 2.0, 3.0])), [-1.2247449, 0.0, 1.2247449])
    assert zscore(np.array([4.0, 4.0])).tolist() == [0.0, 0.0]


def test_scale_by_max_keeps_zeros_and_never_divides_by_zero():
    assert scale_by_max(np.array([0.0, 2.0, 4.0])).tolist() == [0.0, 0.5, 1.0]
    assert scale_by_max(np.array([0.0, 0.0])).tolist() == [0.0, 0.0]
    assert scale_by_max(np.array([], dtype=np.float32)).tolist() == []


def test_segment_slots_lists_each_segments_run_in_the_order_asked():
    offsets = np.array([0, 2, 3, 6])  # segment 0 owns slots 0-1, segment 1 slot 2, segment 2 slots 3-5
    slots, starts = segment_slots(offsets, np.array([2, 0]))
    assert slots.tolist() == [3, 4, 5, 0, 1] and starts.tolist() == [0, 3]


def test_segment_max_takes_the_best_value_of_each_run():
    offsets = np.array([0, 2, 3, 6])
    rows = np.array([10, 11, 12, 13, 14, 15])  # slot -> row of a per-row value table
    values_per_row = {10: 0.1, 11: 0.9, 12: 0.5, 13: 0.2, 14: 0.7, 15: 0.3}
    slots, starts = segment_slots(offsets, np.array([0, 1, 2]))
    values = np.array([values_per_row[r] for r in rows[slots]])
    assert np.allclose(segment_max(values, starts), [0.9, 0.5, 0.7])
    assert segment_max(np.array([]), np.array([], dtype=np.int64)).tolist() == []


def test_non_overlapping_keeps_the_best_spans_that_do_not_overlap():
    spans = [("a", 0, 10), ("a", 5, 15), ("b", 5, 15), ("a", 10, 20), ("a", 30, 40)]
    order = [1, 0, 2, 3, 4]  # best first
    assert non_overlapping(spans, order, k=10) == [1, 2, 4]  # 0 and 3 overlap span 1 of the same document
    assert non_overlapping(spans, order, k=2) == [1, 2]
    assert non_overlapping(spans, [0, 3], k=5) == [0, 3]  # touching ends do not overlap
