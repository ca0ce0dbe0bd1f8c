"""Checkpoints that do not fit, cannot be read or are not files: one line
naming the file, and never metrics computed with random weights."""
import os.path as osp
import sys

import pytest
import torch
from mmengine.registry import init_default_scope
from tool_runner import REPO, TINY_SEG, run_tool

from had_mm.apis import load_config
from had_mm.registry import MODELS

TINY_LIFELONG = osp.join(REPO, 'tests', 'data', 'configs', 'tiny_lifelong.py')


def _save_model(config, path, **opts):
    cfg = load_config(config, opts)
    init_default_scope('had_mm')
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    torch.save({'state_dict': model.state_dict(), 'meta': {}}, str(path))
    return str(path)


@pytest.fixture(scope='module')
def checkpoints(tmp_path_factory):
    root = tmp_path_factory.mktemp('ckpts')
    return dict(
        seg13=_save_model(TINY_SEG, root / 'seg13.pth'),
        seg40=_save_model(TINY_SEG, root / 'seg40.pth',
                          **{'model.decode_head.num_classes': 40}),
        lifelong=_save_model(TINY_LIFELONG, root / 'lifelong.pth'))


def _test(config, ckpt, data_root, work_dir, *extra):
    return run_tool([
        sys.executable, 'tools/test.py', config, ckpt, '--work-dir',
        str(work_dir), *extra, '--cfg-options',
        f'test_dataloader.dataset.data_root={data_root}'
    ])


def _one_error_line(proc):
    out = proc.stdout + proc.stderr
    assert proc.returncode == 2, out[-3000:]
    assert 'Traceback' not in out, out[-3000:]
    assert 'mIoU' not in out  # nothing was scored
    lines = [ln for ln in proc.stderr.splitlines() if ln.startswith('error')]
    assert len(lines) == 1, proc.stderr[-3000:]
    return lines[0]


def test_another_class_count_is_refused(checkpoints, synthetic_rooms_root,
                                        tmp_path):
    line = _one_error_line(
        _test(TINY_SEG, checkpoints['seg40'], synthetic_rooms_root, tmp_path))
    assert checkpoints['seg40'] in line
    assert ('first mismatching key "decode_head.conv_seg.weight" has shape '
            '(40, 16, 1, 1) in the checkpoint but (13, 16, 1, 1)') in line
    assert '--partial-load' in line


def test_another_architecture_is_refused(checkpoints, synthetic_rooms_root,
                                         tmp_path):
    line = _one_error_line(
        _test(TINY_SEG, checkpoints['lifelong'], synthetic_rooms_root,
              tmp_path))
    assert 'missing keys (first: "decode_head.' in line
    assert 'unexpected keys (first: "' in line
    assert 'first mismatching key "backbone.' in line


def test_partial_load_is_explicit_and_loud(checkpoints, synthetic_rooms_root,
                                           tmp_path):
    proc = _test(TINY_SEG, checkpoints['seg40'], synthetic_rooms_root,
                 tmp_path, '--partial-load')
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-3000:]
    assert 'PARTIAL LOAD' in out and 'decode_head.conv_seg.weight' in out
    assert 'stay randomly initialised' in out
    assert 'mIoU' in out


def test_a_fitting_checkpoint_loads_strictly(checkpoints, synthetic_rooms_root,
                                             tmp_path):
    proc = _test(TINY_SEG, checkpoints['seg13'], synthetic_rooms_root,
                 tmp_path)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-3000:]
    assert 'mIoU' in out and 'PARTIAL LOAD' not in out


def test_truncated_checkpoint_names_the_file(checkpoints, synthetic_rooms_root,
                                             tmp_path):
    data = open(checkpoints['seg13'], 'rb').read()
    bad = tmp_path / 'truncated.pth'
    bad.write_bytes(data[:len(data) // 2])
    line = _one_error_line(
        _test(TINY_SEG, str(bad), synthetic_rooms_root, tmp_path))
    assert str(bad) in line and 'truncated or corrupt' in line
    proc = run_tool([
        sys.executable, 'tools/train.py', TINY_SEG, '--work-dir',
        str(tmp_path / 'w'), '--cfg-options', f'load_from={bad}',
        f'train_dataloader.dataset.data_root={synthetic_rooms_root}',
        f'val_dataloader.dataset.data_root={synthetic_rooms_root}'
    ])
    out = proc.stdout + proc.stderr
    assert proc.returncode == 2 and 'Traceback' not in out, out[-3000:]
    assert f'checkpoint "{bad}" cannot be read' in proc.stderr
    assert 'Iter(train)' not in out


def test_a_directory_is_not_a_checkpoint(tmp_path):
    proc = run_tool([sys.executable, 'tools/test.py', TINY_SEG, str(tmp_path)])
    line = _one_error_line(proc)
    assert str(tmp_path) in line and 'is a directory' in line
    proc = run_tool([
        sys.executable, 'tools/train.py', TINY_SEG, '--work-dir',
        str(tmp_path / 'w'), '--cfg-options', f'load_from={tmp_path}'
    ])
    assert 'is a directory' in _one_error_line(proc)
    proc = run_tool(
        ['bash', 'tools/dist_test.sh', TINY_SEG,
         str(tmp_path), '2'])
    assert 'is a directory' in _one_error_line(proc)


def test_a_directory_is_not_a_teacher_checkpoint(tmp_path):
    from had_mm.checkpoint import CheckpointLoadError
    from had_mm.models.distill.teacher_utils import check_teacher_ckpt_path
    with pytest.raises(CheckpointLoadError, match='is a directory'):
        check_teacher_ckpt_path(str(tmp_path))
