"""HeteroAKD between two of mmseg's stock configs: the SegFormer (MiT-b0)
teacher of ``segformer_mit-b0_8xb2-160k_ade20k-512x512.py`` distilled into
the DeepLabV3 (ResNet-18) student of
``deeplabv3_r18-d8_4xb2-80k_cityscapes-512x1024.py``, with the student's
config around it (``default_scope='mmseg'``).

The student's config keeps its stock top-level ``data_preprocessor``
(``size=(512, 1024)``), which mmengine's Runner copies into the distiller;
the student learns from its own preprocessor's inputs, as alone.
"""
import logging

import pytest
import torch
from stock_helpers import (CROP, DEEPLABV3, SEGFORMER, losses_alone,
                           tiny_stock, train)


@pytest.fixture(scope='module')
def teacher(synthetic_rooms_root, tmp_path_factory):
    """The tiny stock SegFormer's model config and a checkpoint of it."""
    from mmengine.registry import init_default_scope
    from mmseg.registry import MODELS

    import had_mm  # noqa: F401
    model = tiny_stock(SEGFORMER, synthetic_rooms_root).model
    init_default_scope('mmseg')
    torch.manual_seed(1)
    path = str(tmp_path_factory.mktemp('teacher') / 'segformer.pth')
    torch.save({
        'state_dict': MODELS.build(model).state_dict(),
        'meta': {}
    }, path)
    return model, path


def _distill_cfg(root, teacher, adapter_type='had_mm.TeacherAdapter'):
    """The student's stock config around a HeteroAKD distiller, as
    configs/heteroakd/ writes it, with had_mm's types scoped
    (``adapter_type=None``: the adapters' default type)."""
    cfg = tiny_stock(DEEPLABV3, root)
    adapter = dict(type=adapter_type) if adapter_type else {}
    teacher_model, ckpt = teacher
    recorder = 'had_mm.ModuleOutputsRecorder'
    cfg.model = dict(
        type='had_mm.HeteroAKDDistiller',
        student=cfg.model,
        teacher_cfg=teacher_model,
        teacher_ckpt=ckpt,
        student_recorders=dict(
            stage3=dict(type=recorder, source='backbone.layer3'),
            stage4=dict(type=recorder, source='backbone.layer4'),
            logits=dict(type=recorder, source='decode_head.conv_seg')),
        teacher_recorders=dict(
            stages=dict(type=recorder, source='backbone'),
            logits=dict(type=recorder, source='decode_head.conv_seg')),
        student_adapter=dict(
            adapter,
            channels=8,
            stages=[dict(recorder='stage3'),
                    dict(recorder='stage4')]),
        teacher_adapter=dict(
            adapter,
            channels=8,
            stages=[
                dict(recorder='stages', data_idx=2),
                dict(recorder='stages', data_idx=3)
            ]),
        distill_losses=dict(
            loss_heteroakd=dict(type='had_mm.HeteroAKDLoss', tau=4.0),
            loss_kd=dict(type='had_mm.LogitKDLoss', loss_weight=0.1)),
        loss_forward_mappings=dict(
            loss_heteroakd=dict(
                student_logits=dict(from_student=True, adapter=True),
                teacher_logits=dict(from_student=False, adapter=True),
                gt=dict(gt=True)),
            loss_kd=dict(
                student_logits=dict(from_student=True, recorder='logits'),
                teacher_logits=dict(from_student=False, recorder='logits'))))
    return cfg


def test_distiller_learns_from_the_students_inputs(synthetic_rooms_root,
                                                   teacher, tmp_path,
                                                   monkeypatch):
    from had_mm.models.distill import heteroakd_distiller
    notes = []
    monkeypatch.setattr(heteroakd_distiller, 'print_log',
                        lambda msg, **kw: notes.append((msg, kw.get('level'))))
    cfg = _distill_cfg(synthetic_rooms_root, teacher)
    # the stock top-level preprocessor, left as the stock config has it
    assert tuple(cfg.data_preprocessor['size']) == (512, 1024)
    assert tuple(cfg.model.student.data_preprocessor['size']) == CROP
    record = train(cfg, tmp_path / 'distill')

    assert record.input_shapes[0] == (2, 3) + CROP
    assert max(record.padding) < 0.05, record.padding
    assert len(record.losses) == 2
    first = record.losses[0]
    assert first['distill.loss_heteroakd'] > 0
    # the student's own loss is that of the student trained alone
    alone = losses_alone(cfg.model.student, record, prefix='student.')
    for key in ('decode.loss_ce', 'aux.loss_ce'):
        assert first[key] == pytest.approx(alone[key], rel=1e-5), key
    # the Runner's copy was reconciled with one logged line
    reconciled = [
        msg for msg, _ in notes
        if 'model.data_preprocessor differs from the student' in msg
    ]
    assert len(reconciled) == 1 and '\n' not in reconciled[0]
    assert 'size=[512, 1024] vs [32, 40]' in reconciled[0]
    assert 'model.student.data_preprocessor' in reconciled[0]
    assert not any('padding' in msg for msg, _ in notes)


def test_student_preprocessor_is_the_distillers_without_a_note(
        synthetic_rooms_root, teacher, monkeypatch):
    from mmengine.registry import init_default_scope

    from had_mm.models.distill import heteroakd_distiller
    from had_mm.registry import MODELS
    notes = []
    monkeypatch.setattr(heteroakd_distiller, 'print_log',
                        lambda msg, **kw: notes.append(msg))
    # the adapters' default type is found under default_scope='mmseg'
    cfg = _distill_cfg(synthetic_rooms_root, teacher, adapter_type=None)
    init_default_scope('mmseg')
    # the same config given twice, or only the student's: no note
    same = dict(
        cfg.model, data_preprocessor=cfg.model.student.data_preprocessor)
    model = MODELS.build(same)
    assert tuple(model.data_preprocessor.size) == CROP
    assert not [n for n in notes if 'differs' in n]
    # a student without one takes the model's
    student = dict(cfg.model.student)
    own = student.pop('data_preprocessor')
    model = MODELS.build(
        dict(cfg.model, student=student, data_preprocessor=own))
    assert type(model.data_preprocessor).__name__ == 'SegDataPreProcessor'


def test_mostly_padded_batches_are_noted(synthetic_rooms_root, teacher,
                                         monkeypatch):
    """A student preprocessor that pads the images to much more than their
    size (here its stock 512 x 1024) trains, but not silently."""
    from mmengine.registry import init_default_scope

    from had_mm.models.distill import heteroakd_distiller
    from had_mm.registry import MODELS
    notes = []
    monkeypatch.setattr(heteroakd_distiller, 'print_log',
                        lambda msg, **kw: notes.append((msg, kw.get('level'))))
    cfg = _distill_cfg(synthetic_rooms_root, teacher)
    init_default_scope('mmseg')
    model = MODELS.build(cfg.model)
    inputs = torch.zeros(2, 3, 64, 80)
    samples = []
    from mmengine.structures import PixelData
    from mmseg.structures import SegDataSample
    for _ in range(2):
        sample = SegDataSample()
        sample.gt_sem_seg = PixelData(
            data=torch.zeros(1, 64, 80, dtype=torch.long))
        sample.set_metainfo(dict(img_shape=CROP, pad_shape=(64, 80)))
        samples.append(sample)
    model.loss(inputs, samples)
    model.loss(inputs, samples)
    padded = [(m, lv) for m, lv in notes if 'padding' in m]
    assert len(padded) == 1 and padded[0][1] == logging.WARNING
    assert '75.0 % of the first batch is padding' in padded[0][0]
