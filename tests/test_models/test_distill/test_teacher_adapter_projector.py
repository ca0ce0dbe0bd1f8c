"""The adapter's projector option: 3x3 conv-BN-ReLU-1x1 (default) or a
1x1 conv + BN, here and inside the distiller (last stage only)."""
import copy

import pytest
import torch
import torch.nn as nn
from distill_helpers import build, seg_batch

from had_mm.models.distill import TeacherAdapter

IN_CHANNELS = [16, 32]
NUM_CLASSES = 13


def _num_params(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def test_default_projector_is_conv3x3_bn_relu_conv1x1():
    adapter = TeacherAdapter(IN_CHANNELS, NUM_CLASSES, channels=8)
    assert adapter.projector == 'conv3x3'
    conv3 = adapter.projectors[0][0]
    assert conv3.conv.kernel_size == (3, 3)
    assert isinstance(conv3.bn, nn.BatchNorm2d)
    assert isinstance(conv3.activate, nn.ReLU)
    assert adapter.projectors[0][1].kernel_size == (1, 1)
    # 3x3 conv (no bias, BN follows) + BN + 1x1 conv with bias, per stage
    expected = sum(c * 8 * 9 + 2 * 8 + 8 * NUM_CLASSES + NUM_CLASSES
                   for c in IN_CHANNELS)
    assert _num_params(adapter) == expected


def test_conv1x1_projector_shapes_and_parameters():
    adapter = TeacherAdapter(
        IN_CHANNELS, NUM_CLASSES, channels=8, projector='conv1x1')
    assert 'projector=conv1x1' in repr(adapter)
    for in_ch, proj in zip(IN_CHANNELS, adapter.projectors):
        assert len(proj) == 1
        block = proj[0]
        assert block.conv.kernel_size == (1, 1)
        assert (block.conv.in_channels, block.conv.out_channels) == \
            (in_ch, NUM_CLASSES)
        assert block.conv.bias is None  # BN follows
        assert isinstance(block.bn, nn.BatchNorm2d)
        assert block.bn.num_features == NUM_CLASSES
        assert not block.with_activation
    # 1x1 conv without bias + BN (weight, bias) per stage; channels unused
    assert _num_params(adapter) == sum(c * NUM_CLASSES + 2 * NUM_CLASSES
                                       for c in IN_CHANNELS)
    feats = [torch.randn(2, 16, 6, 8), torch.randn(2, 32, 3, 4)]
    logits = adapter(feats, (12, 16))
    assert [tuple(x.shape) for x in logits] == [(2, NUM_CLASSES, 12, 16)] * 2
    losses = adapter.loss(logits, torch.randint(0, NUM_CLASSES, (2, 24, 32)))
    assert all(torch.isfinite(v) for v in losses.values())


def test_unknown_projector_is_a_clear_error():
    with pytest.raises(ValueError, match='projector must be one of'):
        TeacherAdapter(IN_CHANNELS, NUM_CLASSES, projector='mlp')


def test_distiller_with_conv1x1_on_the_last_stage(distill_cfg):
    cfg = copy.deepcopy(distill_cfg)
    cfg.student_adapter.update(
        projector='conv1x1', stages=[dict(recorder='stage4')])
    cfg.teacher_adapter.update(
        projector='conv1x1', stages=[dict(recorder='stages', data_idx=3)])
    model = build(cfg).train()
    for adapter in (model.student_adapter, model.teacher_adapter):
        assert adapter.projector == 'conv1x1'
        assert len(adapter.projectors) == 1
    losses = model.loss(*seg_batch())
    assert 'proj.student.loss_proj0' in losses
    assert 'proj.student.loss_proj1' not in losses
    assert torch.isfinite(losses['distill.loss_heteroakd'])
    losses['distill.loss_heteroakd'].backward()
    grad = model.student_adapter.projectors[0][0].conv.weight.grad
    assert grad is not None and grad.abs().sum() > 0
