"""Bad data fails before phase 1 trains, not when a batch reads it."""
import glob
import importlib.util
import os.path as osp
import shutil
import sys

import numpy as np
import pytest
import torch
from PIL import Image
from tool_runner import REPO, run_tool

TINY = osp.join(REPO, 'tests', 'data', 'configs', 'tiny_lifelong.py')


@pytest.fixture
def rooms(synthetic_rooms_root, tmp_path):
    root = tmp_path / 'rooms'
    shutil.copytree(synthetic_rooms_root, root)
    return root


def _train(work_dir, data_root, *opts):
    proc = run_tool([
        sys.executable, 'tools/train.py', TINY, '--work-dir',
        str(work_dir), '--cfg-options',
        f'train_dataloader.dataset.data_root={data_root}',
        f'val_dataloader.dataset.data_root={data_root}', *opts
    ])
    return proc, proc.stdout + proc.stderr


def _error_line(proc, out):
    assert proc.returncode == 2, out[-3000:]
    assert 'Traceback' not in out and 'Iter(train)' not in out, out[-3000:]
    lines = [ln for ln in proc.stderr.splitlines() if ln.startswith('error')]
    assert len(lines) == 1, proc.stderr[-3000:]
    return lines[0]


def _zero_depth(paths):
    for path in paths:
        shape = np.asarray(Image.open(path)).shape
        Image.fromarray(np.zeros(shape, np.uint16)).save(path)


def test_truncated_label_of_the_last_phase_fails_at_start(rooms, tmp_path):
    # the normal labels of phase 3's chunk (train images 16..23)
    victim = sorted(glob.glob(str(rooms / 'normal' / 'train' / '*.png')))[-1]
    data = open(victim, 'rb').read()
    open(victim, 'wb').write(data[:len(data) // 2])
    line = _error_line(*_train(tmp_path / 'w', rooms))
    assert 'the train chunk of phase 3 (normal)' in line
    assert victim in line and 'truncated or corrupt' in line


def test_all_invalid_validation_depth_fails_at_start(rooms, tmp_path):
    _zero_depth(glob.glob(str(rooms / 'depth' / 'test' / '*.png')))
    line = _error_line(*_train(tmp_path / 'w', rooms))
    assert 'the validation set: no valid depth label pixel' in line


def test_a_phase_without_a_valid_pixel_of_its_task_fails_at_start(
        rooms, tmp_path, capsys):
    """Phase 2 (depth) trains on train images 8..15: with all their depth
    invalid it would log loss_depth 0 throughout and count as learnt.
    tools/train.py runs in this process (the error comes before any
    training; a subprocess start costs tens of seconds)."""
    chunk = sorted(glob.glob(str(rooms / 'depth' / 'train' / '*.png')))[8:16]
    _zero_depth(chunk)
    spec = importlib.util.spec_from_file_location(
        'train_tool', osp.join(REPO, 'tools', 'train.py'))
    train = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(train)
    with pytest.raises(SystemExit) as exit_info:
        train.main([
            TINY, '--work-dir',
            str(tmp_path / 'w'), '--cfg-options',
            f'train_dataloader.dataset.data_root={rooms}',
            f'val_dataloader.dataset.data_root={rooms}'
        ])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    lines = [ln for ln in err.splitlines() if ln.startswith('error')]
    assert len(lines) == 1 and 'Traceback' not in err, err[-3000:]
    line = lines[0]
    assert 'the train chunk of phase 2 (depth): no valid depth label ' \
        'pixel in its 8 images' in line
    assert chunk[0] in line and 'and 5 more' in line
    assert 'learn nothing' in line
    assert not glob.glob(str(tmp_path / 'w' / '*.pth'))


def test_a_failed_evaluation_keeps_the_trained_phase(rooms, tmp_path):
    """With the check off, the evaluation after phase 2 fails, but phase
    2's checkpoint is written first (and holds phase 1's matrix row)."""
    _zero_depth(glob.glob(str(rooms / 'depth' / 'test' / '*.png')))
    work = tmp_path / 'w'
    proc, out = _train(work, rooms, 'train_cfg.check_data=False',
                       'train_cfg.phases.0.max_iters=1',
                       'train_cfg.phases.1.max_iters=1')
    assert proc.returncode != 0
    assert 'no valid depth pixel in the evaluation set' in out
    ckpt = torch.load(str(work / 'phase_2_depth.pth'), map_location='cpu')
    assert ckpt['meta']['iter'] == 2
    assert len(ckpt['lifelong']['matrix']) == 1
    assert (work / 'last_checkpoint').read_text().endswith('phase_2_depth.pth')


def test_check_dataset_tool(rooms, tmp_path):
    opts = [
        '--cfg-options', f'train_dataloader.dataset.data_root={rooms}',
        f'val_dataloader.dataset.data_root={rooms}',
        f'test_dataloader.dataset.data_root={rooms}'
    ]
    tool = [sys.executable, 'tools/analysis/check_dataset.py', TINY]
    proc = run_tool(tool + opts)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert 'train: 24 images (32x40)' in proc.stdout
    assert 'val: 8 images' in proc.stdout and 'no problem found' in proc.stdout
    # a class value beyond the 13 classes, reported as stored (1-based)
    victim = sorted(glob.glob(str(rooms / 'seg13' / 'train' / '*.png')))[3]
    seg = np.asarray(Image.open(victim)).copy()
    seg[0, 0] = 15
    Image.fromarray(seg).save(victim)
    proc = run_tool(tool + opts)
    line = _error_line(proc, proc.stdout + proc.stderr)
    assert 'the train set' in line and victim in line
    assert 'holds value 15' in line
