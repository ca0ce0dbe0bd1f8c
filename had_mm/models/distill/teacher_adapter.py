"""Teacher adapters: project stage features into class logits
(docs/en/methods/heteroakd.md, section 1)."""
import math
from typing import Dict, List, Optional, Sequence, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmcv.cnn import ConvModule
from mmengine.model import BaseModule
from torch import Tensor

from had_mm.models.losses import masked_mean
from had_mm.registry import MODELS
from had_mm.tasks.task_spec import squeeze_channel
from ..utils import resize_map
from .recorders import RecorderManager

PROJECTORS = ('conv3x3', 'conv1x1')


def _stage_name(stage: dict) -> str:
    idx = stage.get('data_idx')
    return stage['recorder'] + ('' if idx is None else f'[{idx}]')


def gather_stages(recorders: RecorderManager,
                  stages: Sequence[dict]) -> List[Tensor]:
    """Fetch the recorded feature map of every stage reference.

    Args:
        recorders (RecorderManager): Recorders that ran in a forward.
        stages (list[dict]): ``dict(recorder=NAME, data_idx=None,
            record_idx=0)`` per stage.

    Returns:
        list[Tensor]: One ``B x C x H x W`` map per stage.

    Raises:
        ValueError: If a stage is not a 4-D feature map.
    """
    feats = []
    for stage in stages:
        feat = recorders.get_record_data(stage['recorder'],
                                         stage.get('record_idx', 0),
                                         stage.get('data_idx'))
        if isinstance(feat, (tuple, list)):
            raise ValueError(
                f'stage "{_stage_name(stage)}" recorded a '
                f'{type(feat).__name__} of {len(feat)} outputs; set '
                f'data_idx to pick one feature map.')
        if not isinstance(feat, Tensor) or feat.dim() != 4:
            shape = tuple(feat.shape) if isinstance(feat, Tensor) else None
            raise ValueError(
                f'stage "{_stage_name(stage)}" is not a B x C x H x W '
                f'feature map (got {type(feat).__name__} of shape {shape}); '
                f'record a module that outputs one (e.g. the backbone with '
                f'data_idx, whose outputs are maps).')
        feats.append(feat)
    return feats


@torch.no_grad()
def probe_stages(
    model: nn.Module,
    recorders: RecorderManager,
    stages: Sequence[dict],
    input_size: Tuple[int, int] = (64, 64)
) -> Dict[str, list]:
    """Read stage channels and strides from a dry forward of a segmentor.

    Runs ``model._forward`` (backbone, neck, decode head) on one zero image
    in eval mode, without gradients, with the recorders on, then restores
    the model's mode. Nothing is hand-written: channel counts are the
    recorded maps' channels, strides the ratio of input to map size.

    Args:
        model (nn.Module): An mmseg segmentor (anything with ``_forward``
            returning ``B x C x h x w`` logits).
        recorders (RecorderManager): Recorders already attached to
            ``model``.
        stages (list[dict]): Stage references (see :func:`gather_stages`).
        input_size (tuple[int, int]): ``(H, W)`` of the dry-run image; a
            multiple of the largest stride. Defaults to (64, 64).

    Returns:
        dict: ``channels`` (list[int]), ``strides`` (list[int]) of the
        stages and ``out_stride`` (int, of the logits of ``_forward``).
    """
    param = next(iter(model.parameters()), None)
    device = param.device if param is not None else 'cpu'
    dummy = torch.zeros(1, 3, *input_size, device=device)
    was_training = model.training
    model.eval()
    try:
        with recorders.recording():
            logits = model._forward(dummy)
        feats = gather_stages(recorders, stages)
    finally:
        recorders.reset_data()
        model.train(was_training)
    if isinstance(logits, (tuple, list)):
        logits = logits[0]

    def stride(x: Tensor) -> int:
        return max(1, round(input_size[0] / x.shape[-2]))

    return dict(
        channels=[int(f.shape[1]) for f in feats],
        strides=[stride(f) for f in feats],
        out_stride=stride(logits))


@MODELS.register_module()
class TeacherAdapter(BaseModule):
    """Project stage feature maps into class logits at one resolution.

    One projector per stage, by default ``3x3 conv -> BN -> ReLU -> 1x1
    conv (C)`` (``projector='conv3x3'``), or the lighter ``1x1 conv (C) ->
    BN`` (``projector='conv1x1'``), then a bilinear resize to the student's
    decode resolution (its output stride). Trained with cross-entropy
    against the ground truth (:meth:`loss`), so each projected map is a
    real class-logit map.
    Used on both sides (the teacher's projectors read frozen, detached
    features). Build it with :meth:`from_model` (or through
    :class:`HeteroAKDDistiller`) to read ``in_channels`` and strides from
    a dry forward.

    Args:
        in_channels (list[int]): Channels of every stage.
        num_classes (int): Number of classes ``C``.
        stages (list[dict], optional): Where each stage is recorded
            (``dict(recorder=NAME, data_idx=None)``); metadata for the
            distiller. Defaults to None.
        channels (int): Channels of the 3x3 conv (unused by 'conv1x1').
            Defaults to 256.
        in_strides (list[int], optional): Strides of the stages (for the
            record and :meth:`extra_repr`). Defaults to None.
        out_stride (int, optional): Stride of the output (the student's
            decode stride) used when :meth:`forward` gets no ``size``.
            Defaults to None.
        norm_cfg (dict): Norm of the 3x3 conv ('conv3x3') or of the class
            logits ('conv1x1'). Defaults to BN.
        act_cfg (dict): Activation of the 3x3 conv (unused by 'conv1x1').
            Defaults to ReLU.
        align_corners (bool): Of the bilinear resizes. Defaults to False.
        ignore_index (int): Ignored label of the CE. Defaults to 255.
        loss_weight (float): Weight of every stage's CE. Defaults to 1.0.
        upsample_logits (bool): Compute the CE at the label resolution
            (logits upsampled) instead of at the logits' resolution
            (labels downsampled, nearest). Defaults to False.
        projector (str): 'conv3x3' (3x3 conv-BN-ReLU, 1x1 conv to the
            classes) or 'conv1x1' (1x1 conv to the classes, then BN).
            Defaults to 'conv3x3'.
        init_cfg (dict, optional): Initialisation config.
    """

    def __init__(self,
                 in_channels: Sequence[int],
                 num_classes: int,
                 stages: Optional[Sequence[dict]] = None,
                 channels: int = 256,
                 in_strides: Optional[Sequence[int]] = None,
                 out_stride: Optional[int] = None,
                 norm_cfg: dict = dict(type='BN', requires_grad=True),
                 act_cfg: dict = dict(type='ReLU'),
                 align_corners: bool = False,
                 ignore_index: int = 255,
                 loss_weight: float = 1.0,
                 upsample_logits: bool = False,
                 projector: str = 'conv3x3',
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg)
        if projector not in PROJECTORS:
            raise ValueError(f'projector must be one of {PROJECTORS}, got '
                             f'{projector!r}')
        if stages is not None and len(stages) != len(in_channels):
            raise ValueError(f'{len(stages)} stages but {len(in_channels)} '
                             f'in_channels')
        self.in_channels = [int(c) for c in in_channels]
        self.num_classes = num_classes
        self.stages = [dict(s) for s in stages] if stages else None
        self.in_strides = list(in_strides) if in_strides else None
        self.out_stride = out_stride
        self.align_corners = align_corners
        self.ignore_index = ignore_index
        self.loss_weight = loss_weight
        self.upsample_logits = upsample_logits
        self.projector = projector
        self.projectors = nn.ModuleList([
            _projector(projector, in_ch, channels, num_classes, norm_cfg,
                       act_cfg) for in_ch in self.in_channels
        ])

    @classmethod
    def from_model(cls,
                   model: nn.Module,
                   recorders: RecorderManager,
                   stages: Sequence[dict],
                   num_classes: int,
                   out_stride: Optional[int] = None,
                   dry_run_size: Tuple[int, int] = (64, 64),
                   **kwargs) -> 'TeacherAdapter':
        """Build an adapter for ``model``'s stages from a dry forward.

        Args:
            model (nn.Module): The segmentor whose stages are projected.
            recorders (RecorderManager): Its attached recorders.
            stages (list[dict]): Stage references.
            num_classes (int): Number of classes.
            out_stride (int, optional): Target stride (the student's
                decode stride); defaults to ``model``'s own.
            dry_run_size (tuple[int, int]): Dry-run image size.
            **kwargs: Other arguments of :class:`TeacherAdapter`.

        Returns:
            TeacherAdapter: The adapter.
        """
        shapes = probe_stages(model, recorders, stages, dry_run_size)
        return cls(
            in_channels=shapes['channels'],
            num_classes=num_classes,
            stages=stages,
            in_strides=shapes['strides'],
            out_stride=out_stride or shapes['out_stride'],
            **kwargs)

    def gather(self, recorders: RecorderManager) -> List[Tensor]:
        """Fetch this adapter's stage maps from ``recorders``."""
        if self.stages is None:
            raise ValueError('this TeacherAdapter was built without stages')
        return gather_stages(recorders, self.stages)

    def output_size(self, input_size: Sequence[int]) -> Tuple[int, int]:
        """Decode resolution for an input of ``(H, W)``."""
        if self.out_stride is None:
            raise ValueError('out_stride is unknown; pass size to forward')
        return (math.ceil(input_size[0] / self.out_stride),
                math.ceil(input_size[1] / self.out_stride))

    def forward(self,
                feats: Sequence[Tensor],
                size: Optional[Sequence[int]] = None) -> List[Tensor]:
        """Project every stage and resize to ``size``.

        Args:
            feats (list[Tensor]): ``B x C_k x H_k x W_k`` per stage.
            size (tuple[int, int], optional): Output ``(h, w)``. Defaults
                to the size of the first map times its stride divided by
                ``out_stride``.

        Returns:
            list[Tensor]: ``B x num_classes x h x w`` logits per stage.
        """
        if len(feats) != len(self.projectors):
            raise ValueError(f'{len(feats)} feature maps for '
                             f'{len(self.projectors)} projectors')
        if size is None:
            stride = self.in_strides[0] if self.in_strides else 1
            size = self.output_size(
                (feats[0].shape[-2] * stride, feats[0].shape[-1] * stride))
        size = tuple(size)
        return [
            resize_map(proj(feat), size, 'bilinear', self.align_corners)
            for proj, feat in zip(self.projectors, feats)
        ]

    def loss(self, logits: Sequence[Tensor], gt: Tensor) -> Dict[str, Tensor]:
        """Cross-entropy of every projected map against the labels.

        Args:
            logits (list[Tensor]): Outputs of :meth:`forward`.
            gt (Tensor): ``B x H x W`` labels (``ignore_index`` ignored).

        Returns:
            dict[str, Tensor]: ``loss_proj{k}`` per stage (weighted).
        """
        losses = {}
        for k, stage_logits in enumerate(logits):
            if self.upsample_logits:
                stage_logits = resize_map(stage_logits, gt.shape[-2:],
                                          'bilinear', self.align_corners)
            target = resize_map(
                squeeze_channel(gt), stage_logits.shape[-2:],
                'nearest').long()
            ce = F.cross_entropy(
                stage_logits.float(),
                target,
                ignore_index=self.ignore_index,
                reduction='none')
            # 0 (graph kept) rather than NaN when nothing is labelled
            loss = masked_mean(ce, target != self.ignore_index)
            losses[f'loss_proj{k}'] = self.loss_weight * loss
        return losses

    def extra_repr(self) -> str:
        return (f'in_channels={self.in_channels}, in_strides='
                f'{self.in_strides}, out_stride={self.out_stride}, '
                f'num_classes={self.num_classes}, projector={self.projector}')


def _projector(kind: str, in_channels: int, channels: int, num_classes: int,
               norm_cfg: dict, act_cfg: dict) -> nn.Sequential:
    """One stage's projector to class logits (see :class:`TeacherAdapter`).

    Args:
        kind (str): 'conv3x3' or 'conv1x1'.
        in_channels (int): Channels of the stage.
        channels (int): Channels of the 3x3 conv ('conv3x3').
        num_classes (int): Output channels.
        norm_cfg (dict): Norm config.
        act_cfg (dict): Activation of the 3x3 conv ('conv3x3').

    Returns:
        nn.Sequential: The projector.
    """
    if kind == 'conv1x1':
        # a linear map to the classes, its logits batch-normalised
        return nn.Sequential(
            ConvModule(
                in_channels, num_classes, 1, norm_cfg=norm_cfg, act_cfg=None))
    return nn.Sequential(
        ConvModule(
            in_channels,
            channels,
            3,
            padding=1,
            norm_cfg=norm_cfg,
            act_cfg=act_cfg), nn.Conv2d(channels, num_classes, 1))
