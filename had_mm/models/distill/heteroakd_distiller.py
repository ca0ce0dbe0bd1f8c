"""A single-teacher distiller for any mmseg segmentor
(docs/en/methods/heteroakd.md, section 5)."""
import copy
import inspect
import logging
from typing import Dict, List, Optional, Sequence, Tuple, Union

import torch
import torch.nn as nn
from mmengine.config import ConfigDict
from mmengine.logging import print_log
from mmengine.model import BaseModel
from mmseg.utils import ConfigType, OptConfigType, SampleList
from torch import Tensor

from had_mm.registry import MODELS
from .frozen_teacher import FrozenTeacherMixin
from .recorders import RecorderManager
from .teacher_adapter import TeacherAdapter, probe_stages
from .teacher_utils import build_frozen_teacher, check_teacher_ckpt_path

LossSpec = Dict[str, Union[bool, int, str]]


@MODELS.register_module()
class HeteroAKDDistiller(FrozenTeacherMixin, BaseModel):
    """Distil a frozen teacher segmentor into any mmseg student segmentor.

    The teacher is built from its own config file and checkpoint, frozen
    (``requires_grad=False``) and always in eval mode (BN included, also
    after ``model.train()``). It is held by :class:`FrozenTeacherMixin`:
    kept out of ``named_parameters()``, ``state_dict()`` and
    ``init_weights()`` (not a submodule), so no optimizer sees it and
    checkpoints hold only the student and the adapters; ``.to()`` /
    ``.cuda()`` still move it.

    Recorders capture intermediate outputs of both models by module path
    (forward hooks; no edits to the backbones). Optional teacher adapters
    (:class:`TeacherAdapter`) project the recorded stages of each side into
    class logits at the student's decode resolution; their channels and
    strides come from a dry forward at build time. ``loss_forward_mappings``
    maps recorded outputs, projected logits and the labels to the
    arguments of every distillation loss. The total loss is::

        seg_loss_weight * L_seg + proj_loss_weight * L_proj
            + sum of distill_losses (each with its own loss_weight)

    e.g. ``L_seg + L_proj + 0.1 L_KD + L_HeteroAKD``. ``predict`` is the
    student's.

    Args:
        student (dict): Config of the student segmentor (any mmseg
            segmentor, e.g. ``EncoderDecoder``).
        teacher_cfg (str | dict): The teacher's config file (its ``model``
            is used) or the teacher's model config.
        teacher_ckpt (str): The teacher's checkpoint. Required; it must fit
            the teacher config exactly.
        student_recorders (dict, optional): ``name -> recorder config`` on
            the student, e.g. ``dict(type='ModuleOutputsRecorder',
            source='backbone.layer4')``.
        teacher_recorders (dict, optional): The same on the teacher.
        student_adapter (dict, optional): :class:`TeacherAdapter` config of
            the student with ``stages=[dict(recorder=NAME, data_idx=None),
            ...]``; ``in_channels``, strides and ``num_classes`` are filled
            in from a dry forward. Give both adapters or neither.
        teacher_adapter (dict, optional): The same for the teacher (as
            many stages as the student's; stage ``k`` is paired with the
            student's stage ``k``).
        distill_losses (dict, optional): ``name -> loss config``; names
            must contain ``loss``.
        loss_forward_mappings (dict, optional): ``name -> {argument:
            source}`` per distill loss, where a source is
            ``dict(from_student=bool, recorder=NAME, data_idx=None,
            record_idx=0)`` (a recorded output), ``dict(from_student=bool,
            adapter=True)`` (the list of projected stage logits) or
            ``dict(gt=True)`` (``B x H x W`` labels).
        seg_loss_weight (float): Weight of the student's own losses.
            Defaults to 1.0.
        proj_loss_weight (float): Weight of the projectors' CE (both
            sides). Defaults to 1.0.
        dry_run_size (tuple[int, int]): Image size of the build-time dry
            forward. Defaults to (64, 64).
        data_preprocessor (dict, optional): Used only when the student
            config has none: the student's own is the distiller's, so the
            student learns from the inputs it gets alone. mmengine's
            ``Runner`` copies a config's top-level ``data_preprocessor``
            here (e.g. a stock config's, padding to its 512x1024 crop);
            one that differs from the student's is left out with a
            one-line note naming the differences. Set
            ``student.data_preprocessor`` to change it.
        init_cfg (dict, optional): Initialisation config.
    """

    def __init__(self,
                 student: ConfigType,
                 teacher_cfg: Union[str, ConfigType],
                 teacher_ckpt: Optional[str] = None,
                 student_recorders: Optional[dict] = None,
                 teacher_recorders: Optional[dict] = None,
                 student_adapter: OptConfigType = None,
                 teacher_adapter: OptConfigType = None,
                 distill_losses: Optional[dict] = None,
                 loss_forward_mappings: Optional[dict] = None,
                 seg_loss_weight: float = 1.0,
                 proj_loss_weight: float = 1.0,
                 dry_run_size: Tuple[int, int] = (64, 64),
                 data_preprocessor: OptConfigType = None,
                 init_cfg: OptConfigType = None) -> None:
        # ConfigDict (attribute access), as mmseg segmentors expect
        student = ConfigDict(copy.deepcopy(student))
        check_teacher_ckpt_path(teacher_ckpt)
        data_preprocessor = _students_preprocessor(student, data_preprocessor)
        if isinstance(data_preprocessor, dict):
            data_preprocessor = MODELS.build(data_preprocessor)
        super().__init__(
            data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        self.seg_loss_weight = seg_loss_weight
        self.proj_loss_weight = proj_loss_weight
        self._padding_checked = False

        # the student first: its initialisation then matches the student
        # trained alone with the same seed
        self.student = MODELS.build(student)
        teacher, teacher_model_cfg, teacher_name = build_frozen_teacher(
            teacher_cfg,
            teacher_ckpt,
            before_load=lambda t, name: _check_same_classes(
                self.student, t, name))
        _warn_on_preprocessor_mismatch(student, teacher_model_cfg)
        # held by the mixin: not a submodule, so not in named_parameters(),
        # state_dict(), init_weights() or the optimizer
        self.attach_teacher(teacher)

        self.student_recorders = RecorderManager(student_recorders)
        self.teacher_recorders = RecorderManager(teacher_recorders)
        self.student_recorders.initialize(self.student, 'student')
        self.teacher_recorders.initialize(teacher, 'teacher')

        self.student_adapter: Optional[TeacherAdapter] = None
        self.teacher_adapter: Optional[TeacherAdapter] = None
        if (student_adapter is None) != (teacher_adapter is None):
            raise ValueError('give both student_adapter and teacher_adapter '
                             '(HeteroAKD pairs their stages) or neither.')
        if student_adapter is not None:
            self._build_adapters(student_adapter, teacher_adapter,
                                 tuple(dry_run_size))

        self.distill_losses = nn.ModuleDict()
        for name, cfg in (distill_losses or {}).items():
            if 'loss' not in name:
                raise ValueError(f'distill loss name "{name}" must contain '
                                 f'"loss" to be back-propagated')
            self.distill_losses[name] = MODELS.build(cfg)
        self.loss_forward_mappings = copy.deepcopy(
            dict(loss_forward_mappings or {}))
        self._check_mappings()

    # ---------------------------------------------------------------- build
    def _build_adapters(self, student_cfg: dict, teacher_cfg: dict,
                        dry_run_size: Tuple[int, int]) -> None:
        num_classes = getattr(self.student, 'num_classes', None)
        if num_classes is None:
            raise ValueError('the student has no num_classes; adapters need '
                             'the class count')
        built = []
        s_shapes = None
        for side, cfg, model, recorders in (('student', student_cfg,
                                             self.student,
                                             self.student_recorders),
                                            ('teacher', teacher_cfg,
                                             self.teacher,
                                             self.teacher_recorders)):
            cfg = copy.deepcopy(dict(cfg))
            stages = [dict(s) for s in cfg.pop('stages', None) or []]
            if not stages:
                raise ValueError(f'{side}_adapter needs stages=[dict('
                                 f'recorder=NAME, data_idx=None), ...]')
            for stage in stages:
                recorders.get_recorder(stage.get('recorder'))
            shapes = probe_stages(model, recorders, stages, dry_run_size)
            given = cfg.pop('in_channels', None)
            if given is not None and list(given) != shapes['channels']:
                raise ValueError(
                    f'{side}_adapter.in_channels={list(given)} but a dry '
                    f'forward gives {shapes["channels"]}; drop in_channels '
                    f'(it is read from the model).')
            if s_shapes is None:
                s_shapes = shapes
            cfg.setdefault('type', 'had_mm.TeacherAdapter')
            cfg.update(
                stages=stages,
                in_channels=shapes['channels'],
                in_strides=shapes['strides'],
                out_stride=s_shapes['out_stride'],
                num_classes=num_classes)
            built.append(MODELS.build(cfg))
        if len(built[0].projectors) != len(built[1].projectors):
            raise ValueError(
                f'student_adapter has {len(built[0].projectors)} stages but '
                f'teacher_adapter {len(built[1].projectors)}; stage k of '
                f'one is paired with stage k of the other.')
        self.student_adapter, self.teacher_adapter = built

    def _check_mappings(self) -> None:
        unmapped = set(self.distill_losses) - set(self.loss_forward_mappings)
        unknown = set(self.loss_forward_mappings) - set(self.distill_losses)
        if unmapped or unknown:
            raise ValueError(
                f'loss_forward_mappings must have one entry per distill '
                f'loss: missing {sorted(unmapped)}, unknown {sorted(unknown)}'
                f' (distill losses: {sorted(self.distill_losses)}).')
        for name, mapping in self.loss_forward_mappings.items():
            params = inspect.signature(
                self.distill_losses[name].forward).parameters
            named = {
                k: p
                for k, p in params.items()
                if p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL)
            }
            for arg, spec in mapping.items():
                if arg not in named:
                    raise ValueError(
                        f'loss_forward_mappings.{name}: '
                        f'{type(self.distill_losses[name]).__name__} has no '
                        f'argument "{arg}" (it takes {", ".join(named)}).')
                self._check_spec(f'loss_forward_mappings.{name}.{arg}', spec)
            required = [
                k for k, p in named.items()
                if p.default is p.empty and k not in mapping
            ]
            if required:
                raise ValueError(f'loss_forward_mappings.{name} does not map '
                                 f'the required argument(s) {required}.')

    def _check_spec(self, where: str, spec: LossSpec) -> None:
        if not isinstance(spec, dict):
            raise ValueError(f'{where} must be a dict, got {spec!r}')
        if spec.get('gt'):
            return
        if 'from_student' not in spec:
            raise ValueError(f'{where} needs from_student=True/False (or '
                             f'gt=True)')
        if spec.get('adapter'):
            if self.student_adapter is None:
                raise ValueError(f'{where} reads adapter outputs but the '
                                 f'distiller has no adapters')
            return
        recorders = self.student_recorders if spec['from_student'] \
            else self.teacher_recorders
        side = 'student' if spec['from_student'] else 'teacher'
        if spec.get('recorder') not in recorders:
            raise ValueError(f'{where}: no {side} recorder named '
                             f'"{spec.get("recorder")}"; {side} recorders: '
                             f'{", ".join(recorders.recorders) or "(none)"}.')

    # --------------------------------------------------------------- forward
    def forward(self,
                inputs: Tensor,
                data_samples: Optional[SampleList] = None,
                mode: str = 'tensor'):
        """``loss``: distillation losses; ``predict`` / ``tensor``: the
        student's.

        Args:
            inputs (Tensor): ``B x 3 x H x W`` preprocessed images.
            data_samples (list[SegDataSample], optional): Samples.
            mode (str): 'loss', 'predict' or 'tensor'.

        Returns:
            dict | list | Tensor: As mmseg segmentors return.
        """
        if mode == 'loss':
            return self.loss(inputs, data_samples)
        if mode == 'predict':
            return self.student.predict(inputs, data_samples)
        if mode == 'tensor':
            return self.student._forward(inputs, data_samples)
        raise RuntimeError(f'invalid mode "{mode}"; only supports loss, '
                           f'predict and tensor mode')

    def predict(self,
                inputs: Tensor,
                data_samples: Optional[SampleList] = None) -> SampleList:
        """The student's prediction."""
        return self.student.predict(inputs, data_samples)

    def loss(self, inputs: Tensor,
             data_samples: SampleList) -> Dict[str, Tensor]:
        """Student, projector and distillation losses.

        Args:
            inputs (Tensor): ``B x 3 x H x W`` preprocessed images.
            data_samples (list[SegDataSample]): With ``gt_sem_seg``.

        Returns:
            dict[str, Tensor]: ``decode.*`` (the student's own, times
            ``seg_loss_weight``), ``proj.{student,teacher}.loss_proj{k}``
            and ``distill.{name}``.
        """
        if not self._padding_checked:
            self._padding_checked = True
            _warn_on_padding(inputs, data_samples)
        losses: Dict[str, Tensor] = {}
        try:
            with self.student_recorders.recording():
                student_losses = self.student.loss(inputs, data_samples)
            for key, value in student_losses.items():
                if 'loss' in key:
                    value = _scale(value, self.seg_loss_weight)
                losses[key] = value
            if self.teacher.training:
                self.teacher.eval()
            with torch.no_grad(), self.teacher_recorders.recording():
                self.teacher._forward(inputs)
            gt = torch.stack(
                [sample.gt_sem_seg.data for sample in data_samples])[:, 0]
            projected = self._project(inputs, gt, losses)
            for name, loss_module in self.distill_losses.items():
                kwargs = {
                    arg: self._resolve(spec, projected, gt)
                    for arg, spec in self.loss_forward_mappings[name].items()
                }
                losses[f'distill.{name}'] = loss_module(**kwargs)
        finally:
            self.student_recorders.reset_data()
            self.teacher_recorders.reset_data()
        return losses

    def _project(self, inputs: Tensor, gt: Tensor,
                 losses: Dict[str, Tensor]) -> Dict[bool, List[Tensor]]:
        if self.student_adapter is None:
            return {}
        size = self.student_adapter.output_size(inputs.shape[-2:])
        s_logits = self.student_adapter(
            self.student_adapter.gather(self.student_recorders), size)
        t_feats = [
            f.detach()
            for f in self.teacher_adapter.gather(self.teacher_recorders)
        ]
        t_logits = self.teacher_adapter(t_feats, size)
        for side, adapter, logits in (('student', self.student_adapter,
                                       s_logits),
                                      ('teacher', self.teacher_adapter,
                                       t_logits)):
            for key, value in adapter.loss(logits, gt).items():
                losses[f'proj.{side}.{key}'] = _scale(value,
                                                      self.proj_loss_weight)
        return {True: s_logits, False: t_logits}

    def _resolve(self, spec: LossSpec, projected: Dict[bool, List[Tensor]],
                 gt: Tensor):
        if spec.get('gt'):
            return gt
        from_student = bool(spec['from_student'])
        if spec.get('adapter'):
            return projected[from_student]
        recorders = self.student_recorders if from_student \
            else self.teacher_recorders
        return recorders.get_record_data(spec['recorder'],
                                         spec.get('record_idx', 0),
                                         spec.get('data_idx'))


def _scale(value: Union[Tensor, Sequence[Tensor]],
           weight: float) -> Union[Tensor, List[Tensor]]:
    if isinstance(value, Tensor):
        return value * weight
    return [v * weight for v in value]


def _check_same_classes(student: nn.Module, teacher: nn.Module,
                        teacher_name: str) -> None:
    s_classes = getattr(student, 'num_classes', None)
    t_classes = getattr(teacher, 'num_classes', None)
    if s_classes is not None and t_classes is not None and \
            s_classes != t_classes:
        raise ValueError(
            f'the teacher ({teacher_name}) predicts {t_classes} classes but '
            f'the student {s_classes}; distillation needs the same classes '
            f'(set decode_head.num_classes alike).')


def _plain(value):
    """A config value with tuples as lists and dicts as plain dicts."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def _students_preprocessor(student_cfg: dict, given):
    """The distiller's data preprocessor: the student's own, else
    ``given``; a ``given`` config that differs from the student's is left
    out with a one-line note (mmengine's Runner copies a config's
    top-level ``data_preprocessor`` into the model config). A built module
    is never copied there: it is used."""
    own = student_cfg.get('data_preprocessor')
    if given is None or own is None:
        return own if given is None else given
    if not isinstance(given, dict):  # a built module: given on purpose
        return given
    own_plain, given_plain = _plain(own), _plain(given)
    diff = [
        f'{k}={given_plain.get(k)!r} vs {own_plain.get(k)!r}'
        for k in sorted(set(own_plain) | set(given_plain))
        if own_plain.get(k) != given_plain.get(k)
    ]
    if diff:
        print_log(
            f'HeteroAKDDistiller: model.data_preprocessor differs from the '
            f"student's ({'; '.join(diff)}; the model's first); the "
            f"student's is used, as the student alone uses it (mmengine's "
            f'Runner copies a top-level data_preprocessor into model); set '
            f'model.student.data_preprocessor to change it.',
            logger='current',
            level=logging.WARNING)
    return own


def _warn_on_padding(inputs: Tensor,
                     data_samples: SampleList,
                     limit: float = 0.5) -> None:
    """Warn once if most of a batch is padding (images much smaller than
    the preprocessor's ``size``)."""
    height, width = inputs.shape[-2:]
    total = height * width * len(data_samples)
    real = 0
    for sample in data_samples:
        h, w = sample.metainfo.get('img_shape', (height, width))[:2]
        real += min(int(h), height) * min(int(w), width)
    padding = 1 - real / max(total, 1)
    if padding > limit:
        shapes = sorted({
            tuple(int(v) for v in s.metainfo.get('img_shape', ())[:2])
            for s in data_samples
        })
        print_log(
            f'HeteroAKDDistiller: {100 * padding:.1f} % of the first '
            f'batch is padding (images {shapes} padded to '
            f'{(int(height), int(width))}): set the student\'s '
            f'data_preprocessor size to the training crop.',
            logger='current',
            level=logging.WARNING)


def _warn_on_preprocessor_mismatch(student_cfg: dict,
                                   teacher_cfg: dict) -> None:
    s_pre = student_cfg.get('data_preprocessor') or {}
    t_pre = teacher_cfg.get('data_preprocessor') or {}
    keys = ('mean', 'std', 'bgr_to_rgb', 'rgb_to_bgr')
    diff = [k for k in keys if k in t_pre and s_pre.get(k) != t_pre.get(k)]
    if diff:
        print_log(
            f'teacher and student normalise images differently '
            f'({", ".join(diff)}); the teacher sees the student\'s '
            f'preprocessed inputs during distillation.',
            logger='current',
            level=logging.WARNING)
