"""Teacher adapters read channels and strides from a dry forward."""
import copy

import pytest
import torch
from distill_helpers import build

from had_mm.models.distill import RecorderManager, TeacherAdapter, probe_stages

RESNET_RECORDERS = dict(
    l3=dict(type='ModuleOutputs', source='backbone.layer3'),
    l4=dict(type='ModuleOutputs', source='backbone.layer4'))
RESNET_STAGES = [dict(recorder='l3'), dict(recorder='l4')]
MIT_RECORDERS = dict(bb=dict(type='ModuleOutputs', source='backbone'))
MIT_STAGES = [dict(recorder='bb', data_idx=2), dict(recorder='bb', data_idx=3)]


def _probe(cfg, recorders, stages):
    model = build(cfg)
    manager = RecorderManager(recorders)
    manager.initialize(model)
    model.train()
    shapes = probe_stages(model, manager, stages, (64, 64))
    assert model.training  # mode restored after the dry forward
    return model, manager, shapes


def test_resnet_channels_and_strides(student_cfg):
    _, _, shapes = _probe(student_cfg, RESNET_RECORDERS, RESNET_STAGES)
    # ResNet-18 with 8 base channels, dilated (d8): layer3/4 at stride 8
    assert shapes == dict(channels=[32, 64], strides=[8, 8], out_stride=8)
    wider = copy.deepcopy(student_cfg)
    wider.backbone.base_channels = 16
    wider.decode_head.in_channels = 128
    _, _, shapes = _probe(wider, RESNET_RECORDERS, RESNET_STAGES)
    assert shapes['channels'] == [64, 128]  # read, not written down


def test_mit_channels_and_strides(teacher_model_cfg):
    _, _, shapes = _probe(teacher_model_cfg, MIT_RECORDERS, MIT_STAGES)
    # MiT: embed_dims 8 x num_heads (2, 2) at strides 16 / 32; the
    # SegformerHead decodes at stride 4
    assert shapes == dict(channels=[16, 16], strides=[16, 32], out_stride=4)


def test_adapter_from_model_projects_to_student_resolution(teacher_model_cfg):
    model, manager, _ = _probe(teacher_model_cfg, MIT_RECORDERS, MIT_STAGES)
    adapter = TeacherAdapter.from_model(
        model, manager, MIT_STAGES, num_classes=13, out_stride=8, channels=4)
    assert adapter.in_channels == [16, 16]
    assert adapter.in_strides == [16, 32]
    conv3, conv1 = adapter.projectors[0][0].conv, adapter.projectors[0][1]
    assert conv3.kernel_size == (3, 3) and conv1.kernel_size == (1, 1)
    assert conv3.in_channels == 16 and conv1.out_channels == 13
    assert adapter.output_size((32, 40)) == (4, 5)
    with torch.no_grad(), manager.recording():
        model._forward(torch.randn(2, 3, 32, 40))
        feats = adapter.gather(manager)
    logits = adapter(feats, adapter.output_size((32, 40)))
    assert [tuple(x.shape) for x in logits] == [(2, 13, 4, 5)] * 2
    gt = torch.randint(0, 13, (2, 32, 40))
    losses = adapter.loss(logits, gt)
    assert sorted(losses) == ['loss_proj0', 'loss_proj1']
    assert all(torch.isfinite(v) for v in losses.values())
    # nothing labelled: 0, not NaN
    empty = adapter.loss(logits, torch.full((2, 32, 40), 255))
    assert all(v.item() == 0 for v in empty.values())


def test_non_map_stage_is_a_clear_error(teacher_model_cfg):
    model = build(teacher_model_cfg)
    manager = RecorderManager(MIT_RECORDERS)
    manager.initialize(model)
    with pytest.raises(ValueError, match='set data_idx'):
        probe_stages(model, manager, [dict(recorder='bb')])
