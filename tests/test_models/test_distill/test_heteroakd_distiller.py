"""HeteroAKDDistiller: frozen teacher, losses, student checkpoints, errors."""
import copy
import glob
import os.path as osp

import pytest
import torch
from distill_helpers import REPO, TINY_SEG, build, seg_batch
from mmengine.config import Config
from mmengine.optim import build_optim_wrapper

from had_mm.engine.distill import split_distiller_state_dict


def _teacher_params(model):
    return {id(p) for p in model.teacher.parameters()}


def test_teacher_frozen_eval_and_out_of_the_optimizer(distill_cfg):
    model = build(distill_cfg)
    teacher = model.teacher
    assert all(not p.requires_grad for p in teacher.parameters())
    model.train()
    assert model.student.training and model.student_adapter.training
    assert not any(m.training for m in teacher.modules())  # BN included
    # not a submodule: no parameters, no state_dict keys, no init_weights
    assert not _teacher_params(model) & {id(p) for p in model.parameters()}
    assert not [k for k in model.state_dict() if k.startswith('teacher.')]
    assert any(k.startswith('teacher_adapter.') for k in model.state_dict())
    optim = build_optim_wrapper(
        model, dict(type='OptimWrapper', optimizer=dict(type='SGD', lr=0.1)))
    in_optim = {
        id(p)
        for group in optim.optimizer.param_groups
        for p in group['params']
    }
    assert in_optim == {id(p) for p in model.parameters()}
    assert not in_optim & _teacher_params(model)
    before = copy.deepcopy(teacher.state_dict())
    inputs, samples = seg_batch()
    model.train_step(dict(inputs=list(inputs), data_samples=samples), optim)
    for key, value in teacher.state_dict().items():
        torch.testing.assert_close(value, before[key], msg=key)  # BN stats
    assert all(p.grad is None for p in teacher.parameters())
    # .to() / .double() still move the teacher along
    model.double()
    assert next(teacher.parameters()).dtype == torch.float64


def test_loss_items_and_predict(distill_cfg):
    model = build(distill_cfg).train()
    inputs, samples = seg_batch()
    losses = model(inputs, samples, mode='loss')
    assert sorted(losses) == [
        'decode.acc_seg', 'decode.loss_ce', 'distill.loss_heteroakd',
        'distill.loss_kd', 'proj.student.loss_proj0',
        'proj.student.loss_proj1', 'proj.teacher.loss_proj0',
        'proj.teacher.loss_proj1'
    ]
    assert all(torch.isfinite(v) for v in losses.values())
    # nothing recorded is kept after the step
    assert all(not r.data_buffer
               for r in model.student_recorders.recorders.values())
    model.eval()
    with torch.no_grad():
        preds = model(inputs, samples, mode='predict')
        student_preds = model.student.predict(*seg_batch())
    assert torch.equal(preds[0].pred_sem_seg.data,
                       student_preds[0].pred_sem_seg.data)


def test_loss_weights_are_configurable(distill_cfg):
    distill_cfg.seg_loss_weight = 0.5
    distill_cfg.proj_loss_weight = 2.0
    torch.manual_seed(0)
    weighted = build(distill_cfg).train()
    distill_cfg.seg_loss_weight = distill_cfg.proj_loss_weight = 1.0
    torch.manual_seed(0)
    plain = build(distill_cfg).train()
    inputs, samples = seg_batch()
    torch.manual_seed(1)
    a = weighted(inputs, samples, mode='loss')
    torch.manual_seed(1)
    b = plain(inputs, samples, mode='loss')
    assert a['decode.loss_ce'].item() == pytest.approx(
        0.5 * b['decode.loss_ce'].item(), rel=1e-5)
    assert a['proj.teacher.loss_proj1'].item() == pytest.approx(
        2 * b['proj.teacher.loss_proj1'].item(), rel=1e-5)


def test_student_checkpoint_loads_into_plain_student_strictly(distill_cfg):
    model = build(distill_cfg).eval()
    ckpt = split_distiller_state_dict(model.state_dict())
    assert set(ckpt) == {'state_dict', 'student_adapter'}
    plain = build(Config.fromfile(TINY_SEG).model).eval()
    result = plain.load_state_dict(ckpt['state_dict'], strict=True)
    assert not result.missing_keys and not result.unexpected_keys
    inputs, samples = seg_batch()
    torch.testing.assert_close(
        plain._forward(inputs), model(inputs, samples, mode='tensor'))
    kept = split_distiller_state_dict(
        model.state_dict(), keep_teacher_adapter=True)
    assert set(kept) == {'state_dict', 'student_adapter', 'teacher_adapter'}
    with pytest.raises(ValueError, match='not a checkpoint of a'):
        split_distiller_state_dict(plain.state_dict())


def test_kd_and_cwd_selectable_without_adapters(distill_cfg):
    for loss in (dict(type='LogitKDLoss', tau=2.0),
                 dict(type='ChannelWiseDivergenceLoss', tau=4.0)):
        cfg = copy.deepcopy(distill_cfg)
        cfg.student_adapter = cfg.teacher_adapter = None
        cfg.distill_losses = dict(loss_base=loss)
        cfg.loss_forward_mappings = dict(
            loss_base=dict(
                student_logits=dict(from_student=True, recorder='logits'),
                teacher_logits=dict(from_student=False, recorder='logits')))
        model = build(cfg).train()
        assert model.student_adapter is None
        losses = model(*seg_batch(), mode='loss')
        assert 'distill.loss_base' in losses
        assert not [k for k in losses if k.startswith('proj.')]


# ----------------------------------------------------------- bad input
def test_teacher_checkpoint_required_and_must_exist(distill_cfg):
    distill_cfg.teacher_ckpt = None
    with pytest.raises(ValueError, match='teacher_ckpt is required'):
        build(distill_cfg)
    distill_cfg.teacher_ckpt = 'work_dirs/no_such_teacher.pth'
    with pytest.raises(
            FileNotFoundError, match='work_dirs/no_such_teacher.pth'):
        build(distill_cfg)


def test_checkpoint_of_another_config_names_key_and_shapes(
        distill_cfg, teacher_model_cfg, tmp_path):
    wider = copy.deepcopy(teacher_model_cfg)
    wider.backbone.embed_dims = 16
    wider.decode_head.in_channels = [16, 16, 32, 32]
    path = str(tmp_path / 'wider.pth')
    torch.save({'state_dict': build(wider).state_dict()}, path)
    distill_cfg.teacher_ckpt = path
    with pytest.raises(ValueError) as err:
        build(distill_cfg)
    msg = str(err.value)
    assert 'first mismatching key "backbone.layers.0.0.projection.weight"' \
        in msg
    assert '(16, 3, 7, 7) in the checkpoint' in msg
    assert '(8, 3, 7, 7) in the model' in msg
    # a ResNet checkpoint for the MiT teacher: missing / unexpected keys
    path = str(tmp_path / 'resnet.pth')
    torch.save(
        {'state_dict': build(Config.fromfile(TINY_SEG).model).state_dict()},
        path)
    distill_cfg.teacher_ckpt = path
    with pytest.raises(ValueError) as err:
        build(distill_cfg)
    msg = str(err.value)
    assert 'does not fit: first mismatching key' in msg
    assert 'missing keys' in msg and 'unexpected keys' in msg


def test_different_class_counts(distill_cfg, teacher_model_cfg, teacher_ckpt):
    teacher_model_cfg.decode_head.num_classes = 12
    distill_cfg.teacher_cfg = teacher_model_cfg
    with pytest.raises(ValueError, match='12 classes but the student 13'):
        build(distill_cfg)


def test_recorder_path_that_does_not_exist(distill_cfg):
    distill_cfg.teacher_recorders.stages.source = 'backbone.layer3'
    with pytest.raises(ValueError) as err:
        build(distill_cfg)
    msg = str(err.value)
    assert '"backbone.layer3" does not exist in the teacher' in msg
    assert 'backbone.layers' in msg  # the MiT's nearest names


def test_bad_mappings(distill_cfg):
    cfg = copy.deepcopy(distill_cfg)
    cfg.loss_forward_mappings.loss_kd.student_logits.recorder = 'logit'
    with pytest.raises(ValueError, match='no student recorder named "logit"'):
        build(cfg)
    cfg = copy.deepcopy(distill_cfg)
    cfg.loss_forward_mappings.loss_kd.preds_S = dict(gt=True)
    with pytest.raises(ValueError, match='no argument "preds_S"'):
        build(cfg)
    cfg = copy.deepcopy(distill_cfg)
    cfg.loss_forward_mappings.loss_heteroakd.pop('gt')
    with pytest.raises(ValueError, match="required argument.*'gt'"):
        build(cfg)
    cfg = copy.deepcopy(distill_cfg)
    cfg.teacher_adapter = None
    with pytest.raises(ValueError, match='both student_adapter'):
        build(cfg)


def test_all_heteroakd_configs_parse():
    from had_mm.apis import load_config
    files = sorted(glob.glob(osp.join(REPO, 'configs', 'heteroakd', '*.py')))
    # 3 pairs x 2 data sets x 3 methods + 6 students/teachers (24), the
    # EfficientNet-Lite0 pairs' 2 x 3 methods + its student (7)
    assert len(files) == 31
    for path in files:
        cfg = load_config(path)
        name = osp.basename(path)
        if name.startswith(('heteroakd_', 'kd_', 'cwd_')):
            assert cfg.model.type == 'HeteroAKDDistiller'
            assert osp.isfile(cfg.model.teacher_cfg), name
            assert cfg.model.teacher_ckpt.startswith('work_dirs/')
            assert cfg.val_cfg.type == 'DistillValLoop'
            teacher = Config.fromfile(cfg.model.teacher_cfg).model
            assert teacher.decode_head.num_classes == \
                cfg.model.student.decode_head.num_classes, name
        else:
            assert cfg.model.type == 'EncoderDecoder'


@pytest.mark.slow
def test_synthetic_rooms_distill_configs_build_and_step(tmp_path):
    """Every synthetic-rooms pair and variant: build, one loss step."""
    from had_mm.apis import load_config
    ckpts = {}
    for path in sorted(
            glob.glob(
                osp.join(REPO, 'configs', 'heteroakd',
                         '*_to_*_synthetic-rooms-seg.py'))):
        cfg = load_config(path).model
        if cfg.teacher_cfg not in ckpts:
            ckpts[cfg.teacher_cfg] = str(tmp_path / f'{len(ckpts)}.pth')
            teacher = build(Config.fromfile(cfg.teacher_cfg).model)
            torch.save({'state_dict': teacher.state_dict()},
                       ckpts[cfg.teacher_cfg])
        cfg.teacher_ckpt = ckpts[cfg.teacher_cfg]
        model = build(cfg).train()
        losses = model(*seg_batch(size=(64, 64)), mode='loss')
        assert [k for k in losses if k.startswith('distill.')], path
        assert all(torch.isfinite(v) for v in losses.values()), path
