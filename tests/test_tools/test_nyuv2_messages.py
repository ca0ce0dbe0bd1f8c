"""The NYUv2 configs' data messages lead the right way: a missing data set
points to the NYUv2 preparation (never to synthetic data), and the
multi-task NYUD layout works with the 13-class 4-task configs."""
import os.path as osp
import sys

import numpy as np
from PIL import Image
from tool_runner import REPO, run_tool

HAD_4TASKS = osp.join(REPO, 'configs', 'had', 'had_r18-d8_nyuv2-4tasks.py')


def _roots(root):
    return [
        f'{split}_dataloader.dataset.data_root={root}'
        for split in ('train', 'val', 'test')
    ]


def _error_line(proc) -> str:
    out = proc.stdout + proc.stderr
    assert proc.returncode == 2, out[-3000:]
    assert 'Traceback' not in out, out[-3000:]
    lines = [ln for ln in proc.stderr.splitlines() if ln.startswith('error')]
    assert len(lines) == 1, proc.stderr[-3000:]
    return lines[0]


def test_missing_nyuv2_points_to_its_preparation(tmp_path):
    missing = tmp_path / 'data' / 'nyuv2'
    proc = run_tool([
        sys.executable, 'tools/train.py', HAD_4TASKS, '--work-dir',
        str(tmp_path / 'work'), '--cfg-options', *_roots(missing)
    ])
    line = _error_line(proc)
    assert f'"{missing}" does not exist' in line
    assert 'docs/tutorials/nyuv2_8gpus.md' in line
    assert 'synthetic' not in line.lower()
    assert 'needed by phase task' not in line  # not a missing label


def _nyud(root, ids=('0', '1', '2', '3')) -> str:
    rng = np.random.default_rng(0)
    for d in ('images', 'segmentation', 'depth', 'normals', 'saliency',
              'gt_sets'):
        (root / d).mkdir(parents=True)
    for sid in ids:
        Image.fromarray(rng.integers(0, 255, (6, 8, 3), np.uint8)).save(
            root / 'images' / f'{sid}.png')
        Image.fromarray(rng.integers(0, 41, (6, 8), np.uint8)).save(
            root / 'segmentation' / f'{sid}.png')
        np.save(root / 'depth' / f'{sid}.npy', rng.uniform(1, 5, (6, 8)))
        np.save(root / 'normals' / f'{sid}.npy',
                np.tile([0., 0., 1.], (6, 8, 1)))
        Image.fromarray(rng.integers(0, 2, (6, 8), np.uint8) * 255).save(
            root / 'saliency' / f'{sid}.png')
    (root / 'gt_sets' / 'train.txt').write_text('\n'.join(ids[:2]))
    (root / 'gt_sets' / 'val.txt').write_text('\n'.join(ids[2:]))
    return str(root)


def test_nyud_layout_reads_with_the_13_class_4_task_config(tmp_path):
    root = _nyud(tmp_path / 'nyud')
    proc = run_tool([
        sys.executable, 'tools/analysis/check_dataset.py', HAD_4TASKS,
        '--cfg-options', *_roots(root)
    ])
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-3000:]
    assert 'train: 2 images (6x8)' in proc.stdout
    assert 'no problem found' in proc.stdout
