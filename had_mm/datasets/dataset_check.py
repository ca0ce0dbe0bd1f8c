"""Read every file of a data set once, before training uses it.

The loading transforms already refuse a bad file (wrong size, class value
out of range, negative or 8-bit depth, NaN in an image, a truncated PNG),
but only when a batch reads it, possibly phases into a lifelong run.
:func:`check_dataset` runs the leading ``Load*`` transforms of a data
set's pipeline over every sample up front and counts the valid label
pixels of each task, so that those errors, and a split whose labels of a
task are all invalid, come before the first iteration.
``tools/analysis/check_dataset.py`` and the lifelong loop's
``check_data`` switch use it.
"""
from typing import Dict, List, Optional

import numpy as np

from had_mm.tasks import get_task, task_names


def _loading_transforms(dataset) -> list:
    """The leading ``Load*`` transforms of the data set's pipeline."""
    transforms = []
    for transform in getattr(dataset.pipeline, 'transforms', []):
        if not type(transform).__name__.startswith('Load'):
            break
        transforms.append(transform)
    return transforms


def check_dataset(dataset,
                  name: str = 'data set',
                  max_errors: int = 5) -> Dict[str, object]:
    """Load every sample's files once and summarise them.

    Args:
        dataset (BaseDataset): The data set (a subset is fine); its
            pipeline must start with its loading transforms.
        name (str): How to call it in messages (e.g. ``'train phase 2'``).
        max_errors (int): Stop after this many bad files.

    Returns:
        dict: ``images`` (count), ``sizes`` (distinct ``(H, W)``),
        ``valid_pixels`` and ``pixels`` per task label found, and
        ``files``: per task, its label files (in sample order).

    Raises:
        ValueError: One line: the number of bad files found and the first
            loader error, which names its file.
    """
    transforms = _loading_transforms(dataset)
    num_classes = len(
        (getattr(dataset, 'metainfo', None) or {}).get('classes') or
        ()) or None
    valid: Dict[str, int] = {}
    pixels: Dict[str, int] = {}
    files: Dict[str, List[str]] = {}
    sizes = set()
    errors: List[str] = []
    for idx in range(len(dataset)):
        info = dict(dataset.get_data_info(idx))
        results = dict(info)
        try:
            for transform in transforms:
                results = transform(results)
            _check_classes(results, num_classes)
        except Exception as err:  # any loader's, e.g. mmseg's
            msg = err.args[0] if isinstance(err, KeyError) and err.args \
                else str(err)
            if not any(
                    str(v) in msg
                    for k, v in info.items() if k.endswith('_path')):
                # a loader that does not name the file: name the sample's
                paths = [str(v) for k, v in info.items() if k.endswith('path')]
                msg = f'{", ".join(paths)}: {type(err).__name__}: {msg}'
            errors.append(msg)
            if len(errors) >= max_errors:
                break
            continue
        if 'img_shape' in results:
            sizes.add(tuple(int(s) for s in results['img_shape'][:2]))
        for task in task_names():
            # the loaded label and its valid-pixel test, from the table
            spec = get_task(task)
            if spec.label_key in results:
                mask = spec.valid_mask(np.asarray(results[spec.label_key]))
                valid[task] = valid.get(task, 0) + int(mask.sum())
                pixels[task] = pixels.get(task, 0) + int(mask.size)
                path = info.get(f'{task}_path') or info.get(
                    'seg_map_path' if task == 'semantic' else '')
                if path:
                    files.setdefault(task, []).append(str(path))
    if errors:
        more = (f'at least {len(errors)}'
                if len(errors) >= max_errors else str(len(errors)))
        raise ValueError(f'{name}: {more} bad file(s); first: {errors[0]}')
    return dict(
        images=len(dataset),
        sizes=sorted(sizes),
        valid_pixels=valid,
        pixels=pixels,
        files=files)


def _check_classes(results: dict, num_classes: Optional[int]) -> None:
    """Class values of an mmseg ``LoadAnnotations`` map (had_mm's loader
    checks its own) must be classes or 255."""
    seg = results.get('gt_seg_map')
    if seg is None or num_classes is None or 'semantic_path' in results:
        return
    seg = np.asarray(seg)
    bad = (seg != 255) & (seg >= num_classes)
    if bad.any():
        raise ValueError(
            f'semantic label "{results.get("seg_map_path")}" holds value '
            f'{int(seg[bad].max())}, out of range for {num_classes} classes')


def check_valid_pixels(summary: Dict[str, object],
                       tasks: List[str],
                       name: str,
                       training: bool = False) -> None:
    """Refuse a split without a single valid label pixel for a task.

    Args:
        summary (dict): The output of :func:`check_dataset`.
        tasks (list[str]): The tasks the split is evaluated (or trained) on.
        name (str): How to call the split in messages.

        training (bool): The split is trained on (the message says the
            task would learn nothing) rather than evaluated.

    Raises:
        ValueError: Naming the first task whose labels are all invalid,
            and its label files.
    """
    for task in tasks:
        if task not in summary['pixels']:
            continue
        if summary['valid_pixels'][task] == 0:
            effect = (f'{task} would train on a zero loss and learn nothing'
                      if training else f'{task} would be scored on nothing')
            raise ValueError(
                f'{name}: no valid {task} label pixel in its '
                f'{summary["images"]} images{_list_files(summary, task)} '
                f'({effect}); check the {task} labels (invalid = '
                f'{get_task(task).invalid_desc}) or the data_root')


def _list_files(summary: Dict[str, object], task: str, num: int = 3) -> str:
    """`` (files "a", "b", "c" and 5 more)``, or ``''`` if unknown."""
    files = (summary.get('files') or {}).get(task) or []
    if not files:
        return ''
    shown = ', '.join(f'"{f}"' for f in files[:num])
    more = f' and {len(files) - num} more' if len(files) > num else ''
    return f' (files {shown}{more})'
