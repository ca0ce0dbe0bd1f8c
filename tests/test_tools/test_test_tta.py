"""``tools/test.py --tta``: flip test-time augmentation where the config
offers it, one clear line where it does not."""
import os.path as osp
import sys

import torch
from mmengine.registry import init_default_scope
from tool_runner import REPO, TINY_SEG, run_tool

from had_mm.apis import load_config
from had_mm.registry import MODELS

TINY_LIFELONG = osp.join(REPO, 'tests', 'data', 'configs', 'tiny_lifelong.py')


def _save_model(config, path):
    cfg = load_config(config)
    init_default_scope('had_mm')
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    torch.save({'state_dict': model.state_dict(), 'meta': {}}, str(path))
    return str(path)


def _test_tta(config, ckpt, data_root, work_dir):
    return run_tool([
        sys.executable, 'tools/test.py', config, ckpt, '--work-dir',
        str(work_dir), '--tta', '--cfg-options',
        f'test_dataloader.dataset.data_root={data_root}'
    ])


def test_tta_averages_the_flips_of_a_segmentor(synthetic_rooms_root, tmp_path):
    ckpt = _save_model(TINY_SEG, tmp_path / 'seg.pth')
    proc = _test_tta(TINY_SEG, ckpt, synthetic_rooms_root, tmp_path / 'wd')
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-3000:]
    assert 'mIoU' in out


def test_tta_without_a_tta_pipeline_is_one_line(synthetic_rooms_root,
                                                tmp_path):
    ckpt = _save_model(TINY_LIFELONG, tmp_path / 'lifelong.pth')
    proc = _test_tta(TINY_LIFELONG, ckpt, synthetic_rooms_root,
                     tmp_path / 'wd')
    assert proc.returncode == 2
    assert 'Traceback' not in proc.stdout + proc.stderr
    lines = [ln for ln in proc.stderr.splitlines() if ln.startswith('error')]
    assert len(lines) == 1, proc.stderr[-3000:]
    assert 'tiny_lifelong.py defines no tta_pipeline' in lines[0]
