"""The statistics of the benchmark tables: the t interval against scipy's
and a hand value, the table cell, and the pairing."""
import math

import numpy as np
import pytest
from scipy import stats

from had_mm.evaluation.statistics import fmt_ci, mean_ci, paired_diffs


def test_mean_ci_is_the_t_interval():
    values = [41.0, 37.5, 44.25, 39.0]
    mean, half, n = mean_ci(values)
    low, high = stats.t.interval(
        0.95, len(values) - 1, loc=np.mean(values), scale=stats.sem(values))
    assert n == 4
    assert mean == pytest.approx(40.4375)
    assert half == pytest.approx((high - low) / 2)
    # by hand: t(0.975, 3) = 3.182446, sample sd / sqrt(4)
    assert half == pytest.approx(
        3.182446 * np.std(values, ddof=1) / 2, rel=1e-6)
    # [1, 2, 3]: sd = 1, t(0.975, 2) = 4.302653
    assert mean_ci([1.0, 2.0, 3.0]) == pytest.approx(
        (2.0, 4.302653 / 3**0.5, 3), rel=1e-6)


def test_mean_ci_level():
    values = [1.0, 2.0, 4.0]
    low, high = stats.t.interval(
        0.9, 2, loc=np.mean(values), scale=stats.sem(values))
    assert mean_ci(values, level=0.9)[1] == pytest.approx((high - low) / 2)
    assert mean_ci(values, level=0.9)[1] < mean_ci(values)[1]


def test_mean_ci_skips_none_and_small_samples():
    assert mean_ci([1.0, None, 3.0])[::2] == (2.0, 2)
    one = mean_ci([5.0])
    assert one[0] == 5.0 and math.isnan(one[1]) and one[2] == 1
    none = mean_ci([])
    assert math.isnan(none[0]) and math.isnan(none[1]) and none[2] == 0


def test_fmt_ci_cells():
    assert fmt_ci(*mean_ci([20.0, 22.0, 24.0])) == '22.00 ± 4.97'
    assert fmt_ci(*mean_ci([1.0, 3.0])) == '2.00 ± 12.71'
    assert fmt_ci(0.6344, 0.01234, 3, digits=3) == '0.634 ± 0.012'
    assert fmt_ci(*mean_ci([5.0])) == '5.00 (n=1)'
    assert fmt_ci(*mean_ci([])) == '-'


def test_paired_diffs_pair_by_key():
    # a key missing on one side, or a None value, is left out; key order
    a = {
        (1, 'reverse'): 5.0,
        (0, 'forward'): 3.0,
        (2, 'forward'): 1.0,
        (3, 'forward'): None
    }
    b = {(0, 'forward'): 1.0, (1, 'reverse'): 1.0, (3, 'forward'): 2.0}
    assert paired_diffs(a, b) == [2.0, 4.0]
    assert paired_diffs({}, b) == []
