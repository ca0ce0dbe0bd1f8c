"""The lifelong model with the backbones swapped by config: each variant of
configs/had/had_r18-d8-c64_synthetic-rooms-4tasks.py builds, predicts every
task, and runs 2 phases of HAD (2 iterations each)."""
import json
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from tool_runner import REPO

VARIANTS = ('mit-b0', 'convnext-t', 'swin-t')
# Narrower encoders of the same families for the 2-phase runs (seconds on a
# CPU); the heads get the channels they read from the base files' override.
NARROW = {
    'mit-b0':
    None,
    'convnext-t': ("backbone=dict(arch='atto')", [40, 80, 160, 320]),
    'swin-t':
    ('backbone=dict(embed_dims=24, depths=[1, 1, 1, 1])', [24, 48, 96, 192]),
}


def _config(backbone: str) -> str:
    return osp.join(REPO, 'configs', 'had',
                    f'had_{backbone}_synthetic-rooms-4tasks.py')


@pytest.mark.parametrize('backbone', VARIANTS)
def test_variant_builds_and_predicts_every_task(backbone):
    from had_mm.registry import MODELS
    from had_mm.utils import register_all_modules
    register_all_modules()
    model = MODELS.build(Config.fromfile(_config(backbone)).model).eval()
    assert model.tasks == ['semantic', 'depth', 'normal', 'saliency']
    with torch.no_grad():
        samples = model.predict(torch.zeros(1, 3, 64, 96))
    assert samples[0].pred_sem_seg.shape == (64, 96)
    assert samples[0].pred_normal.data.shape == (3, 64, 96)


@pytest.mark.parametrize('backbone', VARIANTS)
def test_two_phases_of_had(backbone, synthetic_rooms_root, tmp_path):
    quick = tmp_path / 'quick.py'
    loader = ('num_workers=0, persistent_workers=False, '
              f"dataset=dict(data_root='{synthetic_rooms_root}')")
    text = (f"_base_ = ['{_config(backbone)}']\n"
            f'train_dataloader = dict(batch_size=2, {loader})\n'
            f'val_dataloader = dict(batch_size=8, {loader})\n'
            'test_dataloader = val_dataloader\n'
            "train_cfg = dict(phases=[dict(task='semantic', max_iters=2), "
            "dict(task='depth', max_iters=2)], progress_bar=False)\n")
    if NARROW[backbone]:
        encoder, channels = NARROW[backbone]
        text += (f'narrow = dict(in_channels={channels})\n'
                 f'model = dict({encoder}, heads=dict(semantic=narrow, '
                 'depth=dict(body=narrow), normal=dict(body=narrow), '
                 'saliency=dict(body=narrow)))\n')
    quick.write_text(text)
    # in this process: a tools/train.py start costs more than the run
    from had_mm.apis import build_runner, load_tool_config
    work = tmp_path / 'work'
    cfg = load_tool_config(str(quick), work_dir=str(work))
    cfg.experiment_name = f'lifelong_backbone_{backbone}'
    runner = build_runner(cfg, for_training=True)
    runner.train()
    assert runner.train_loop.distill_cfg == dict(type='HADLoss')
    assert osp.isfile(work / 'phase_2_depth.pth')
    report = json.load(open(work / 'lifelong' / 'lifelong_report.json'))
    assert report['tasks'] == ['semantic', 'depth']
    assert all(v is not None for v in report['matrix'][1])
