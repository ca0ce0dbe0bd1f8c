from typing import Dict, List, Optional, Sequence, Tuple

import torch
import torch.nn as nn
from torch import Tensor

from had_mm.models.utils import resize_map
from had_mm.registry import MODELS
from ..losses import HCLLoss
from .base_feature_distill import BaseFeatureDistill
from .distill_inputs import DistillInputs


class AttentionFusion(nn.Module):
    """ReviewKD's attention-based fusion (ABF) of one level.

    The level's student map is reduced to ``mid_channels`` (1x1 conv +
    BN); with ``fuse``, it is mixed with the fused map of the next deeper
    level (nearest-resized to this level's grid) by two per-pixel weights
    from a 1x1 conv + sigmoid on both. A 3x3 conv + BN maps the result to
    the teacher's width.

    Args:
        in_channels (int): The student's width.
        mid_channels (int): The width of the fused maps.
        out_channels (int): The teacher's width.
        fuse (bool): Whether a deeper level's map is fused in (False for
            the deepest level).
    """

    def __init__(self, in_channels: int, mid_channels: int, out_channels: int,
                 fuse: bool) -> None:
        super().__init__()
        self.reduce = nn.Sequential(
            nn.Conv2d(in_channels, mid_channels, 1, bias=False),
            nn.BatchNorm2d(mid_channels))
        self.out = nn.Sequential(
            nn.Conv2d(mid_channels, out_channels, 3, padding=1, bias=False),
            nn.BatchNorm2d(out_channels))
        self.attention = nn.Sequential(
            nn.Conv2d(2 * mid_channels, 2, 1), nn.Sigmoid()) if fuse else None
        for conv in (self.reduce[0], self.out[0]):
            nn.init.kaiming_uniform_(conv.weight, a=1)

    def forward(self,
                x: Tensor,
                deeper: Optional[Tensor] = None) -> Tuple[Tensor, Tensor]:
        """Fuse one level.

        Args:
            x (Tensor): The student map, ``B x C_s x H x W``.
            deeper (Tensor, optional): The deeper level's fused map, ``B x
                mid x h x w`` (needed with ``fuse``). Defaults to None.

        Returns:
            tuple[Tensor, Tensor]: The output ``B x C_t x H x W`` (compared
            with the teacher) and the fused map ``B x mid x H x W`` (passed
            to the next shallower level).
        """
        x = self.reduce(x)
        if self.attention is not None:
            if deeper is None:
                raise ValueError('AttentionFusion: a fusing level needs the '
                                 'deeper level\'s map')
            deeper = resize_map(deeper, x.shape[-2:], 'nearest')
            weights = self.attention(torch.cat([x, deeper], dim=1))
            x = x * weights[:, :1] + deeper * weights[:, 1:]
        return self.out(x), x


def tokens_to_map(tokens: Tensor, patch_resolution: Tuple[int, int]) -> Tensor:
    """The patch tokens of ``B x (1 + HW) x D`` tokens as a ``B x D x H x
    W`` map (the class token dropped; mmpretrain's row-major order).

    Args:
        tokens (Tensor): ``B x (1 + HW) x D``.
        patch_resolution (tuple[int, int]): ``(H, W)``.

    Returns:
        Tensor: ``B x D x H x W``.
    """
    height, width = patch_resolution
    batch, num, dims = tokens.shape
    if num != 1 + height * width:
        raise ValueError(f'tokens_to_map: {num} tokens do not make a class '
                         f'token and a {height} x {width} patch grid')
    return tokens[:, 1:].reshape(batch, height, width,
                                 dims).permute(0, 3, 1, 2)


@MODELS.register_module()
class ReviewKDDistill(BaseFeatureDistill):
    """ReviewKD: knowledge review with attention-based fusion and the
    hierarchical context loss, on ViT layers.

    The levels are the patch-token maps (``H x W`` grids) of the student
    layers ``student_layers`` (shallow to deep) and, with ``with_cls``, a
    deepest ``1 x 1`` level, the class token of the deepest of them (the
    counterpart of ReviewKD's pooled feature). From the deepest level to
    the shallowest, each level's map is fused with the deeper levels'
    fused map (:class:`AttentionFusion`) and mapped to the teacher's width;
    :class:`HCLLoss` compares each output with the teacher's map of the
    matching layer (``teacher_layers``):

    ``L = (1 - a) CE + a T^2 KL(z_T || last(CLS)) + loss_weight sum_levels
    HCL``

    (CE and KL over the current task's classes, see
    :class:`BaseFeatureDistill`; ``a = 0`` is the original ReviewKD loss).
    The fusion modules are trained with the prompts and are not used at
    inference (``last(CLS)``).

    Args:
        alpha (float): Weight ``a`` of the logit KD term. Defaults to 0.5.
        temperature (float): Temperature ``T``. Defaults to 2.0.
        student_layers (Sequence[int], optional): The student layers,
            shallow to deep (negative: from the end). Defaults to None: 4
            evenly spaced layers ending at the last (``2, 5, 8, 11`` for
            12 layers).
        teacher_layers (Sequence[int], optional): The matching teacher
            layers. Defaults to None: the same relative depths
            (:meth:`map_layer`).
        with_cls (bool): Add the class-token level. Defaults to True.
        mid_channels (int, optional): Width of the fused maps. Defaults to
            None: ``min(512, embed_dims)`` (ReviewKD's choice).
        pyramid (Sequence[int]): HCL's pooled sizes. Defaults to (4, 2, 1).
        loss_weight (float): Weight of the HCL term. Defaults to 1.0.
        **kwargs: :class:`BaseFeatureDistill`'s ``teacher_dims``,
            ``teacher_num_layers`` and :class:`BaseDistill`'s
            ``embed_dims``, ``num_classes``, ``num_layers``, ``alpha``,
            ``temperature``, ``init_cfg``.
    """

    def __init__(self,
                 student_layers: Optional[Sequence[int]] = None,
                 teacher_layers: Optional[Sequence[int]] = None,
                 with_cls: bool = True,
                 mid_channels: Optional[int] = None,
                 pyramid: Sequence[int] = (4, 2, 1),
                 loss_weight: float = 1.0,
                 **kwargs) -> None:
        super().__init__(**kwargs)
        if student_layers is None:
            levels = min(4, self.num_layers)
            step = self.num_layers // levels
            student_layers = [
                self.num_layers - 1 - k * step
                for k in reversed(range(levels))
            ]
        student, teacher = self.resolve_layers(
            student_layers, teacher_layers,
            ('student_layers', 'teacher_layers'))
        if not student or any(a >= b for a, b in zip(student, student[1:])):
            raise ValueError(f'ReviewKDDistill: student_layers='
                             f'{list(student)} must be increasing, shallow '
                             f'to deep, and not empty')
        self._student_layers, self._teacher_layers = student, teacher
        self.with_cls = bool(with_cls)
        self.mid_channels = int(mid_channels or min(512, self.embed_dims))
        num_levels = len(student) + int(self.with_cls)
        # shallow to deep; the deepest fuses nothing in
        self.fusions = nn.ModuleList([
            AttentionFusion(
                self.embed_dims,
                self.mid_channels,
                self.teacher_dims,
                fuse=k < num_levels - 1) for k in range(num_levels)
        ])
        self.hcl = HCLLoss(pyramid=pyramid, loss_weight=loss_weight)

    @property
    def student_layers(self) -> Tuple[int, ...]:
        """tuple[int]: The student layers, shallow to deep."""
        return self._student_layers

    @property
    def teacher_layers(self) -> Tuple[int, ...]:
        """tuple[int]: The matching teacher layers."""
        return self._teacher_layers

    def level_maps(self, feats: Dict[int, Tensor], layers: Sequence[int],
                   patch_resolution: Tuple[int, int]) -> List[Tensor]:
        """The level maps of one ViT, shallow to deep.

        Args:
            feats (dict[int, Tensor]): ``{layer: B x (1 + HW) x D}``.
            layers (Sequence[int]): Its layers.
            patch_resolution (tuple[int, int]): ``(H, W)``.

        Returns:
            list[Tensor]: ``B x D x H x W`` per layer, then (``with_cls``)
            the deepest layer's class token as ``B x D x 1 x 1``.
        """
        maps = [tokens_to_map(feats[i], patch_resolution) for i in layers]
        if self.with_cls:
            maps.append(feats[layers[-1]][:, 0, :, None, None])
        return maps

    def review(self, maps: List[Tensor]) -> List[Tensor]:
        """Fuse the student's maps from deep to shallow.

        Args:
            maps (list[Tensor]): Student level maps, shallow to deep.

        Returns:
            list[Tensor]: The outputs (teacher's width), shallow to deep.
        """
        outputs: List[Optional[Tensor]] = [None] * len(maps)
        deeper = None
        for k in reversed(range(len(maps))):
            outputs[k], deeper = self.fusions[k](maps[k], deeper)
        return outputs

    def loss(self, inputs: DistillInputs) -> Dict[str, Tensor]:
        """``loss_ce``, ``loss_kd`` (for ``a > 0``) and ``loss_hcl`` on the
        tokens of :attr:`student_layers` / :attr:`teacher_layers` as maps
        of the patch grid."""
        self.check_features(inputs, 'ReviewKDDistill')
        grid = inputs.patch_resolution
        if grid is None:
            raise ValueError('ReviewKDDistill.loss: needs patch_resolution '
                             '(the patch grid)')
        losses = self.logit_terms(inputs)
        outputs = self.review(
            self.level_maps(inputs.student_feats, self.student_layers, grid))
        targets = self.level_maps(inputs.teacher_feats, self.teacher_layers,
                                  grid)
        losses['loss_hcl'] = self.hcl(outputs, targets)
        return losses
