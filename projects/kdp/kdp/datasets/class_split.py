"""Class-incremental task splits: class orders and task class ranges.

A split of ``num_classes`` classes into ``num_tasks`` tasks of
``k = num_classes // num_tasks`` classes each is given by a class order, a
permutation of ``range(num_classes)``. Labels are remapped through it: the
class ``class_order[i]`` gets the label ``i``, so task ``t`` holds the
labels ``[t * k, (t + 1) * k)``.
"""
from typing import List, Optional, Sequence, Tuple, Union

import numpy as np


def check_class_order(class_order: Sequence[int],
                      num_classes: int) -> List[int]:
    """Check that a class order is a permutation of ``range(num_classes)``.

    Args:
        class_order (Sequence[int]): The order: ``class_order[i]`` is the
            original index of the class that gets label ``i``.
        num_classes (int): Number of classes of the data set.

    Returns:
        list[int]: The order as a list of ints.

    Raises:
        ValueError: If it has the wrong length, repeats a class, or names a
            class out of range; the message lists the offending classes.
    """
    order = [int(c) for c in class_order]
    problems = []
    if len(order) != num_classes:
        problems.append(f'it has {len(order)} entries for {num_classes} '
                        f'classes')
    out_of_range = sorted({c for c in order if not 0 <= c < num_classes})
    if out_of_range:
        problems.append(f'classes out of range(0, {num_classes}): '
                        f'{out_of_range}')
    seen, repeated = set(), set()
    for c in order:
        (repeated if c in seen else seen).add(c)
    if repeated:
        problems.append(f'repeated classes: {sorted(repeated)}')
    missing = sorted(set(range(num_classes)) - seen)
    if missing:
        problems.append(f'missing classes: {missing}')
    if problems:
        raise ValueError('class_order must be a permutation of '
                         f'range({num_classes}) covering every class, but ' +
                         '; '.join(problems))
    return order


def make_class_order(num_classes: int,
                     class_order: Optional[Sequence[int]] = None,
                     seed: Optional[int] = None) -> List[int]:
    """The class order of a split: explicit, seeded or natural.

    Args:
        num_classes (int): Number of classes.
        class_order (Sequence[int], optional): An explicit order, checked
            by :func:`check_class_order`. Takes precedence over ``seed``.
        seed (int, optional): Seed of a random permutation
            (``np.random.RandomState(seed).permutation``). None with no
            ``class_order``: the natural order ``0 .. num_classes - 1``.

    Returns:
        list[int]: The class order.
    """
    if class_order is not None:
        return check_class_order(class_order, num_classes)
    if seed is None:
        return list(range(num_classes))
    rng = np.random.RandomState(int(seed))
    return [int(c) for c in rng.permutation(num_classes)]


def classes_per_task(num_classes: int, num_tasks: int) -> int:
    """Classes per task of an equal split.

    Args:
        num_classes (int): Number of classes.
        num_tasks (int): Number of tasks.

    Returns:
        int: ``num_classes // num_tasks``.

    Raises:
        ValueError: If ``num_tasks`` is not positive or does not divide
            ``num_classes``.
    """
    if int(num_tasks) < 1:
        raise ValueError(f'num_tasks must be positive, got {num_tasks}')
    if num_classes % num_tasks:
        raise ValueError(f'num_tasks={num_tasks} does not divide the '
                         f'{num_classes} classes into equal tasks')
    return num_classes // num_tasks


def task_class_range(task: int, num_classes: int,
                     num_tasks: int) -> Tuple[int, int]:
    """Remapped label range ``[start, end)`` of a task.

    Args:
        task (int): Task index (0-based).
        num_classes (int): Number of classes.
        num_tasks (int): Number of tasks.

    Returns:
        tuple[int, int]: ``(task * k, (task + 1) * k)``.

    Raises:
        ValueError: If the task index is out of range.
    """
    k = classes_per_task(num_classes, num_tasks)
    if not 0 <= int(task) < num_tasks:
        raise ValueError(f'task {task} is out of range(0, {num_tasks})')
    return int(task) * k, (int(task) + 1) * k


def check_tasks(tasks: Union[None, int, Sequence[int]],
                num_tasks: int) -> List[int]:
    """Normalise a task selection.

    Args:
        tasks (int | Sequence[int] | None): One task, several, or None for
            all of them.
        num_tasks (int): Number of tasks.

    Returns:
        list[int]: Sorted, unique task indices.

    Raises:
        ValueError: On an empty selection or a task out of range.
    """
    if tasks is None:
        return list(range(num_tasks))
    if isinstance(tasks, (int, np.integer)):
        tasks = [tasks]
    out = sorted({int(t) for t in tasks})
    if not out:
        raise ValueError('tasks is empty: select at least one task (or '
                         'None for all)')
    bad = [t for t in out if not 0 <= t < num_tasks]
    if bad:
        raise ValueError(f'tasks {bad} are out of range(0, {num_tasks})')
    return out
