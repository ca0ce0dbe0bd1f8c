from typing import Dict, List, Optional, Sequence, Tuple

import torch
import torch.nn as nn
from mmengine.structures import PixelData
from mmseg.models.segmentors import BaseSegmentor
from mmseg.structures import SegDataSample
from torch import Tensor

from had_mm.registry import MODELS
from had_mm.tasks import check_tasks, get_task, task_names
from ..distill.frozen_teacher import FrozenTeacherMixin
from ..distill.teacher_source import OnlineTeacher
from ..heads import DenseTaskHead
from ..utils import resize_map


@MODELS.register_module()
class HeterogeneousDensePredictor(FrozenTeacherMixin, BaseSegmentor):
    """A shared encoder and one head per dense task.

    The backbone (any mmseg or mmpretrain backbone) and optional neck run
    once per batch; every requested head reads the same features. Semantic
    segmentation uses a stock mmseg decode head; depth, normal and saliency
    use :class:`DenseTaskHead` subclasses (with any mmseg head as body).

    From phase 2 of a lifelong run the loop hands the model its frozen
    teacher with ``attach_teacher(teacher, losses=..., weight=...)`` (see
    :class:`~had_mm.models.distill.FrozenTeacherMixin`); ``loss()`` then
    adds the distillation terms.

    Args:
        backbone (dict): Backbone config.
        heads (dict): ``{task: head config}``; tasks from the task table
            (:func:`~had_mm.tasks.task_names`). A None config drops the
            task (handy in inherited configs).
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
             for t in task_names() if t in heads})
        self.train_cfg = train_cfg
        self.test_cfg = test_cfg
        self.align_corners = align_corners
        # Tasks predicted when none are given (the lifelong loop sets the
        # seen tasks here); None means every head.
        self.predict_tasks: Optional[List[str]] = None
        # Inputs are converted to channels_last when the weights are (the
        # lifelong loop's ``channels_last`` option).
        self.channels_last = False
        # set by attach_teacher: (losses, weight)
        self._distill: Optional[Tuple[Dict[str, nn.Module], float]] = None
        # where loss() gets the teacher's raw outputs (set by
        # attach_teacher; a pseudo-label cache replaces it)
        self._teacher_source = None

    def _on_attach_teacher(self,
                           teacher: nn.Module,
                           losses: Optional[Dict[str, nn.Module]] = None,
                           weight: float = 1.0) -> None:
        """Distil the heads of ``losses`` from ``teacher`` (the arguments
        of :meth:`attach_teacher`).

        From then on :meth:`loss` adds, for every task ``j`` in ``losses``,
        ``weight * losses[j](student_j, teacher_j)`` under the key
        ``'<j>.loss_distill'``. The teacher runs one backbone pass per batch
        for all its heads, without gradients (an
        :class:`~had_mm.models.distill.OnlineTeacher`, until
        :meth:`set_pseudo_label_cache`); its raw outputs are turned into
        task outputs by this model's heads (so a teacher of another family
        only needs ``heads``, ``extract_feat`` and ``raw_head_outputs``,
        e.g. :class:`~had_mm.models.distill.HeteroLifelongTeacher`).

        Args:
            teacher (HeterogeneousDensePredictor | HeteroLifelongTeacher):
                The teacher.
            losses (dict[str, nn.Module]): Distillation loss per old task,
                called with the student and teacher outputs at input size
                (see :meth:`head_outputs`).
            weight (float): lambda of the total loss. Defaults to 1.0.
        """
        if not losses:
            raise ValueError('attach_teacher needs losses={task: loss} of '
                             'the old tasks')
        missing = [t for t in losses if t not in teacher.heads]
        if missing:
            raise ValueError(f'the teacher has no head for {missing}')
        if isinstance(teacher, HeterogeneousDensePredictor):
            # a copy of this model at the last phase end distils nothing
            teacher.detach_teacher()
        self._distill = (dict(losses), float(weight))
        self._teacher_source = OnlineTeacher(teacher)

    def _on_detach_teacher(self) -> None:
        """Drop the losses and the teacher source (a pseudo-label cache
        belongs to the teacher)."""
        self._distill = None
        self._teacher_source = None

    def set_pseudo_label_cache(self, cache) -> None:
        """Take the teacher's raw outputs from ``cache`` instead of
        running the teacher.

        The cache is a teacher source (see
        :mod:`~had_mm.models.distill.teacher_source`):
        :class:`~had_mm.engine.loops.pseudo_label_cache.PseudoLabelCache`
        answers ``raw_outputs`` from outputs computed once per phase.
        Cleared with :meth:`detach_teacher`.

        Args:
            cache (PseudoLabelCache | None): The cache; None = run the
                teacher online again.
        """
        if self.teacher is None:
            if cache is None:
                return
            raise RuntimeError('attach_teacher() must come before '
                               'set_pseudo_label_cache()')
        self._teacher_source = OnlineTeacher(self.teacher) \
            if cache is None else cache

    @property
    def pseudo_label_cache(self):
        """The pseudo-label cache in use, or None (online teacher)."""
        source = self._teacher_source
        return None if source is None or isinstance(source,
                                                    OnlineTeacher) else source

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
        """Backbone (and neck) features of a batch.

        Args:
            inputs (Tensor): ``B x 3 x H x W`` normalised images.

        Returns:
            list[Tensor]: The multi-level features.
        """
        if self.channels_last:
            inputs = inputs.contiguous(memory_format=torch.channels_last)
        feats = self.backbone(inputs)
        return self.neck(feats) if self.neck is not None else feats

    def raw_head_outputs(self,
                         feats,
                         tasks: Sequence[str],
                         input_size=None) -> Dict[str, Tensor]:
        """Raw head outputs at the heads' (decode) resolution.

        Args:
            feats (list[Tensor]): Features of :meth:`extract_feat`.
            tasks (Sequence[str]): Tasks whose heads run.
            input_size (tuple[int, int], optional): Unused (the heads'
                resolution follows the features); a teacher whose outputs
                depend on it (HeteroLifelongTeacher) takes the same call.

        Returns:
            dict[str, Tensor]: ``{task: B x C x h x w}``, not activated.
        """
        return {task: self.heads[task](feats) for task in tasks}

    def outputs_from_raw(self,
                         raw: Dict[str, Tensor],
                         tasks: Sequence[str],
                         size,
                         zoom: Optional[Tensor] = None) -> Dict[str, Tensor]:
        """Task outputs at ``size`` from raw head outputs.

        Args:
            raw (dict[str, Tensor]): Outputs of :meth:`raw_head_outputs`
                (pre-activation, decode resolution).
            tasks (Sequence[str]): Tasks to convert.
            size (tuple[int, int]): Output ``(H, W)``, the padded input
                size.
            zoom (Tensor, optional): ``B`` factors dividing the outputs of
                a ``zoom_divides`` task (depth), as a scale-crop divides its
                labels (a :class:`~had_mm.models.distill.TeacherRaw`'s).

        Returns:
            dict[str, Tensor]: Semantic logits, depth in metres, unit
            normals, saliency logits, each ``B x C x H x W``.
        """
        outs = {}
        for task in tasks:
            head = self.heads[task]
            if isinstance(head, DenseTaskHead):
                outs[task] = head.predict_by_feat(raw[task], size)
            else:
                outs[task] = resize_map(raw[task], size, 'bilinear',
                                        self.align_corners)
            if zoom is not None and get_task(task).zoom_divides:
                # in the output's dtype: a bf16 output stays bf16 under AMP
                outs[task] = outs[task] / zoom.to(outs[task]).view(-1, 1, 1, 1)
        return outs

    def head_outputs(self, feats, tasks: Sequence[str],
                     size) -> Dict[str, Tensor]:
        """Task outputs at ``size``: semantic logits, depth in metres, unit
        normals, saliency logits."""
        return self.outputs_from_raw(
            self.raw_head_outputs(feats, tasks), tasks, size)

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
                t for t in self.tasks if all(
                    get_task(t).label_field in s for s in data_samples)
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
        if self.teacher is not None:
            losses.update(self._distill_losses(inputs, feats, data_samples))
        return losses

    def _distill_losses(
        self,
        inputs: Tensor,
        feats,
        data_samples: Optional[List[SegDataSample]] = None
    ) -> Dict[str, Tensor]:
        loss_fns, weight = self._distill
        old = [t for t in self.tasks if t in loss_fns]
        size = inputs.shape[2:]
        # this model's heads turn the teacher's raw outputs into task
        # outputs (the same post-processing as a copy's own heads)
        with torch.no_grad():
            t_raw = self._teacher_source.raw_outputs(inputs, data_samples, old)
            t_out = self.outputs_from_raw(t_raw.raw, old, size, t_raw.zoom)
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
        # samples of one (image, original) size are cropped and resized
        # together: one interpolation per task and size, not per image
        groups: Dict[tuple, List[int]] = {}
        for i, sample in enumerate(data_samples):
            h, w = sample.metainfo.get('img_shape', inputs.shape[2:])
            ori = sample.metainfo.get('ori_shape', (h, w))
            groups.setdefault((h, w, *ori), []).append(i)
        for (h, w, *ori), idx in groups.items():
            rows = None if len(idx) == len(data_samples) else \
                torch.as_tensor(idx, device=inputs.device)
            for task in tasks:
                out = outs[task] if rows is None else outs[task][rows]
                out = out[:, :, :h, :w]  # drop the padding
                if tuple(out.shape[-2:]) != tuple(ori):
                    out = resize_map(out, ori, 'bilinear', self.align_corners)
                    # e.g. unit normals again after the interpolation
                    out = get_task(task).renormalize(out)
                self._set_predictions(task, out,
                                      [data_samples[i] for i in idx])
        return data_samples

    def _set_predictions(self, task: str, outs: Tensor,
                         samples: List[SegDataSample]) -> None:
        """Store a batch of one task's outputs in the samples' fields.

        Args:
            task (str): The task.
            outs (Tensor): ``B x C x H x W`` outputs at the original size.
            samples (list[SegDataSample]): The ``B`` samples.
        """
        head = self.heads[task]
        if isinstance(head, DenseTaskHead):
            for out, sample in zip(outs, samples):
                sample.set_data(head.to_pixel_data(out))
            return
        labels = outs.argmax(dim=1, keepdim=True)
        for out, label, sample in zip(outs, labels, samples):
            sample.set_data(
                dict(
                    seg_logits=PixelData(data=out),
                    pred_sem_seg=PixelData(data=label)))

    def _forward(
        self,
        inputs: Tensor,
        data_samples: Optional[List[SegDataSample]] = None
    ) -> Dict[str, Tensor]:
        return self.encode_decode(inputs, [])
