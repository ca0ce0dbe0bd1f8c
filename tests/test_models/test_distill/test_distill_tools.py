"""End to end: tools/train.py on a tiny HeteroAKD config, student export."""
import importlib.util
import os.path as osp
import sys

import pytest
import torch
from distill_helpers import REPO, TINY_DISTILL, TINY_SEG, build
from mmengine.config import Config
from mmengine.runner import load_checkpoint
from tool_runner import latest_run_logs, run_tool


def _data_opts(root):
    return [
        f'train_dataloader.dataset.data_root={root}',
        f'val_dataloader.dataset.data_root={root}',
        f'test_dataloader.dataset.data_root={root}'
    ]


def _extract_student_main():
    spec = importlib.util.spec_from_file_location(
        'extract_student', osp.join(REPO, 'tools', 'misc',
                                    'extract_student.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.main


def test_two_iteration_distillation_and_student_export(synthetic_rooms_root,
                                                       teacher_ckpt, tmp_path):
    work = tmp_path / 'work'
    proc = run_tool([
        sys.executable, 'tools/train.py', TINY_DISTILL, '--work-dir',
        str(work), '--cfg-options', f'model.teacher_ckpt={teacher_ckpt}'
    ] + _data_opts(synthetic_rooms_root))
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-3000:]
    log = open(latest_run_logs(work)[0]).read()
    assert 'Iter(train) [2/2]' in log
    for item in ('distill.loss_heteroakd', 'distill.loss_kd',
                 'proj.student.loss_proj1', 'proj.teacher.loss_proj0',
                 'decode.loss_ce'):
        assert item in log, item
    # validation reports the teacher beside the student
    assert 'mIoU' in log and 'teacher/mIoU' in log

    # the hook's student_only.pth loads into the plain student config with
    # strict key match, through mmengine's weights-only loader
    student_only = str(work / 'student_only.pth')
    ckpt = torch.load(student_only, weights_only=True)
    assert not [k for k in ckpt['state_dict'] if k.startswith('student.')]
    assert 'teacher_adapter' not in ckpt
    plain = build(Config.fromfile(TINY_SEG).model)
    load_checkpoint(plain, student_only, strict=True)

    # tools/misc/extract_student.py on the distiller checkpoint: the same
    extracted = str(tmp_path / 'student.pth')
    _extract_student_main()([str(work / 'iter_2.pth'), extracted])
    again = torch.load(extracted, weights_only=True)
    assert again['state_dict'].keys() == ckpt['state_dict'].keys()
    for key, value in ckpt['state_dict'].items():
        torch.testing.assert_close(again['state_dict'][key], value, msg=key)


def test_missing_teacher_checkpoint_fails_before_training(
        synthetic_rooms_root, tmp_path, capsys):
    # in-process (the error comes before any training): tools/train.py's
    # main exits with one error line
    spec = importlib.util.spec_from_file_location(
        'train_tool', osp.join(REPO, 'tools', 'train.py'))
    train = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(train)
    with pytest.raises(SystemExit) as exit_info:
        train.main([
            TINY_DISTILL, '--work-dir',
            str(tmp_path), '--cfg-options', 'model.teacher_ckpt=nope/t.pth'
        ] + _data_opts(synthetic_rooms_root))
    assert exit_info.value.code == 2
    out = ''.join(capsys.readouterr())
    assert 'error: ' in out
    assert 'teacher checkpoint "nope/t.pth" does not exist' in out
    assert 'Iter(train)' not in out
