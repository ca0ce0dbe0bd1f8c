import copy
import logging
from typing import Dict, List, Sequence, Union

import torch
from mmengine.logging import print_log
from mmengine.model import BaseModule
from mmengine.structures import PixelData
from mmseg.structures import SegDataSample
from torch import Tensor

from had_mm.registry import MODELS
from had_mm.tasks import TaskSpec, get_task
from ..utils import resize_map


def _is_stock_loss_decode(cfg) -> bool:
    """Whether ``cfg`` is mmseg's default decode-head loss: a plain
    ``CrossEntropyLoss`` (softmax, weight 1, no class weights)."""
    if not isinstance(cfg, dict):
        return False
    return str(cfg.get('type', '')).split('.')[-1] == 'CrossEntropyLoss' \
        and not cfg.get('use_sigmoid', False) \
        and not cfg.get('use_mask', False) \
        and cfg.get('class_weight') is None \
        and cfg.get('loss_weight', 1.0) == 1.0


class DenseTaskHead(BaseModule):
    """A dense-prediction head: any mmseg decode head as the body.

    The body (ASPP, FCN, SegFormer head, ...; anything built on mmseg's
    ``BaseDecodeHead``) is built with ``num_classes = out_channels`` of the
    task, so its ``conv_seg`` emits the task's raw channels; the subclass
    turns them into the task output (:meth:`activate`). The interface
    follows ``BaseDecodeHead``: ``forward``, ``loss_by_feat``,
    ``predict_by_feat``.

    Args:
        body (dict): Config of an mmseg decode head (``num_classes`` and
            ``out_channels`` are set here). Its ``loss_decode`` is never
            called (``loss`` is the task loss): mmseg's default, a plain
            ``CrossEntropyLoss``, is dropped with a warning, any other is
            refused.
        loss (dict): Config of the task loss, called as
            ``loss(pred, target)``.
        align_corners (bool): For the bilinear resize of outputs.
        init_cfg (dict, optional): Initialisation config.
    """

    #: The task type (a name of the task table, :func:`get_task`); its
    #: channels and label / prediction fields come from the table.
    task: str = ''

    @property
    def spec(self) -> TaskSpec:
        """TaskSpec: The task's entry of the task table."""
        return get_task(self.task)

    @property
    def out_channels(self) -> int:
        """int: Raw output channels (the task's ``out_channels``)."""
        return self.spec.channels()

    @property
    def gt_field(self) -> str:
        """str: Sample field of the task's label."""
        return self.spec.label_field

    def __init__(self,
                 body: dict,
                 loss: dict,
                 align_corners: bool = False,
                 init_cfg=None) -> None:
        super().__init__(init_cfg)
        body = copy.deepcopy(body)
        self._drop_loss_decode(body.pop('loss_decode', None), loss)
        # no loss in the body: mmseg would build its default one otherwise
        body['loss_decode'] = []
        body['num_classes'] = self.out_channels
        body['out_channels'] = self.out_channels
        if self.out_channels == 1:
            body.setdefault('threshold', 0.5)  # silences mmseg's warning
        self.body = MODELS.build(body)
        self.loss_module = MODELS.build(loss)
        self.align_corners = align_corners

    def _drop_loss_decode(self, loss_decode, loss: dict) -> None:
        """Drop the body's ``loss_decode``: the body only computes the
        channels, so its loss would be built and never called.

        A stock config's decode_head always carries mmseg's default
        (a plain ``CrossEntropyLoss``): dropped with a note. Any other is
        a loss the user meant to train with: refused in one line.
        """
        if loss_decode is None:
            return
        if not _is_stock_loss_decode(loss_decode):
            raise ValueError(
                f'{type(self).__name__}: body.loss_decode {loss_decode} '
                f'would never be called; the head trains with loss={loss}. '
                f'Put the loss to train with in the head\'s loss=..., and '
                f'set body.loss_decode=None.')
        print_log(
            f'{type(self).__name__}: body.loss_decode {loss_decode} is not '
            f'used; the head trains with loss={loss}',
            logger='current',
            level=logging.WARNING)

    def forward(self, inputs: Union[Tensor, Sequence[Tensor]]) -> Tensor:
        """Raw head output at the body's resolution (not activated)."""
        if isinstance(inputs, Tensor):  # mmseg heads index a feature list
            inputs = [inputs]
        return self.body(inputs)

    def activate(self, raw: Tensor) -> Tensor:
        """Turn raw channels into the task output (depth, unit normal...)."""
        return raw

    def resize(self, raw: Tensor, size) -> Tensor:
        return resize_map(raw, size, 'bilinear', self.align_corners)

    def _stack_gt(self, samples: List[SegDataSample]) -> Tensor:
        missing = [
            s.metainfo.get('img_path', i) for i, s in enumerate(samples)
            if self.gt_field not in s
        ]
        if missing:
            raise KeyError(f'{self.task} loss needs {self.gt_field} but '
                           f'sample(s) {missing[:3]} have none; load the '
                           f'{self.task} labels in the pipeline')
        return torch.stack([getattr(s, self.gt_field).data for s in samples])

    def loss_by_feat(
            self, raw: Tensor,
            batch_data_samples: List[SegDataSample]) -> Dict[str, Tensor]:
        """Task loss of the raw output against the samples' labels."""
        gt = self._stack_gt(batch_data_samples)
        out = self.activate(self.resize(raw, gt.shape[-2:]))
        return {self.loss_module.loss_name: self.loss_module(out, gt)}

    def predict_by_feat(self, raw: Tensor, size) -> Tensor:
        """Task output resized to ``size`` (the padded input size)."""
        return self.activate(self.resize(raw, size))

    def to_pixel_data(self, out: Tensor) -> Dict[str, PixelData]:
        """Fields of one sample's prediction.

        Args:
            out (Tensor): ``C x H x W`` task output at the original size.

        Returns:
            dict[str, PixelData]: The output under the task's prediction
            field (subclasses may post-process it, e.g. a sigmoid).
        """
        return {self.spec.pred_field: PixelData(data=out)}
