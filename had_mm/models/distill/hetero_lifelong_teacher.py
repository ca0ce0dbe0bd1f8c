"""A teacher of another architecture family for the lifelong loop."""
from typing import Dict, Iterator, List, Optional, Sequence, Tuple, Union

import torch
import torch.nn as nn
from mmengine.model import BaseModule
from mmseg.utils import ConfigType
from torch import Tensor

from had_mm.registry import MODELS
from .frozen_teacher import FrozenTeacherMixin
from .recorders import RecorderManager
from .teacher_adapter import TeacherAdapter, probe_stages
from .teacher_utils import build_frozen_teacher


@MODELS.register_module()
class HeteroLifelongTeacher(FrozenTeacherMixin, BaseModule):
    """A frozen model of another family that supplies HAD's pseudo-labels.

    In the plain lifelong loop the teacher of phase ``t`` is the model
    itself at the end of phase ``t - 1``. With this teacher it is a frozen
    model of another architecture family (e.g. a SegFormer for a ResNet
    student), built from its own config and checkpoint; recorders capture
    its stage features (forward hooks, no edits to its code), and one
    teacher adapter per task (docs/en/methods/heteroakd.md, section 1: a
    ``3x3 conv - BN - ReLU - 1x1 conv`` projector per stage, summed, at the
    student's decode resolution) turns them into that task's raw head
    output. The adapter of task ``t`` is fitted at the end of phase ``t``
    on the phase's own data and labels (the student's task loss, so the
    adapter's output means what the student's head output means), then
    frozen. In later phases one frozen teacher pass plus the old adapters
    give the raw outputs of every old task, which the student's own heads
    post-process into pseudo-labels (depth activation, normal
    normalisation).

    The fitting itself is driven by the loop
    (:func:`~had_mm.engine.distill.fit_teacher_adapter`, through an
    mmengine ``OptimWrapper``): this module only offers its steps,
    :meth:`begin_fit`, :meth:`adapter_parameters`, :meth:`adapter_loss`
    and :meth:`end_fit`. It keeps no reference to the student: what it
    needs of it (the task head, its decode stride) comes as arguments.

    The teacher's backbone never trains, so an old task's pseudo-labels do
    not drift from phase to phase as a self-teacher's do; their quality is
    capped by how well frozen features of that family serve the task.

    It offers what :meth:`HeterogeneousDensePredictor.attach_teacher`
    needs of a teacher (``heads``, ``extract_feat``, ``raw_head_outputs``).
    The frozen model is held through :class:`FrozenTeacherMixin` (as
    :attr:`teacher`), not as a child module: ``state_dict()`` holds the
    adapters only (the lifelong checkpoint carries them), and ``.to()``
    moves the frozen model too.

    Args:
        teacher_cfg (str | dict): Config file (or model dict) of the
            teacher: any mmseg segmentor or had_mm predictor.
        teacher_ckpt (str): Its checkpoint (required).
        recorders (dict): Recorders on the teacher, ``name -> config``;
            they must fire in its ``extract_feat`` (backbone or neck).
        stages (list[dict]): Stages the adapters project,
            ``dict(recorder=NAME, data_idx=None)`` each.
        channels (int): Hidden channels of the projectors. Defaults to 64.
        fit_iters (int, optional): Iterations fitting a task's adapter at
            the end of its phase. Defaults to None (the phase's own count).
        fit_lr (float): Adam learning rate of the fitting (when
            ``fit_optim_wrapper`` is None). Defaults to 1e-3.
        fit_optim_wrapper (dict, optional): The ``OptimWrapper`` config of
            the fitting, e.g. ``dict(type='AmpOptimWrapper',
            optimizer=dict(type='Adam', lr=1e-3))``. Defaults to None:
            ``dict(type='OptimWrapper', optimizer=dict(type='Adam',
            lr=fit_lr))``.
        dry_run_size (tuple[int, int]): Image size of the dry forward that
            reads the stages' channels and strides. Defaults to (64, 64).
        init_cfg (dict, optional): Initialisation config.
    """

    def __init__(self,
                 teacher_cfg: Union[str, ConfigType],
                 teacher_ckpt: Optional[str],
                 recorders: Dict[str, dict],
                 stages: Sequence[dict],
                 channels: int = 64,
                 fit_iters: Optional[int] = None,
                 fit_lr: float = 1e-3,
                 fit_optim_wrapper: Optional[dict] = None,
                 dry_run_size: Tuple[int, int] = (64, 64),
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg)
        if not stages:
            raise ValueError('stages is empty: name at least one recorded '
                             "stage, e.g. [dict(recorder='stages', "
                             'data_idx=3)]')
        if fit_iters is not None and fit_iters < 1:
            raise ValueError(f'fit_iters must be >= 1, got {fit_iters}')
        teacher, _, self.teacher_name = build_frozen_teacher(
            teacher_cfg, teacher_ckpt, 'train_cfg.teacher.teacher_ckpt')
        # held by the mixin: not a child, so in no state dict or optimizer
        self.attach_teacher(teacher)
        self.recorders = RecorderManager(recorders)
        self.recorders.initialize(teacher, 'teacher')
        self.stages = [dict(s) for s in stages]
        self.channels = channels
        self.fit_iters = fit_iters
        self.fit_lr = fit_lr
        self.fit_optim_wrapper = fit_optim_wrapper
        self.probe = probe_stages(teacher, self.recorders, self.stages,
                                  tuple(dry_run_size))
        # one adapter per task, added by :meth:`add_task`
        self.adapters = nn.ModuleDict()
        self._fitted_tasks: List[str] = []

    # ------------------------------------------------------------ adapters
    def add_task(self, task: str, head: nn.Module, out_stride: int) -> None:
        """Create the adapter of ``task`` for a student head.

        Args:
            task (str): The task.
            head (nn.Module): The student's head of the task (its output
                channels set the adapter's).
            out_stride (int): The student's decode stride.
        """
        if task in self.adapters:
            return
        out_channels = getattr(head, 'out_channels', None)
        if out_channels is None:
            raise ValueError(f'the student head of {task} has no '
                             f'out_channels')
        device = next(self.teacher.parameters()).device
        self.adapters[task] = TeacherAdapter(
            in_channels=self.probe['channels'],
            num_classes=int(out_channels),
            stages=self.stages,
            channels=self.channels,
            in_strides=self.probe['strides'],
            out_stride=out_stride).to(device)

    @property
    def heads(self) -> Dict[str, TeacherAdapter]:
        """Adapters already fitted: the tasks this teacher can teach."""
        return {t: self.adapters[t] for t in self._fitted_tasks}

    @property
    def fitted_tasks(self) -> List[str]:
        """Tasks whose adapter is fitted, in phase order."""
        return list(self._fitted_tasks)

    @property
    def fit_optim_wrapper_cfg(self) -> dict:
        """dict: The ``OptimWrapper`` config of the adapter fitting."""
        if self.fit_optim_wrapper is not None:
            return dict(self.fit_optim_wrapper)
        return dict(
            type='OptimWrapper', optimizer=dict(type='Adam', lr=self.fit_lr))

    def num_fit_iters(self, phase_iters: int) -> int:
        """Iterations of a fitting: ``fit_iters``, else the phase's.

        Args:
            phase_iters (int): The phase's iterations.

        Returns:
            int: The iterations.
        """
        return int(self.fit_iters or phase_iters)

    # ------------------------------------------------------------- forward
    def train(self, mode: bool = True) -> 'HeteroLifelongTeacher':
        """The frozen model and the fitted adapters stay in eval mode (only
        a fitting trains an adapter)."""
        super().train(mode)
        for task in self._fitted_tasks:
            self.adapters[task].eval()
        return self

    @torch.no_grad()
    def extract_feat(self, inputs: Tensor) -> List[Tensor]:
        """The recorded stage maps of one frozen teacher pass."""
        with self.recorders.recording():
            self.teacher.extract_feat(inputs)
        feats = [
            self.recorders.get_record_data(s['recorder'], 0, s.get('data_idx'))
            for s in self.stages
        ]
        self.recorders.reset_data()
        return feats

    def _adapt(self, task: str, feats: Sequence[Tensor],
               input_size: Sequence[int]) -> Tensor:
        adapter = self.adapters[task]
        return torch.stack(
            adapter(feats, adapter.output_size(input_size)), dim=0).sum(dim=0)

    def raw_head_outputs(self, feats: Sequence[Tensor], tasks: Sequence[str],
                         input_size) -> Dict[str, Tensor]:
        """The fitted adapters' raw outputs, at the student's decode
        resolution (what the pseudo-label cache stores).

        Args:
            feats (list[Tensor]): Maps of :meth:`extract_feat`.
            tasks (Sequence[str]): Tasks (fitted adapters).
            input_size (tuple[int, int]): The padded input size.

        Returns:
            dict[str, Tensor]: ``{task: B x C x h x w}``, not activated.
        """
        missing = [t for t in tasks if t not in self._fitted_tasks]
        if missing:
            raise RuntimeError(
                f'the heterogeneous teacher has no fitted adapter for '
                f'{missing} (fitted: {self._fitted_tasks})')
        return {task: self._adapt(task, feats, input_size) for task in tasks}

    def head_outputs(self, feats: Sequence[Tensor], tasks: Sequence[str], size,
                     student: nn.Module) -> Dict[str, Tensor]:
        """Pseudo-labels of ``tasks`` at ``size``, post-processed by the
        heads of ``student`` (as its :meth:`head_outputs`: logits, depth in
        metres, unit normals).

        Args:
            feats (list[Tensor]): Maps of :meth:`extract_feat`.
            tasks (Sequence[str]): Tasks (fitted adapters).
            size (tuple[int, int]): Output ``(H, W)``, the padded input
                size.
            student (nn.Module): The student predictor (its
                ``outputs_from_raw``); not stored.

        Returns:
            dict[str, Tensor]: ``{task: B x C x H x W}``.
        """
        return student.outputs_from_raw(
            self.raw_head_outputs(feats, tasks, size), tasks, size)

    # ------------------------------------------------------------- fitting
    def begin_fit(self, task: str, head: nn.Module,
                  out_stride: int) -> TeacherAdapter:
        """Make the adapter of ``task`` trainable (created if new).

        Args:
            task (str): The phase's task.
            head (nn.Module): The student's head of ``task`` (its output
                channels; its ``loss_by_feat`` is the fitting loss).
            out_stride (int): The student's decode stride (see
                :func:`decode_stride`).

        Returns:
            TeacherAdapter: The adapter, in training mode with gradients.
        """
        self.add_task(task, head, out_stride)
        adapter = self.adapters[task]
        adapter.requires_grad_(True)
        adapter.train()
        return adapter

    def adapter_parameters(self, task: str) -> Iterator[nn.Parameter]:
        """The parameters a fitting of ``task`` optimises.

        Args:
            task (str): The task.

        Returns:
            Iterator[nn.Parameter]: Its adapter's parameters.
        """
        return self.adapters[task].parameters()

    def adapter_loss(self, task: str, head: nn.Module, inputs: Tensor,
                     data_samples: Sequence) -> Dict[str, Tensor]:
        """The fitting loss of ``task``'s adapter on one batch.

        One frozen teacher pass, the adapter's raw output at the student's
        decode resolution and the student head's task loss on it (so the
        adapter's output means what the student's head output means).

        Args:
            task (str): The task.
            head (nn.Module): The student's head of ``task``.
            inputs (Tensor): ``B x 3 x H x W`` preprocessed images.
            data_samples (Sequence[SegDataSample]): With the task's labels.

        Returns:
            dict[str, Tensor]: The head's loss terms (keys with ``loss``).
        """
        raw = self._adapt(task, self.extract_feat(inputs), inputs.shape[2:])
        losses = head.loss_by_feat(raw, data_samples)
        return {k: v for k, v in losses.items() if 'loss' in k}

    def end_fit(self, task: str) -> None:
        """Freeze the adapter of ``task`` and count it as fitted.

        Args:
            task (str): The task.
        """
        adapter = self.adapters[task]
        adapter.zero_grad(set_to_none=True)
        adapter.requires_grad_(False)
        adapter.eval()
        if task not in self._fitted_tasks:
            self._fitted_tasks.append(task)

    # ------------------------------------------------------ state carrying
    def lifelong_state(self) -> dict:
        """Adapters and fitted tasks, for the lifelong checkpoint."""
        return dict(
            fitted_tasks=list(self._fitted_tasks),
            adapters={
                t: a.state_dict()
                for t, a in self.adapters.items()
            })

    def load_lifelong_state(self, state: dict, student: nn.Module) -> None:
        """Restore :meth:`lifelong_state` for ``student``'s heads.

        Args:
            state (dict): Of :meth:`lifelong_state`.
            student (nn.Module): The student predictor (its heads shape the
                adapters); not stored.
        """
        for task, weights in state['adapters'].items():
            self.add_task(task, student.heads[task], decode_stride(student))
            self.adapters[task].load_state_dict(weights)
            self.adapters[task].requires_grad_(False)
        self._fitted_tasks = list(state['fitted_tasks'])
        self.train(self.training)


def decode_stride(student: nn.Module, size: int = 64) -> int:
    """The student's head output stride, from a dry forward of one head.

    Args:
        student (nn.Module): The student predictor.
        size (int): Side of the dry-run image. Defaults to 64.

    Returns:
        int: The stride of its head outputs.
    """
    param = next(student.parameters())
    was_training = student.training
    student.eval()
    try:
        with torch.no_grad():
            feats = student.extract_feat(
                torch.zeros(1, 3, size, size, device=param.device))
            head = next(iter(student.heads.values()))
            raw = head(feats)
    finally:
        student.train(was_training)
    return max(1, round(size / raw.shape[-2]))
