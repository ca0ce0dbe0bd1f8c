"""A teacher of another architecture family for the lifelong loop."""
from typing import Dict, List, Optional, Sequence, Tuple, Union

import torch
import torch.nn as nn
from mmengine.logging import print_log
from mmengine.model import BaseModule
from mmseg.utils import ConfigType
from torch import Tensor

from had_mm.registry import MODELS
from .recorders import RecorderManager
from .teacher_adapter import TeacherAdapter, probe_stages
from .teacher_utils import build_frozen_teacher


@MODELS.register_module()
class HeteroLifelongTeacher(BaseModule):
    """A frozen model of another family that supplies HAD's pseudo-labels.

    In the plain lifelong loop the teacher of phase ``t`` is the model
    itself at the end of phase ``t - 1``. With this teacher it is a frozen
    model of another architecture family (e.g. a SegFormer for a ResNet
    student), built from its own config and checkpoint; recorders capture
    its stage features (forward hooks, no edits to its code), and one
    teacher adapter per task (docs/methods/heteroakd.md, section 1: a
    ``3x3 conv - BN - ReLU - 1x1 conv`` projector per stage, summed, at the
    student's decode resolution) turns them into that task's raw head
    output. The adapter of task ``t`` is fitted at the end of phase ``t``
    on the phase's own data and labels (the student's task loss, so the
    adapter's output means what the student's head output means), then
    frozen. In later phases one frozen teacher pass plus the old adapters
    give the pseudo-labels of every old task, post-processed by the
    student's own heads (depth activation, normal normalisation).

    The teacher's backbone never trains, so an old task's pseudo-labels do
    not drift from phase to phase as a self-teacher's do; their quality is
    capped by how well frozen features of that family serve the task.

    It offers what :meth:`HeterogeneousDensePredictor.set_distillation`
    needs of a teacher (``heads``, ``extract_feat``, ``head_outputs``,
    ``clear_distillation``), so the predictor distils from it unchanged.
    The frozen model is not a child module: ``state_dict()`` holds the
    adapters only (the lifelong checkpoint carries them).

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
        fit_lr (float): Adam learning rate of the fitting. Defaults to 1e-3.
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
        # a plain attribute: not a child, so in no state dict or optimizer
        object.__setattr__(self, 'teacher', teacher)
        self.recorders = RecorderManager(recorders)
        self.recorders.initialize(teacher, 'teacher')
        self.stages = [dict(s) for s in stages]
        self.channels = channels
        self.fit_iters = fit_iters
        self.fit_lr = fit_lr
        self.probe = probe_stages(teacher, self.recorders, self.stages,
                                  tuple(dry_run_size))
        # one adapter per task, added by :meth:`add_task`
        self.adapters = nn.ModuleDict()
        # the student (its heads post-process adapter outputs), set by fit
        # and load_lifelong_state; kept out of this module's children
        object.__setattr__(self, '_student', None)
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

    def clear_distillation(self) -> None:
        """Nothing to clear (the predictor calls this on any teacher)."""

    # ------------------------------------------------------------- forward
    def train(self, mode: bool = True) -> 'HeteroLifelongTeacher':
        """The frozen model and the fitted adapters stay in eval mode (only
        :meth:`fit` trains an adapter)."""
        super().train(mode)
        self.teacher.eval()
        for task in self._fitted_tasks:
            self.adapters[task].eval()
        return self

    def _apply(self, fn, *args, **kwargs):
        super()._apply(fn, *args, **kwargs)
        self.teacher._apply(fn, *args, **kwargs)
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

    def outputs_from_raw(self, raw: Dict[str, Tensor], tasks: Sequence[str],
                         size) -> Dict[str, Tensor]:
        """Task outputs at ``size`` from raw outputs, post-processed by the
        student's heads (depth activation, normal normalisation).

        Args:
            raw (dict[str, Tensor]): Outputs of :meth:`raw_head_outputs`.
            tasks (Sequence[str]): Tasks to convert.
            size (tuple[int, int]): Output ``(H, W)``.

        Returns:
            dict[str, Tensor]: As the student's ``outputs_from_raw``.
        """
        return self._student.outputs_from_raw(raw, tasks, size)

    def head_outputs(self, feats: Sequence[Tensor], tasks: Sequence[str],
                     size) -> Dict[str, Tensor]:
        """Pseudo-labels of ``tasks`` at ``size`` (as the student's
        :meth:`head_outputs`: logits, depth in metres, unit normals)."""
        return self.outputs_from_raw(
            self.raw_head_outputs(feats, tasks, size), tasks, size)

    # ------------------------------------------------------------- fitting
    def fit(self, task: str, student: nn.Module, batches, num_iters: int,
            preprocess) -> Dict[str, float]:
        """Fit the adapter of ``task`` on a phase's data, then freeze it.

        Args:
            task (str): The phase's task.
            student (nn.Module): The student predictor (its head of
                ``task`` gives the loss and the post-processing).
            batches (Iterator): Yields raw data batches of the phase.
            num_iters (int): Iterations when ``fit_iters`` is None.
            preprocess (callable): ``data_batch -> dict(inputs,
                data_samples)`` (the student's data preprocessor).

        Returns:
            dict[str, float]: The last iteration's losses.
        """
        head = student.heads[task]
        # the student's heads turn adapter outputs into task outputs
        object.__setattr__(self, '_student', student)
        self.add_task(task, head, _decode_stride(student))
        adapter = self.adapters[task]
        adapter.requires_grad_(True)
        adapter.train()
        optimizer = torch.optim.Adam(adapter.parameters(), lr=self.fit_lr)
        iters = self.fit_iters or num_iters
        last = {}
        for _ in range(iters):
            data = preprocess(next(batches))
            inputs, samples = data['inputs'], data['data_samples']
            raw = self._adapt(task, self.extract_feat(inputs),
                              inputs.shape[2:])
            losses = head.loss_by_feat(raw, samples)
            losses = {k: v for k, v in losses.items() if 'loss' in k}
            optimizer.zero_grad()
            sum(losses.values()).backward()
            optimizer.step()
            last = {k: float(v) for k, v in losses.items()}
        adapter.zero_grad(set_to_none=True)
        adapter.requires_grad_(False)
        adapter.eval()
        if task not in self._fitted_tasks:
            self._fitted_tasks.append(task)
        print_log(
            f'heterogeneous teacher ({self.teacher_name}): fitted the {task} '
            f'adapter in {iters} iterations, last loss ' +
            ', '.join(f'{k} {v:.4f}' for k, v in last.items()),
            logger='current')
        return last

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
        """Restore :meth:`lifelong_state` for ``student``'s heads."""
        object.__setattr__(self, '_student', student)
        for task, weights in state['adapters'].items():
            self.add_task(task, student.heads[task], _decode_stride(student))
            self.adapters[task].load_state_dict(weights)
            self.adapters[task].requires_grad_(False)
        self._fitted_tasks = list(state['fitted_tasks'])
        self.train(self.training)


def _decode_stride(student: nn.Module, size: int = 64) -> int:
    """The student's head output stride, from a dry forward of one head."""
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
