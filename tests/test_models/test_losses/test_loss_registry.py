import pytest
import torch
from mmengine.registry import init_default_scope

import had_mm.models.losses  # noqa: F401  (registers the losses)
from had_mm.registry import MODELS

ALL_LOSSES = [
    dict(type='MaskedL1Loss'),
    dict(type='CosineNormalLoss'),
    dict(type='BalancedBCELoss'),
    dict(type='PixelDistillLoss', task='normal'),
    dict(type='DBHADLoss', task='semantic', num_classes=13),
    dict(type='SGHADLoss', task='saliency'),
    dict(type='HADLoss', task='depth'),
]


@pytest.mark.parametrize('cfg', ALL_LOSSES, ids=lambda c: c['type'])
def test_build_from_registry(cfg):
    init_default_scope('had_mm')
    loss = MODELS.build(cfg)
    assert type(loss).__name__ == cfg['type']
    # mmseg's protocol: items are named by it (the distillation terms'
    # name is a default; the models that sum them name their items)
    assert loss.loss_name.startswith('loss_')


def test_built_had_loss_runs():
    init_default_scope('had_mm')
    loss = MODELS.build(dict(type='HADLoss', task='depth', loss_weight=3.0))
    student = torch.rand(2, 1, 8, 8, requires_grad=True)
    value = loss(student, torch.rand(2, 1, 8, 8))
    assert value.dim() == 0 and torch.isfinite(value)
    value.backward()
    assert student.grad is not None
