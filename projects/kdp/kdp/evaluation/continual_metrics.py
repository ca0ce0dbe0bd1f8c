"""Continual-learning summaries of an accuracy matrix.

See projects/kdp/docs/method.md, section 6.

``R[i][j]`` is the accuracy (%) on the test data of task ``j`` after
learning task ``i`` (0-based, ``j <= i``; None for tasks not seen yet).
With ``N`` tasks learnt so far (rows of the matrix):

- final average accuracy: ``mean_j R[N-1][j]`` over the ``N`` seen tasks;
- forgetting: ``sum_i (R[i][i] - R[N-1][i]) / N``, the accuracy of
  each task right after it was learnt minus its final accuracy, summed
  over the seen tasks and divided by ``N`` (the last task adds 0);
- the forgetting of task ``i`` alone: ``R[i][i] - R[N-1][i]``.
"""
import csv
import json
import os
import os.path as osp
from typing import Dict, List, Optional, Sequence

import numpy as np

from had_mm.evaluation.lifelong_report import check_matrix, format_task_matrix

Matrix = List[List[Optional[float]]]


def _rows(matrix: Sequence[Sequence[Optional[float]]],
          num_tasks: Optional[int] = None) -> Matrix:
    """Validate a (partial) accuracy matrix, rows padded with None.

    Args:
        matrix (Sequence[Sequence[float | None]]): The matrix.
        num_tasks (int, optional): Total number of tasks. Defaults to the
            longest row (or the number of rows).

    Returns:
        list[list[float | None]]: The checked rows.
    """
    if num_tasks is None:
        num_tasks = max([len(matrix)] + [len(r) for r in matrix])
    return check_matrix(matrix, num_tasks)


def average_accuracy(matrix: Sequence[Sequence[Optional[float]]]) -> float:
    """Average accuracy over the seen tasks after the last task learnt.

    Args:
        matrix (Sequence[Sequence[float | None]]): The accuracy matrix.

    Returns:
        float: ``mean_j R[N-1][j]`` for ``j < N``.

    Raises:
        ValueError: On an empty or invalid matrix.
    """
    rows = _rows(matrix)
    if not rows:
        raise ValueError('the accuracy matrix is empty')
    n = len(rows)
    return float(np.mean(rows[-1][:n]))


def task_forgetting(
        matrix: Sequence[Sequence[Optional[float]]]) -> List[float]:
    """Forgetting of each seen task: just-learnt minus final accuracy.

    Args:
        matrix (Sequence[Sequence[float | None]]): The accuracy matrix.

    Returns:
        list[float]: ``R[i][i] - R[N-1][i]`` for ``i < N`` (0 for the last
        task).
    """
    rows = _rows(matrix)
    n = len(rows)
    return [float(rows[i][i] - rows[-1][i]) for i in range(n)]


def forgetting(matrix: Sequence[Sequence[Optional[float]]]) -> float:
    """Forgetting as in projects/kdp/docs/method.md, section 6.

    Args:
        matrix (Sequence[Sequence[float | None]]): The accuracy matrix.

    Returns:
        float: ``sum_i (R[i][i] - R[N-1][i]) / N``; 0 with one task.

    Raises:
        ValueError: On an empty or invalid matrix.
    """
    per_task = task_forgetting(matrix)
    if not per_task:
        raise ValueError('the accuracy matrix is empty')
    return float(sum(per_task) / len(per_task))


def summarize(matrix: Sequence[Sequence[Optional[float]]],
              num_tasks: Optional[int] = None) -> Dict[str, object]:
    """All summaries of one accuracy matrix.

    Args:
        matrix (Sequence[Sequence[float | None]]): The accuracy matrix.
        num_tasks (int, optional): Total number of tasks of the run.

    Returns:
        dict: ``matrix`` (rows padded to ``num_tasks``), ``tasks_learnt``,
        ``average_accuracy``, ``forgetting``, ``task_forgetting`` and
        ``average_accuracy_per_task`` (the average accuracy after each
        task, i.e. the row means).
    """
    rows = _rows(matrix, num_tasks)
    return dict(
        matrix=rows,
        tasks_learnt=len(rows),
        average_accuracy=average_accuracy(rows),
        forgetting=forgetting(rows),
        task_forgetting=task_forgetting(rows),
        average_accuracy_per_task=[
            float(np.mean(r[:i + 1])) for i, r in enumerate(rows)
        ])


def build_continual_report(matrices: Dict[str, Sequence[Sequence[float]]],
                           num_tasks: int,
                           task_classes: Optional[Sequence[
                               Sequence[int]]] = None,
                           extra: Optional[dict] = None) -> dict:
    """The report of a continual run: one summary per evaluated model.

    Args:
        matrices (dict[str, matrix]): Accuracy matrix per model, e.g.
            ``{'student': ..., 'teacher': ...}``.
        num_tasks (int): Total number of tasks of the run.
        task_classes (Sequence[Sequence[int]], optional): Remapped label
            range ``[start, end)`` per task, stored as is.
        extra (dict, optional): Other fields to store (config name...).

    Returns:
        dict: ``num_tasks``, ``tasks`` (names ``task_1`` ...),
        ``task_classes`` and one :func:`summarize` dict per model.
    """
    report = dict(
        num_tasks=int(num_tasks),
        tasks=[f'task_{t + 1}' for t in range(num_tasks)],
        metric='accuracy (%)')
    if task_classes is not None:
        report['task_classes'] = [list(c) for c in task_classes]
    for name, matrix in matrices.items():
        if matrix:
            report[name] = summarize(matrix, num_tasks)
    if extra:
        report.update(extra)
    return report


def format_continual_report(report: dict) -> str:
    """The matrices and summaries of a report as text, for logs.

    Args:
        report (dict): From :func:`build_continual_report`.

    Returns:
        str: One block per model.
    """
    lines = []
    for name in ('student', 'teacher'):
        summary = report.get(name)
        if not summary:
            continue
        lines.append(f'{name} accuracy matrix (rows: after task; %)')
        lines.append(format_task_matrix(report['tasks'], summary['matrix']))
        lines.append(f'{name}: average accuracy '
                     f'{summary["average_accuracy"]:.2f}, forgetting '
                     f'{summary["forgetting"]:.2f} after '
                     f'{summary["tasks_learnt"]} task(s)')
    return '\n'.join(lines)


def write_continual_report(report: dict, out_dir: str) -> Dict[str, str]:
    """Write a report as JSON and each accuracy matrix as CSV.

    Args:
        report (dict): From :func:`build_continual_report`.
        out_dir (str): Output folder (created if needed).

    Returns:
        dict[str, str]: Paths: ``json`` (``continual_report.json``) and
        ``csv_<model>`` (``accuracy_matrix_<model>.csv``: a ``after_task``
        column then one column per task, empty for unseen tasks, then
        ``average_accuracy`` and ``forgetting`` of that row's prefix).
    """
    os.makedirs(out_dir, exist_ok=True)
    paths = dict(json=osp.join(out_dir, 'continual_report.json'))
    with open(paths['json'], 'w') as f:
        json.dump(report, f, indent=2, allow_nan=False)
    for name in ('student', 'teacher'):
        summary = report.get(name)
        if not summary:
            continue
        path = osp.join(out_dir, f'accuracy_matrix_{name}.csv')
        rows = summary['matrix']
        with open(path, 'w', newline='') as f:
            writer = csv.writer(f)
            writer.writerow(['after_task'] + list(report['tasks']) +
                            ['average_accuracy', 'forgetting'])
            for i, row in enumerate(rows):
                prefix = rows[:i + 1]
                writer.writerow([i + 1] +
                                ['' if v is None else f'{v:.4f}'
                                 for v in row] + [
                                     f'{average_accuracy(prefix):.4f}',
                                     f'{forgetting(prefix):.4f}'
                                 ])
        paths[f'csv_{name}'] = path
    return paths


def load_continual_report(path: str) -> dict:
    """Load a report written by :func:`write_continual_report`.

    Args:
        path (str): The JSON file.

    Returns:
        dict: The report.
    """
    with open(path) as f:
        return json.load(f)
