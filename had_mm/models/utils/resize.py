"""The one resize of had_mm's dense maps, on mmseg's ``resize``."""
from typing import Optional, Sequence

import torch
from mmseg.models.utils import resize
from torch import Tensor


def resize_map(x: Tensor,
               size: Sequence[int],
               mode: str = 'bilinear',
               align_corners: Optional[bool] = False,
               dtype: Optional[torch.dtype] = None) -> Tensor:
    """Resize a batch of dense maps (logits, task outputs or labels).

    Args:
        x (Tensor): ``B x C x H x W`` maps, or ``B x H x W`` label maps.
        size (Sequence[int]): Target ``(h, w)``.
        mode (str): ``'bilinear'`` for continuous maps, ``'nearest'`` for
            class maps. Defaults to ``'bilinear'``.
        align_corners (bool, optional): As in ``F.interpolate`` (ignored
            by ``'nearest'``). Defaults to False.
        dtype (torch.dtype, optional): Interpolate floating maps in this
            dtype (e.g. float32 for bf16 predictions being scored).
            Defaults to None: in the map's own dtype.

    Returns:
        Tensor: The maps at ``size``, of ``x``'s shape layout; ``x`` itself
        when it already has that size. Integer (label) maps keep their
        dtype.
    """
    size = tuple(int(s) for s in size)
    if tuple(x.shape[-2:]) == size:
        return x
    squeeze = x.dim() == 3
    y = x[:, None] if squeeze else x
    integer = not y.dtype.is_floating_point
    if integer or dtype is not None:
        y = y.to(dtype or torch.float32)
    if mode == 'nearest':
        y = resize(y, size=size, mode='nearest', warning=False)
    else:
        y = resize(
            y,
            size=size,
            mode=mode,
            align_corners=align_corners,
            warning=False)
    y = y[:, 0] if squeeze else y
    return y.round().to(x.dtype) if integer else y
