"""had_mm's losses in mmseg's stock DeepLabV3 (ResNet-18) config.

mmseg's decode heads call each ``loss_decode`` as ``loss(seg_logits,
seg_label, weight=..., ignore_index=...)`` with the class labels and key
the result by ``loss.loss_name``. The HAD (teacher-student) losses and the
depth / normal losses cannot learn from class labels: a stock head refuses
them when the model is built, in one line that says where they go. The
class-balanced BCE is the loss of a binary stock head. The task losses
train in had_mm's task heads with the stock decode head as their body.
"""
import os
import os.path as osp

import numpy as np
import pytest
import torch
from mmengine.runner import Runner
from PIL import Image
from stock_helpers import (CROP, DEEPLABV3, losses_alone, one_line, tiny_stock,
                           train)


@pytest.fixture(scope='module')
def binary_root(synthetic_rooms_root, tmp_path_factory) -> str:
    """The rooms with 0 / 1 saliency labels (the fixture's are 0 / 255) in
    ``sal01/``: a binary segmentation set as mmseg reads it."""
    root = tmp_path_factory.mktemp('binary_rooms')
    os.symlink(osp.join(synthetic_rooms_root, 'image'), str(root / 'image'))
    for split in ('train', 'test'):
        os.makedirs(root / 'sal01' / split)
        src = osp.join(synthetic_rooms_root, 'saliency', split)
        for name in os.listdir(src):
            label = np.array(Image.open(osp.join(src, name))) > 127
            Image.fromarray(label.astype(np.uint8)).save(
                str(root / 'sal01' / split / name))
    return str(root)


def _build(cfg):
    """Build the model as the Runner does (refusals come from here)."""
    from mmengine.registry import init_default_scope
    from mmseg.registry import MODELS

    import had_mm  # noqa: F401  (custom_imports)
    init_default_scope(cfg.default_scope)
    return MODELS.build(cfg.model)


# -------------------------------------------------- refused, in one line
def test_had_loss_in_loss_decode_is_refused_before_training(
        synthetic_rooms_root, tmp_path):
    # the config: CE plus HAD on a stock decode head
    cfg = tiny_stock(DEEPLABV3, synthetic_rooms_root)
    cfg.model.decode_head.loss_decode = [
        dict(type='CrossEntropyLoss'),
        dict(type='had_mm.HADLoss', task='semantic')
    ]
    cfg.work_dir = str(tmp_path)
    with pytest.raises(ValueError) as err:
        Runner.from_cfg(cfg)  # builds the model: nothing has trained
    text = one_line(err.value)
    assert 'HADLoss cannot be a loss_decode of ASPPHead' in text
    assert "teacher's output" in text
    assert 'IncrementalSegDistiller' in text and 'HeteroAKDDistiller' in text


@pytest.mark.parametrize('name', [
    'HADLoss', 'DBHADLoss', 'SGHADLoss', 'PixelDistillLoss', 'LogitKDLoss',
    'ChannelWiseDivergenceLoss', 'HeteroAKDLoss'
])
def test_every_teacher_student_loss_is_refused_by_a_stock_head(
        synthetic_rooms_root, name):
    cfg = tiny_stock(DEEPLABV3, synthetic_rooms_root)
    loss = dict(type=f'had_mm.{name}', _delete_=True)
    if name in ('HADLoss', 'DBHADLoss', 'SGHADLoss', 'PixelDistillLoss'):
        loss['task'] = 'semantic'
    cfg.merge_from_dict(dict(model=dict(decode_head=dict(loss_decode=loss))))
    with pytest.raises(ValueError) as err:
        _build(cfg)
    assert f'{name} cannot be a loss_decode of ASPPHead' in one_line(err.value)


def test_readme_one_liner_masked_l1_is_refused_naming_depth_head(
        synthetic_rooms_root):
    # README: model = dict(decode_head=dict(loss_decode=dict(
    #     type='had_mm.MaskedL1Loss'))) on a stock config
    cfg = tiny_stock(DEEPLABV3, synthetic_rooms_root)
    cfg.merge_from_dict(
        dict(
            model=dict(
                decode_head=dict(loss_decode=dict(
                    type='had_mm.MaskedL1Loss')))))
    assert cfg.model.decode_head.loss_decode.use_sigmoid is False
    with pytest.raises(ValueError) as err:
        _build(cfg)
    text = one_line(err.value)
    assert 'MaskedL1Loss cannot be a loss_decode of ASPPHead' in text
    assert 'had_mm.DepthHead' in text


def test_normal_loss_is_refused_naming_normal_head(synthetic_rooms_root):
    cfg = tiny_stock(DEEPLABV3, synthetic_rooms_root)
    cfg.model.decode_head.loss_decode = dict(type='had_mm.CosineNormalLoss')
    with pytest.raises(ValueError) as err:
        _build(cfg)
    assert 'had_mm.NormalHead' in one_line(err.value)


def test_inherited_use_sigmoid_says_delete(synthetic_rooms_root):
    # a binary stock head whose loss_decode replaces CrossEntropyLoss
    # without _delete_=True inherits use_sigmoid=False
    cfg = tiny_stock(DEEPLABV3, synthetic_rooms_root)
    cfg.merge_from_dict(
        dict(
            model=dict(
                decode_head=dict(
                    num_classes=2,
                    out_channels=1,
                    loss_decode=dict(type='had_mm.BalancedBCELoss')))))
    with pytest.raises(ValueError) as err:
        _build(cfg)
    text = one_line(err.value)
    assert 'BalancedBCELoss does not take use_sigmoid=False' in text
    assert '_delete_=True' in text


def test_mmseg_loss_arguments_by_name():
    from had_mm.models.losses import BalancedBCELoss, HADLoss, MaskedL1Loss

    # accepted where they describe what the loss does anyway
    MaskedL1Loss(use_sigmoid=False, avg_non_ignore=True, loss_weight=2.0)
    BalancedBCELoss(use_sigmoid=True, avg_non_ignore=True)
    for loss, kwargs in ((MaskedL1Loss, dict(use_sigmoid=True)),
                         (MaskedL1Loss, dict(class_weight=[1.0])),
                         (BalancedBCELoss, dict(avg_non_ignore=False)),
                         (HADLoss, dict(task='semantic', use_sigmoid=False))):
        with pytest.raises(ValueError) as err:
            loss(**kwargs)
        name = next(k for k in kwargs if k != 'task')
        text = one_line(err.value)
        assert f'does not take {name}=' in text and '_delete_=True' in text
    with pytest.raises(TypeError, match="unexpected argument 'colour'"):
        MaskedL1Loss(colour=1)


def test_every_loss_has_a_loss_name():
    from had_mm.models.losses import (BalancedBCELoss, CosineNormalLoss,
                                      DBHADLoss, HADLoss, MaskedL1Loss,
                                      PixelDistillLoss, SGHADLoss)
    names = {
        HADLoss('semantic'): 'loss_had',
        DBHADLoss('depth'): 'loss_db_had',
        SGHADLoss('normal'): 'loss_sg_had',
        PixelDistillLoss('saliency'): 'loss_pixel_distill',
        HADLoss('semantic', loss_name='loss_old'): 'loss_old',
        MaskedL1Loss(): 'loss_depth',
        CosineNormalLoss(): 'loss_normal',
        BalancedBCELoss(): 'loss_saliency',
    }
    for loss, name in names.items():
        assert loss.loss_name == name


def test_had_loss_called_as_a_decode_head_calls_it_is_refused():
    from had_mm.models.losses import HADLoss
    logits = torch.randn(2, 13, 4, 5)
    labels = torch.randint(0, 13, (2, 4, 5))
    with pytest.raises(ValueError) as err:
        HADLoss('semantic')(logits, labels, weight=None, ignore_index=255)
    assert 'called with ignore_index' in one_line(err.value)


# ------------------------------------------------------------ trained
def _check_learnt_from(record, classes):
    assert record.input_shapes[0] == (2, 3) + CROP
    assert max(record.padding) < 0.05, record.padding
    assert len(record.losses) == 2
    labels = torch.cat(record.labels).unique().tolist()
    assert set(labels) <= set(classes) | {255}, labels


def test_balanced_bce_trains_a_binary_stock_head(binary_root, tmp_path):
    cfg = tiny_stock(DEEPLABV3, binary_root, seg_dir='sal01')
    cfg.merge_from_dict(
        dict(
            model=dict(
                decode_head=dict(
                    num_classes=2,
                    out_channels=1,
                    threshold=0.5,
                    loss_decode=dict(
                        _delete_=True, type='had_mm.BalancedBCELoss')),
                auxiliary_head=None)))
    cfg.train_dataloader.dataset.metainfo = dict(classes=('back', 'object'))
    record = train(cfg, tmp_path / 'run')
    _check_learnt_from(record, {0, 1})
    # the stock head feeds the loss as a direct call does: the logits at
    # the labels' size, the head's ignore_index
    alone = losses_alone(cfg.model, record)
    logged = record.losses[0]['decode.loss_saliency']
    assert logged == pytest.approx(alone['decode.loss_saliency'], rel=1e-5)
    assert 0.05 < logged < 5


def test_task_losses_train_with_a_stock_decode_head_as_body(
        synthetic_rooms_root, tmp_path):
    """Depth, normal and saliency heads whose body is the stock config's
    ASPPHead, on its ResNet-18 backbone; their loss at step 0 is that of
    the same backbone and head trained alone for the task."""
    cfg = tiny_stock(DEEPLABV3, synthetic_rooms_root)
    stock = cfg.model
    tasks = ['depth', 'normal', 'saliency']
    heads = dict(
        depth=dict(
            type='had_mm.DepthHead', body=stock.decode_head, max_depth=10.0),
        normal=dict(type='had_mm.NormalHead', body=stock.decode_head),
        saliency=dict(type='had_mm.SaliencyHead', body=stock.decode_head))
    preprocessor = dict(
        type='had_mm.MultiTaskDataPreProcessor',
        mean=stock.data_preprocessor.mean,
        std=stock.data_preprocessor.std,
        bgr_to_rgb=True,
        size_divisor=8)
    cfg.model = dict(
        type='had_mm.HeterogeneousDensePredictor',
        data_preprocessor=preprocessor,
        backbone=stock.backbone,
        heads=heads)
    pipeline = [
        dict(type='had_mm.LoadMultiTaskImage'),
        dict(type='had_mm.LoadMultiTaskAnnotations'),
        dict(type='had_mm.PackMultiTaskInputs'),
    ]
    cfg.train_dataloader.dataset = dict(
        type='had_mm.NYUv2MultiTaskDataset',
        data_root=synthetic_rooms_root,
        split='train',
        tasks=tasks,
        num_classes=13,
        pipeline=pipeline)
    record = train(cfg, tmp_path / 'run')
    assert record.input_shapes[0] == (2, 3) + CROP
    assert max(record.padding) < 0.05
    first = record.losses[0]
    for task in tasks:
        alone = dict(cfg.model, heads={task: heads[task]})
        value = losses_alone(alone, record)[f'{task}.loss_{task}']
        assert first[f'{task}.loss_{task}'] == pytest.approx(value, rel=1e-5)
