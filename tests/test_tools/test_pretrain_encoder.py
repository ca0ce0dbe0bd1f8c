"""Pre-trained encoders: the procedural stand-in and real ImageNet layouts
load into the backbone through init_cfg with no missing key."""
import importlib.util
import os.path as osp

import numpy as np
import pytest
import torch
from mmengine.registry import init_default_scope
from tool_runner import REPO

from had_mm.registry import MODELS

_spec = importlib.util.spec_from_file_location(
    'pretrain_encoder', osp.join(REPO, 'tools', 'pretrain_encoder.py'))
pretrain_encoder = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(pretrain_encoder)

R18_D8 = dict(
    depth=18,
    num_stages=4,
    out_indices=(3, ),
    dilations=(1, 1, 2, 4),
    strides=(1, 2, 1, 1),
    norm_eval=False,
    style='pytorch',
    contract_dilation=True)


def _assert_loaded(backbone, expected: dict) -> None:
    """Every backbone tensor equals the checkpoint's (no key left at its
    random initialisation)."""
    state = backbone.state_dict()
    missing = [k for k in state if k not in expected]
    assert not missing, missing
    for key, value in state.items():
        assert torch.equal(value, expected[key]), key


def _build(cfg):
    init_default_scope('had_mm')
    backbone = MODELS.build(cfg)
    backbone.init_weights()
    return backbone


def test_procedural_batch_labels_and_range():
    rng = np.random.default_rng(0)
    imgs, labels = pretrain_encoder.procedural_batch(rng, 6, 24, 32)
    assert imgs.shape == (6, 3, 24, 32) and imgs.dtype == torch.uint8
    assert labels.min() >= 0 and labels.max() < pretrain_encoder.NUM_CLASSES
    # different classes draw different images
    assert not torch.equal(imgs[0], imgs[1])


def test_pretrain_tool_checkpoint_loads_into_backbone(tmp_path):
    out = tmp_path / 'enc.pth'
    pretrain_encoder.main([
        osp.join(REPO, 'configs', 'had',
                 'had_r18-d8-c64_synthetic-rooms-4tasks.py'), '--out',
        str(out), '--iters', '2', '--batch-size', '2', '--size', '16', '24'
    ])
    ckpt = torch.load(out, map_location='cpu', weights_only=True)
    backbone = _build(
        dict(
            type='ResNetV1c',
            init_cfg=dict(type='Pretrained', checkpoint=str(out)),
            **R18_D8))
    _assert_loaded(backbone, ckpt['state_dict'])


def test_torchvision_resnet18_layout_loads(tmp_path):
    torchvision = pytest.importorskip('torchvision')
    state = torchvision.models.resnet18(weights=None).state_dict()
    path = tmp_path / 'resnet18_torchvision.pth'
    torch.save(state, path)  # torchvision files are a bare state_dict
    backbone = _build(
        dict(
            type='ResNet',
            init_cfg=dict(type='Pretrained', checkpoint=str(path)),
            **R18_D8))
    _assert_loaded(backbone, state)


def test_mmpretrain_resnet18_layout_loads(tmp_path):
    backbones = pytest.importorskip('mmpretrain.models.backbones')
    # an mmpretrain ImageClassifier checkpoint: backbone.* and head.fc.*
    state = {
        f'backbone.{k}': v
        for k, v in backbones.ResNet(depth=18).state_dict().items()
    }
    state.update({
        'head.fc.weight': torch.zeros(10, 512),
        'head.fc.bias': torch.zeros(10)
    })
    path = tmp_path / 'resnet18_mmpretrain.pth'
    torch.save(dict(state_dict=state, meta={}), path)
    backbone = _build(
        dict(
            type='ResNet',
            init_cfg=dict(
                type='Pretrained', checkpoint=str(path), prefix='backbone.'),
            **R18_D8))
    _assert_loaded(
        backbone, {
            k[len('backbone.'):]: v
            for k, v in state.items() if k.startswith('backbone.')
        })


@pytest.mark.parametrize(
    'config', [
        'configs/heteroakd/segformer_mit-b0_synthetic-rooms-seg.py',
        'configs/heteroakd/deeplabv3_r18-d8_synthetic-rooms-seg.py',
        'configs/heteroakd/heteroakd_r18-d8_to_mit-b0_synthetic-rooms-seg.py'
    ],
    ids=['mit-b0', 'r18-d8', 'distiller-student-mit-b0'])
def test_heteroakd_backbones_pretrain_and_load(tmp_path, config):
    """Both backbones of the HeteroAKD pairs (MiT-b0, ResNet-18-d8), from a
    plain or a distiller config (its student), load back into the whole
    segmentor through init_cfg with every tensor filled."""
    from mmengine.config import Config
    out = tmp_path / 'enc.pth'
    pretrain_encoder.main([
        osp.join(REPO, config), '--out',
        str(out), '--iters', '1', '--batch-size', '2', '--size', '32', '32'
    ])
    ckpt = torch.load(out, map_location='cpu', weights_only=True)
    model_cfg = Config.fromfile(osp.join(REPO, config)).model
    model_cfg = model_cfg.get('student') or model_cfg
    model_cfg.backbone.init_cfg = dict(type='Pretrained', checkpoint=str(out))
    model = _build(model_cfg)
    _assert_loaded(model.backbone, ckpt['state_dict'])
