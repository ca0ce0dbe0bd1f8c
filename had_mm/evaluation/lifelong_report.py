"""Lifelong summary: task matrix, forgetting, backward transfer, Delta_m.

Definitions (``docs/en/methods/lifelong_metrics.md``), with ``T`` the phases
done so far (one new task per phase), ``R[i][j]`` the primary metric of task
``j`` after phase ``i`` (``j <= i``), ``s_j`` = +1 for higher-is-better and
-1 for lower-is-better, and ``R[T]`` the last row:

- forgetting of task ``j < T``, relative %:
  ``F_j = 100 * s_j * (best_j - R[T][j]) / |best_j|`` with ``best_j`` the
  best value of task ``j`` over phases ``j..T-1`` (positive = forgot);
  average over ``j < T``;
- ``BWT = mean_{j<T} 100 * s_j * (R[T][j] - R[j][j]) / |R[j][j]|``;
- ``Delta_m = (100 / T) * sum_t s_t * (M_t - M_ref,t) / M_ref,t`` with
  ``M_t = R[T][t]`` and ``M_ref,t`` the single-task reference.

Indices here are 0-based (row ``i`` = after phase ``i + 1``). The summary
of a partial matrix (after phase ``t < T_total``) is computed over the tasks
seen so far, its last row taken as ``R[T]``; with the full matrix it is the
final value. A 0 denominator gives NaN (serialised as ``null``); with
a single phase forgetting and BWT are undefined (None).
"""
import csv
import json
import math
import os
import os.path as osp
from dataclasses import asdict, dataclass, field
from typing import Dict, List, Mapping, Optional, Sequence, Union

import numpy as np

Matrix = List[List[Optional[float]]]
Directions = Union[Sequence[int], Mapping[str, int]]


@dataclass
class LifelongReport:
    """Summary of a lifelong run (or of its first phases).

    Args:
        tasks (list[str]): Task names, in phase order (task ``j`` is learnt
            in phase ``j``).
        directions (list[int]): +1 (higher is better) or -1 per task.
        matrix (list[list[float | None]]): Task matrix, one row per phase
            done, each of ``len(tasks)`` entries, None where not yet seen.
        forgetting (dict[str, float]): Relative forgetting (%) of every
            task learnt before the last phase done.
        avg_forgetting (float, optional): Mean of ``forgetting``; None with
            a single phase.
        bwt (float, optional): Backward transfer (%); None with a single
            phase.
        delta_m (float, optional): Delta_m (%) over the seen tasks; None
            without references.
        reference (dict[str, float], optional): Single-task reference values
            of the primary metrics.
        metric_names (list[str], optional): Primary metric name per task.
        final_metrics (dict[str, float], optional): All metrics of every
            task after the last phase done.
        phase_iters (list[int], optional): Training iterations of every
            phase of the run (the schedule the matrix was measured under).
    """

    tasks: List[str]
    directions: List[int]
    matrix: Matrix
    forgetting: Dict[str, float] = field(default_factory=dict)
    avg_forgetting: Optional[float] = None
    bwt: Optional[float] = None
    delta_m: Optional[float] = None
    reference: Optional[Dict[str, float]] = None
    metric_names: Optional[List[str]] = None
    final_metrics: Optional[Dict[str, float]] = None
    phase_iters: Optional[List[int]] = None

    @property
    def num_phases(self) -> int:
        """int: Number of phases done (rows of the matrix)."""
        return len(self.matrix)

    def to_dict(self) -> dict:
        """Convert to a JSON-ready dict (NaN and inf become None).

        Returns:
            dict: The report's fields plus ``num_phases``.
        """
        out = _json_safe(asdict(self))
        out['num_phases'] = self.num_phases
        return out

    @classmethod
    def from_dict(cls, data: Mapping) -> 'LifelongReport':
        """Build a report from :meth:`to_dict`'s output (e.g. loaded JSON).

        Args:
            data (Mapping): The dict.

        Returns:
            LifelongReport: The report.
        """
        names = [f for f in cls.__dataclass_fields__]
        return cls(**{k: data[k] for k in names if k in data})


def _json_safe(obj):
    """Replace non-finite floats by None, recursively, and numpy scalars.

    Args:
        obj: A nest of dicts, lists and scalars.

    Returns:
        The same nest with plain, JSON-valid values.
    """
    if isinstance(obj, dict):
        return {str(k): _json_safe(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_json_safe(v) for v in obj]
    if isinstance(obj, (np.integer, )):
        return int(obj)
    if isinstance(obj, (float, np.floating)):
        return float(obj) if math.isfinite(obj) else None
    return obj


def _directions_list(tasks: Sequence[str],
                     directions: Optional[Directions]) -> List[int]:
    """Directions as a list aligned with ``tasks``.

    Args:
        tasks (Sequence[str]): Task names.
        directions (Sequence[int] | Mapping[str, int], optional): Per task
            +1 / -1; None: from the task table (:func:`get_task`).

    Returns:
        list[int]: One direction per task.

    Raises:
        ValueError: On a missing task, a wrong length or a value not +-1.
    """
    if directions is None:
        from had_mm.tasks import get_task, task_names
        known = task_names()
        missing = [t for t in tasks if t not in known]
        if missing:
            raise ValueError(f'no default direction for tasks {missing}; '
                             'pass directions')
        directions = {t: get_task(t).primary_direction for t in tasks}
    if isinstance(directions, Mapping):
        missing = [t for t in tasks if t not in directions]
        if missing:
            raise ValueError(f'directions miss tasks {missing}')
        out = [directions[t] for t in tasks]
    else:
        out = list(directions)
        if len(out) != len(tasks):
            raise ValueError(f'{len(out)} directions for {len(tasks)} tasks')
    if any(d not in (1, -1) for d in out):
        raise ValueError(f'directions must be +1 or -1, got {out}')
    return [int(d) for d in out]


def check_matrix(matrix: Sequence[Sequence[Optional[float]]],
                 num_tasks: int) -> Matrix:
    """Validate a task matrix and pad its rows with None.

    Args:
        matrix (Sequence[Sequence[float | None]]): Row ``i`` = primary
            metrics after phase ``i``; entries ``j <= i`` are required,
            entries ``j > i`` must be None or absent.
        num_tasks (int): Total number of tasks.

    Returns:
        list[list[float | None]]: Rows of ``num_tasks`` entries (floats
        for seen tasks, None for unseen ones).

    Raises:
        ValueError: On too many rows, a missing seen value or a value for a
            task not seen yet.
    """
    if len(matrix) > num_tasks:
        raise ValueError(f'{len(matrix)} rows for {num_tasks} tasks: one '
                         'phase per task')
    out: Matrix = []
    for i, row in enumerate(matrix):
        row = list(row)
        if len(row) > num_tasks:
            raise ValueError(f'row {i} has {len(row)} entries for '
                             f'{num_tasks} tasks')
        row += [None] * (num_tasks - len(row))
        for j, v in enumerate(row):
            if j <= i and v is None:
                raise ValueError(f'R[{i}][{j}] is missing: task {j} is seen '
                                 f'after phase {i}')
            if j > i and v is not None:
                raise ValueError(f'R[{i}][{j}] = {v} but task {j} is not '
                                 f'seen after phase {i}; use None')
        out.append([None if v is None else float(v) for v in row])
    return out


def _rel(num: float, den: float) -> float:
    """``100 * num / den``, NaN when ``den == 0``."""
    return 100.0 * num / den if den != 0 else float('nan')


def compute_forgetting(matrix: Sequence[Sequence[Optional[float]]],
                       directions: Sequence[int]) -> List[float]:
    """Relative forgetting (%) of every task learnt before the last phase.

    Args:
        matrix (Sequence[Sequence[float | None]]): Task matrix (see
            :func:`check_matrix`).
        directions (Sequence[int]): +1 / -1 per task.

    Returns:
        list[float]: ``F_j`` for ``j < T - 1`` (0-based; empty with one
        phase). Positive means forgotten.
    """
    rows = check_matrix(matrix, len(directions))
    last = len(rows) - 1
    out = []
    for j in range(last):
        s = directions[j]
        seen = [rows[i][j] for i in range(j, last)]
        best = max(seen) if s > 0 else min(seen)
        out.append(_rel(s * (best - rows[last][j]), abs(best)))
    return out


def compute_bwt(matrix: Sequence[Sequence[Optional[float]]],
                directions: Sequence[int]) -> Optional[float]:
    """Backward transfer (%), relative to each task's just-learnt value.

    Args:
        matrix (Sequence[Sequence[float | None]]): Task matrix.
        directions (Sequence[int]): +1 / -1 per task.

    Returns:
        float | None: ``mean_{j<T} 100 s_j (R[T][j] - R[j][j]) / |R[j][j]|``;
        None with a single phase. Negative means forgotten.
    """
    rows = check_matrix(matrix, len(directions))
    last = len(rows) - 1
    if last < 1:
        return None
    terms = [
        _rel(directions[j] * (rows[last][j] - rows[j][j]), abs(rows[j][j]))
        for j in range(last)
    ]
    return float(np.mean(terms))


def compute_delta_m(values: Sequence[float], reference: Sequence[float],
                    directions: Sequence[int]) -> float:
    """Delta_m (%) of final primary metrics against single-task references.

    Args:
        values (Sequence[float]): ``M_t``, final value per task.
        reference (Sequence[float]): ``M_ref,t`` per task.
        directions (Sequence[int]): ``s_t`` per task.

    Returns:
        float: ``(100 / T) * sum_t s_t (M_t - M_ref,t) / M_ref,t``.

    Raises:
        ValueError: On mismatched lengths or no task.
    """
    if not (len(values) == len(reference) == len(directions)) or \
            not values:
        raise ValueError('values, reference and directions must be '
                         'non-empty and of the same length')
    terms = [
        _rel(s * (m - r), r) for m, r, s in zip(values, reference, directions)
    ]
    return float(np.mean(terms))


def build_report(
        tasks: Sequence[str],
        matrix: Sequence[Sequence[Optional[float]]],
        directions: Optional[Directions] = None,
        reference: Optional[Union[Mapping[str, float],
                                  Sequence[float]]] = None,
        final_metrics: Optional[Mapping[str, float]] = None,
        metric_names: Optional[Sequence[str]] = None,
        phase_iters: Optional[Sequence[int]] = None) -> LifelongReport:
    """Compute the lifelong summary of a (possibly partial) task matrix.

    Args:
        tasks (Sequence[str]): Task names in phase order.
        matrix (Sequence[Sequence[float | None]]): Task matrix, rows so far.
        directions (Sequence[int] | Mapping[str, int], optional): +1 / -1
            per task. Defaults to None: from the task table.
        reference (Mapping[str, float] | Sequence[float], optional):
            Single-task reference of each task's primary metric (all tasks,
            or at least the seen ones). Defaults to None: no Delta_m.
        final_metrics (Mapping[str, float], optional): All metrics after the
            last phase done, stored as is.
        metric_names (Sequence[str], optional): Primary metric names, for
            labels. Defaults to None: from the task table when known.
        phase_iters (Sequence[int], optional): Training iterations of every
            phase, stored as is. Defaults to None: not recorded.

    Returns:
        LifelongReport: The report.

    Raises:
        ValueError: On an invalid matrix, directions or reference.
    """
    tasks = [str(t) for t in tasks]
    dirs = _directions_list(tasks, directions)
    rows = check_matrix(matrix, len(tasks))
    if metric_names is None:
        from had_mm.tasks import get_task, task_names
        known = task_names()
        if all(t in known for t in tasks):
            metric_names = [get_task(t).primary_metric for t in tasks]
    report = LifelongReport(
        tasks=tasks,
        directions=dirs,
        matrix=rows,
        metric_names=list(metric_names) if metric_names else None,
        final_metrics=dict(final_metrics) if final_metrics else None,
        phase_iters=([int(n) for n in phase_iters]
                     if phase_iters is not None else None))
    if not rows:
        return report
    n = len(rows)
    forgetting = compute_forgetting(rows, dirs)
    report.forgetting = dict(zip(tasks[:n - 1], forgetting))
    report.avg_forgetting = (
        float(np.mean(forgetting)) if forgetting else None)
    report.bwt = compute_bwt(rows, dirs)
    if reference is not None:
        if isinstance(reference, Mapping):
            missing = [t for t in tasks[:n] if t not in reference]
            if missing:
                raise ValueError(f'reference misses seen tasks {missing}')
            ref = {t: float(reference[t]) for t in tasks if t in reference}
        else:
            ref = {t: float(v) for t, v in zip(tasks, reference)}
            if len(ref) < n:
                raise ValueError(f'{len(ref)} reference values for {n} seen '
                                 'tasks')
        report.reference = ref
        report.delta_m = compute_delta_m(rows[-1][:n],
                                         [ref[t] for t in tasks[:n]], dirs[:n])
    return report


def _fmt(value: Optional[float], precision: int) -> str:
    """Format a value of a table cell ('-' for None, 'nan' for NaN)."""
    if value is None:
        return '-'
    return f'{value:.{precision}f}'


def _fmt_sig(value: Optional[float], digits: int) -> str:
    """Format a matrix value with ``digits`` significant digits."""
    if value is None:
        return '-'
    return f'{value:#.{digits}g}'


def format_task_matrix(tasks: Sequence[str],
                       matrix: Sequence[Sequence[Optional[float]]],
                       directions: Optional[Directions] = None,
                       metric_names: Optional[Sequence[str]] = None,
                       digits: int = 4) -> str:
    """Format a task matrix as a plain-text table for logs.

    Args:
        tasks (Sequence[str]): Task names in phase order.
        matrix (Sequence[Sequence[float | None]]): Task matrix.
        directions (Sequence[int] | Mapping[str, int], optional): Shown as
            ``(+)`` / ``(-)`` after each task. Defaults to None: not shown.
        metric_names (Sequence[str], optional): Shown as ``task/metric``.
        digits (int): Significant digits of the values (metrics of very
            different scales share the table). Defaults to 4.

    Returns:
        str: The table, one line per phase, ``-`` for unseen tasks.
    """
    tasks = [str(t) for t in tasks]
    rows = check_matrix(matrix, len(tasks))
    dirs = (
        _directions_list(tasks, directions)
        if directions is not None else None)
    header = ['phase']
    for j, t in enumerate(tasks):
        name = f'{t}/{metric_names[j]}' if metric_names else t
        if dirs is not None:
            name += ' (+)' if dirs[j] > 0 else ' (-)'
        header.append(name)
    body = [[str(i + 1)] + [_fmt_sig(v, digits) for v in row]
            for i, row in enumerate(rows)]
    widths = [
        max(len(r[c]) for r in [header] + body) for c in range(len(header))
    ]

    def line(cells: List[str]) -> str:
        return ' | '.join(c.rjust(w) for c, w in zip(cells, widths))

    sep = '-+-'.join('-' * w for w in widths)
    return '\n'.join([line(header), sep] + [line(r) for r in body])


def format_summary(report: LifelongReport, precision: int = 2) -> str:
    """Task matrix plus the summary numbers, for logs.

    Args:
        report (LifelongReport): The report.
        precision (int): Decimals of the summary percentages. Defaults
            to 2.

    Returns:
        str: Multi-line text.
    """
    lines = [
        format_task_matrix(report.tasks, report.matrix, report.directions,
                           report.metric_names)
    ]
    if report.forgetting:
        per_task = ', '.join(f'{t}: {_fmt(v, precision)}'
                             for t, v in report.forgetting.items())
        lines.append(f'forgetting % ({per_task}); average '
                     f'{_fmt(report.avg_forgetting, precision)}')
    if report.bwt is not None:
        lines.append(f'BWT % {_fmt(report.bwt, precision)}')
    if report.delta_m is not None:
        lines.append(f'Delta_m % {_fmt(report.delta_m, precision)}')
    return '\n'.join(lines)


def _plot_heatmap(report: LifelongReport, path: str) -> None:
    """Save the task matrix as an annotated heat-map PNG.

    Cell colour: relative change (%) of the task's primary metric against
    its value right after it was learnt, signed so that green is better and
    red is worse; grey cells are tasks not seen yet. Cells show the value
    and, off the diagonal, that change.

    Args:
        report (LifelongReport): The report.
        path (str): Output PNG path.
    """
    # Figure + Agg canvas: no global backend switch, no pyplot state.
    import matplotlib
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    n_rows, n_cols = max(report.num_phases, 1), len(report.tasks)
    change = np.full((n_rows, n_cols), np.nan)
    for i, row in enumerate(report.matrix):
        for j, v in enumerate(row):
            if v is not None:
                diag = report.matrix[j][j]
                change[i, j] = (0.0 if diag == 0 else 100.0 *
                                report.directions[j] * (v - diag) / abs(diag))
    lim = max(
        1.0,
        float(np.nanmax(np.abs(change))) if np.isfinite(change).any() else 1.0)
    fig = Figure(figsize=(1.6 + 1.7 * n_cols, 1.2 + 0.7 * n_rows), dpi=120)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot(1, 1, 1)
    cmap = matplotlib.colormaps['RdYlGn'].with_extremes(bad='lightgrey')
    im = ax.imshow(
        np.ma.masked_invalid(change),
        cmap=cmap,
        vmin=-lim,
        vmax=lim,
        aspect='auto')
    for i, row in enumerate(report.matrix):
        for j, v in enumerate(row):
            if v is None:
                continue
            text = f'{v:#.4g}'
            if i != j and np.isfinite(change[i, j]):
                text += f'\n({change[i, j]:+.1f}%)'
            ax.text(j, i, text, ha='center', va='center', fontsize=8)
    labels = []
    for j, t in enumerate(report.tasks):
        name = (f'{t}\n{report.metric_names[j]}' if report.metric_names else t)
        labels.append(name + (' (+)' if report.directions[j] > 0 else ' (-)'))
    ax.set_xticks(range(n_cols))
    ax.set_xticklabels(labels, fontsize=8)
    ax.set_yticks(range(n_rows))
    ax.set_yticklabels([f'after {i + 1}' for i in range(n_rows)], fontsize=8)
    ax.set_xlabel('task (primary metric, direction)')
    ax.set_ylabel('phase')
    title = []
    if report.avg_forgetting is not None:
        title.append(f'avg forgetting {report.avg_forgetting:.2f}%')
    if report.bwt is not None:
        title.append(f'BWT {report.bwt:.2f}%')
    if report.delta_m is not None:
        title.append(f'Delta_m {report.delta_m:.2f}%')
    ax.set_title(' | '.join(title) or 'task matrix', fontsize=9)
    cbar = fig.colorbar(im, ax=ax)
    cbar.set_label('change vs. just learnt, % (+ better)', fontsize=8)
    fig.tight_layout()
    fig.savefig(path)


def write_report(report: LifelongReport,
                 out_dir: str,
                 prefix: str = 'lifelong') -> Dict[str, str]:
    """Write the report as JSON, the task matrix as CSV and a heat-map PNG.

    Args:
        report (LifelongReport): The report.
        out_dir (str): Output directory (created if needed).
        prefix (str): File name stem. Defaults to ``'lifelong'``.

    Returns:
        dict[str, str]: Paths under keys ``'json'``
        (``{prefix}_report.json``), ``'csv'`` (``{prefix}_task_matrix.csv``:
        one row per phase, empty cells for unseen tasks) and ``'png'``
        (``{prefix}_task_matrix.png``).
    """
    os.makedirs(out_dir, exist_ok=True)
    paths = dict(
        json=osp.join(out_dir, f'{prefix}_report.json'),
        csv=osp.join(out_dir, f'{prefix}_task_matrix.csv'),
        png=osp.join(out_dir, f'{prefix}_task_matrix.png'))
    with open(paths['json'], 'w') as f:
        json.dump(report.to_dict(), f, indent=2, allow_nan=False)
    with open(paths['csv'], 'w', newline='') as f:
        writer = csv.writer(f)
        writer.writerow(['phase'] + list(report.tasks))
        for i, row in enumerate(report.matrix):
            writer.writerow([i + 1] +
                            ['' if v is None else repr(v) for v in row])
    _plot_heatmap(report, paths['png'])
    return paths


def load_report(path: str) -> LifelongReport:
    """Load a report written by :func:`write_report`.

    Args:
        path (str): The JSON path.

    Returns:
        LifelongReport: The report.
    """
    with open(path) as f:
        return LifelongReport.from_dict(json.load(f))
