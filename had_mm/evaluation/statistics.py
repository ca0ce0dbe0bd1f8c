"""Statistics of the benchmark tables: the mean with its t confidence
interval, its table cell, and paired differences (one place for every
benchmark driver, projects' included)."""
from typing import Dict, Hashable, Iterable, List, Optional, Tuple

import numpy as np


def mean_ci(values: Iterable[Optional[float]],
            level: float = 0.95) -> Tuple[float, float, int]:
    """Mean and the half-width of its two-sided t confidence interval.

    Args:
        values (Iterable[float | None]): Samples; None entries are skipped.
        level (float): The confidence level. Defaults to 0.95.

    Returns:
        tuple[float, float, int]: The mean (nan without values), the
        half-width ``t(1/2 + level/2, n - 1) * sd / sqrt(n)`` (nan for
        fewer than 2 values) and ``n``.
    """
    from scipy import stats
    vals = np.asarray([v for v in values if v is not None], float)
    if len(vals) == 0:
        return float('nan'), float('nan'), 0
    if len(vals) < 2:
        return float(vals.mean()), float('nan'), 1
    half = stats.t.ppf(0.5 + level / 2,
                       len(vals) - 1) * vals.std(ddof=1) / np.sqrt(len(vals))
    return float(vals.mean()), float(half), len(vals)


def fmt_ci(mean: float, half: float, n: int, digits: int = 2) -> str:
    """A table cell ``mean ± half`` (``-`` for no value, ``(n=1)`` for
    one).

    Args:
        mean (float): The mean.
        half (float): The half-width of the interval.
        n (int): The number of values.
        digits (int): Decimals. Defaults to 2.

    Returns:
        str: The cell.
    """
    if n == 0:
        return '-'
    if n == 1:
        return f'{mean:.{digits}f} (n=1)'
    return f'{mean:.{digits}f} ± {half:.{digits}f}'


def paired_diffs(a: Dict[Hashable, Optional[float]],
                 b: Dict[Hashable, Optional[float]]) -> List[float]:
    """``a[k] - b[k]`` for every key both have a value for, in key order.

    Args:
        a (dict): Key (e.g. the seed) -> value of method A.
        b (dict): The same for method B.

    Returns:
        list[float]: The paired differences.
    """
    keys = sorted(set(a) & set(b))
    return [a[k] - b[k] for k in keys if a[k] is not None and b[k] is not None]
