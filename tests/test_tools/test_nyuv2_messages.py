"""The NYUv2 configs' data messages lead the right way: a missing data set
points to the NYUv2 preparation (never to synthetic data), and the
multi-task NYUD layout works with the 13-class 4-task configs."""
import importlib.util
import os.path as osp

import numpy as np
import pytest
from PIL import Image
from tool_runner import REPO

HAD_4TASKS = osp.join(REPO, 'configs', 'had', 'had_r18-d8_nyuv2-4tasks.py')


def _roots(root):
    return [
        f'{split}_dataloader.dataset.data_root={root}'
        for split in ('train', 'val', 'test')
    ]


def _tool_main(relpath: str):
    """A tool's main, run in this process (a subprocess start costs
    seconds; these runs end before any training)."""
    spec = importlib.util.spec_from_file_location(
        osp.splitext(osp.basename(relpath))[0] + '_tool',
        osp.join(REPO, relpath))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.main


def test_missing_nyuv2_points_to_its_preparation(tmp_path, capsys):
    missing = tmp_path / 'data' / 'nyuv2'
    with pytest.raises(SystemExit) as exit_info:
        _tool_main('tools/train.py')([
            HAD_4TASKS, '--work-dir',
            str(tmp_path / 'work'), '--cfg-options', *_roots(missing)
        ])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    lines = [ln for ln in err.splitlines() if ln.startswith('error')]
    assert len(lines) == 1 and 'Traceback' not in err, err[-3000:]
    line = lines[0]
    assert f'"{missing}" does not exist' in line
    assert 'docs/en/user_guides/nyuv2_8gpus.md' in line
    assert 'synthetic' not in line.lower()
    assert 'needed by phase' not in line  # not a missing label


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


def test_nyud_layout_reads_with_the_13_class_4_task_config(tmp_path, capsys):
    root = _nyud(tmp_path / 'nyud')
    _tool_main('tools/analysis/check_dataset.py')(
        [HAD_4TASKS, '--cfg-options', *_roots(root)])
    out = capsys.readouterr().out
    assert 'train: 2 images (6x8)' in out
    assert 'no problem found' in out
