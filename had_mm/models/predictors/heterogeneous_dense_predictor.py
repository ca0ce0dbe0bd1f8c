from typing import Dict, List, Optional, Sequence

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.structures import PixelData
from mmseg.models.segmentors import BaseSegmentor
from mmseg.structures import SegDataSample
from torch import Tensor

from had_mm.datasets.nyuv2_multitask_dataset import TASKS, check_tasks
from had_mm.registry import MODELS
from ..heads import DenseTaskHead

# The ground-truth field a sample needs for a task's loss.
GT_FIELDS = dict(
    semantic='gt_sem_seg',
    depth='gt_depth_map',
    normal='gt_normal',
    saliency='gt_saliency')


@MODELS.register_module()
class HeterogeneousDensePredictor(BaseSegmentor):
    """A shared encoder and one head per dense task.

    The backbone (any mmseg or mmpretrain backbone) and optional neck run
    once per batch; every requested head reads the same features. Semantic
    segmentation uses a stock mmseg decode head; depth, normal and saliency
    use :class:`DenseTaskHead` subclasses (with any mmseg head as body).

    Args:
        backbone (dict): Backbone config.
        heads (dict): ``{task: head config}``; tasks from
            ``('semantic', 'depth', 'normal', 'saliency')``. A None config
            drops the task (handy in inherited configs).
        neck (dict, optional): Neck config.
        data_preprocessor (dict, optional): mmseg ``SegDataPreProcessor``.
        train_cfg (dict, optional): Unused; kept for mmseg compatibility.
        test_cfg (dict, optional): Unused; kept for mmseg compatibility.
        align_corners (bool): For resizing outputs.
        init_cfg (dict, optional): Initialisation config.
    """

    def __init__(self,
                 backbone: dict,
                 heads: Dict[str, dict],
                 neck: Optional[dict] = None,
                 data_preprocessor: Optional[dict] = None,
                 train_cfg: Optional[dict] = None,
                 test_cfg: Optional[dict] = None,
                 align_corners: bool = False,
                 init_cfg=None) -> None:
        super().__init__(
            data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        # a head set to None is dropped, so a config can remove a task
        heads = {t: cfg for t, cfg in heads.items() if cfg is not None}
        if not heads:
            raise ValueError('heads must name at least one task, e.g. '
                             "heads=dict(semantic=dict(type='ASPPHead', ...))")
        check_tasks(list(heads))
        self.backbone = MODELS.build(backbone)
        self.neck = MODELS.build(neck) if neck is not None else None
        # a fixed task order, whatever the order of the config dict
        self.heads = nn.ModuleDict(
            {t: MODELS.build(heads[t])
             for t in TASKS if t in heads})
        self.train_cfg = train_cfg
        self.test_cfg = test_cfg
        self.align_corners = align_corners
        # Tasks predicted when none are given (the lifelong loop sets the
        # seen tasks here); None means every head.
        self.predict_tasks: Optional[List[str]] = None
        self.clear_distillation()

    def set_distillation(self,
                         teacher: 'HeterogeneousDensePredictor',
                         losses: Dict[str, nn.Module],
                         weight: float = 1.0) -> None:
        """Distil the heads of ``losses`` from a frozen ``teacher``.

        From now on :meth:`loss` adds, for every task ``j`` in ``losses``,
        ``weight * losses[j](student_j, teacher_j)`` under the key
        ``'<j>.loss_distill'``. The teacher runs one backbone pass per batch
        for all its heads, without gradients. It is kept out of this
        module's children, so it is in no state dict, optimizer or DDP
        bucket.

        Args:
            teacher (HeterogeneousDensePredictor): The frozen teacher.
            losses (dict[str, nn.Module]): Distillation loss per old task,
                called with the raw student and teacher outputs at input
                size (see :meth:`head_outputs`).
            weight (float): lambda of the total loss.
        """
        missing = [t for t in losses if t not in teacher.heads]
        if missing:
            raise ValueError(f'the teacher has no head for {missing}')
        teacher.clear_distillation()
        teacher.eval()
        for param in teacher.parameters():
            param.requires_grad_(False)
        # a plain tuple hides the teacher from nn.Module's registration
        self._distill = (teacher, dict(losses), float(weight))

    def clear_distillation(self) -> None:
        """Stop distilling (phase 1, fine-tuning, or before a deep copy)."""
        self._distill = None

    @property
    def teacher(self) -> Optional['HeterogeneousDensePredictor']:
        return None if self._distill is None else self._distill[0]

    @property
    def tasks(self) -> List[str]:
        """Tasks this model has a head for."""
        return list(self.heads.keys())

    def resolve_tasks(self, tasks: Optional[Sequence[str]]) -> List[str]:
        """Check ``tasks`` against the heads (None = all heads)."""
        if tasks is None:
            return self.tasks
        tasks = check_tasks(tasks)
        missing = [t for t in tasks if t not in self.heads]
        if missing:
            raise ValueError(f'no head for task(s) {missing}; the model has '
                             f'heads for {self.tasks}')
        return tasks

    def extract_feat(self, inputs: Tensor) -> List[Tensor]:
        feats = self.backbone(inputs)
        return self.neck(feats) if self.neck is not None else feats

    def head_outputs(self, feats, tasks: Sequence[str],
                     size) -> Dict[str, Tensor]:
        """Task outputs at ``size``: semantic logits, depth in metres, unit
        normals, saliency logits."""
        outs = {}
        for task in tasks:
            head = self.heads[task]
            raw = head(feats)
            if isinstance(head, DenseTaskHead):
                outs[task] = head.predict_by_feat(raw, size)
            else:
                outs[task] = F.interpolate(
                    raw,
                    size=size,
                    mode='bilinear',
                    align_corners=self.align_corners)
        return outs

    def encode_decode(self, inputs: Tensor,
                      batch_img_metas: List[dict]) -> Dict[str, Tensor]:
        feats = self.extract_feat(inputs)
        tasks = self.resolve_tasks(self.predict_tasks)
        return self.head_outputs(feats, tasks, inputs.shape[2:])

    def loss(self,
             inputs: Tensor,
             data_samples: List[SegDataSample],
             tasks: Optional[Sequence[str]] = None) -> Dict[str, Tensor]:
        """Losses of ``tasks`` (default: every task the samples label).

        Keys are ``'<task>.<loss name>'``; one backbone pass serves all.
        """
        if tasks is None:
            tasks = [
                t for t in self.tasks
                if all(GT_FIELDS[t] in s for s in data_samples)
            ]
            if not tasks:
                raise ValueError(
                    f'the batch has labels for none of the tasks '
                    f'{self.tasks}; check the dataset tasks and pipeline')
        tasks = self.resolve_tasks(tasks)
        feats = self.extract_feat(inputs)
        losses = {}
        for task in tasks:
            head = self.heads[task]
            for name, value in head.loss_by_feat(head(feats),
                                                 data_samples).items():
                losses[f'{task}.{name}'] = value
        if self._distill is not None:
            losses.update(self._distill_losses(inputs, feats))
        return losses

    def _distill_losses(self, inputs: Tensor, feats) -> Dict[str, Tensor]:
        teacher, loss_fns, weight = self._distill
        old = [t for t in self.tasks if t in loss_fns]
        size = inputs.shape[2:]
        with torch.no_grad():
            # one teacher backbone pass serves every old head
            t_out = teacher.head_outputs(
                teacher.extract_feat(inputs), old, size)
        s_out = self.head_outputs(feats, old, size)
        return {
            f'{t}.loss_distill': weight * loss_fns[t](s_out[t], t_out[t])
            for t in old
        }

    def predict(self,
                inputs: Tensor,
                data_samples: Optional[List[SegDataSample]] = None,
                tasks: Optional[Sequence[str]] = None) -> List[SegDataSample]:
        """Predictions of ``tasks`` at each image's original size."""
        tasks = self.resolve_tasks(
            tasks if tasks is not None else self.predict_tasks)
        if data_samples is None:
            data_samples = [
                SegDataSample(
                    metainfo=dict(
                        img_shape=inputs.shape[2:],
                        ori_shape=inputs.shape[2:]))
                for _ in range(inputs.shape[0])
            ]
        outs = self.head_outputs(
            self.extract_feat(inputs), tasks, inputs.shape[2:])
        for i, sample in enumerate(data_samples):
            h, w = sample.metainfo.get('img_shape', inputs.shape[2:])
            ori = sample.metainfo.get('ori_shape', (h, w))
            for task in tasks:
                out = outs[task][i:i + 1, :, :h, :w]  # drop the padding
                if tuple(out.shape[-2:]) != tuple(ori):
                    out = F.interpolate(
                        out,
                        size=ori,
                        mode='bilinear',
                        align_corners=self.align_corners)
                    if task == 'normal':
                        out = F.normalize(out, dim=1, eps=1e-6)
                out = out[0]
                head = self.heads[task]
                if isinstance(head, DenseTaskHead):
                    sample.set_data(head.to_pixel_data(out))
                else:
                    sample.set_data(
                        dict(
                            seg_logits=PixelData(data=out),
                            pred_sem_seg=PixelData(
                                data=out.argmax(dim=0, keepdim=True))))
        return data_samples

    def _forward(
        self,
        inputs: Tensor,
        data_samples: Optional[List[SegDataSample]] = None
    ) -> Dict[str, Tensor]:
        return self.encode_decode(inputs, [])
