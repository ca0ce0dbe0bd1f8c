from typing import Dict, Optional, Sequence, Tuple

import torch.nn as nn
from torch import Tensor

from .base_distill import BaseDistill, soft_kl
from .distill_inputs import DistillInputs


class BaseFeatureDistill(BaseDistill):
    """Base of the feature distillation modes (FitNets, ReviewKD).

    Holds the teacher's shape (``teacher_dims``, ``teacher_num_layers``,
    filled in by :class:`ContinualDistiller`), maps student layers to
    teacher layers and gives the logit terms shared by the feature modes:
    ``loss_ce = (1 - a) CE(last(CLS), y)`` and, for ``a > 0``, ``loss_kd =
    a T^2 KL(softmax(z_T / T) || softmax(last(CLS) / T))``, both over the
    current task's classes (as :class:`LogitKD`; the KDP authors add it to
    their FitNets and ReviewKD baselines). ``a = 0`` leaves CE and the
    feature term only. Inference uses ``last(CLS)``.

    Args:
        teacher_dims (int, optional): The teacher ViT's width. Defaults to
            None: ``embed_dims``.
        teacher_num_layers (int, optional): The teacher ViT's depth.
            Defaults to None: ``num_layers``.
        **kwargs: :class:`BaseDistill`'s ``embed_dims``, ``num_classes``,
            ``num_layers`` (required here), ``alpha`` (weight ``a`` of the
            logit KD term), ``temperature``, ``init_cfg``.
    """

    needs_teacher_shape = True

    def __init__(self,
                 teacher_dims: Optional[int] = None,
                 teacher_num_layers: Optional[int] = None,
                 **kwargs) -> None:
        super().__init__(**kwargs)
        if self.num_layers is None:
            raise ValueError(f'{type(self).__name__}: needs num_layers (the '
                             f'student depth; the classifier fills it in)')
        self.teacher_dims = int(teacher_dims or self.embed_dims)
        self.teacher_num_layers = int(teacher_num_layers or self.num_layers)

    def resolve_layer(self, layer: int, depth: int, name: str) -> int:
        """A layer index in ``[0, depth)`` (negative ones count from the
        end).

        Args:
            layer (int): The index given.
            depth (int): The ViT depth.
            name (str): The argument's name, for the message.

        Returns:
            int: The non-negative index.
        """
        if not -depth <= int(layer) < depth:
            raise ValueError(f'{type(self).__name__}: {name}={layer} lies '
                             f'beyond the depth {depth} (valid layers are '
                             f'0..{depth - 1}, or -{depth}..-1)')
        return int(layer) % depth

    def map_layer(self, layer: int) -> int:
        """The teacher layer at the same relative depth as student
        ``layer``: ``round((layer + 1) Lt / Ls) - 1``.

        Args:
            layer (int): A student layer in ``[0, Ls)``.

        Returns:
            int: A teacher layer in ``[0, Lt)``.
        """
        mapped = round(
            (layer + 1) * self.teacher_num_layers / self.num_layers) - 1
        return min(max(mapped, 0), self.teacher_num_layers - 1)

    def resolve_layers(self, student: Sequence[int],
                       teacher: Optional[Sequence[int]],
                       names: Tuple[str, str]) -> Tuple[tuple, tuple]:
        """Check the student layers and the matching teacher layers.

        Args:
            student (Sequence[int]): Student layers.
            teacher (Sequence[int], optional): Teacher layers, one per
                student layer; None maps each student layer
                (:meth:`map_layer`).
            names (tuple[str, str]): The two arguments' names.

        Returns:
            tuple[tuple, tuple]: The student and teacher layers.
        """
        student = tuple(
            self.resolve_layer(i, self.num_layers, names[0]) for i in student)
        if teacher is None:
            teacher = tuple(self.map_layer(i) for i in student)
        else:
            teacher = tuple(
                self.resolve_layer(i, self.teacher_num_layers, names[1])
                for i in teacher)
        if len(teacher) != len(student):
            raise ValueError(
                f'{type(self).__name__}: {names[1]}={list(teacher)} must '
                f'give one teacher layer per student layer ({names[0]}='
                f'{list(student)})')
        return student, teacher

    def check_teacher(self, teacher_vit: nn.Module,
                      student_vit: nn.Module) -> None:
        """Check the teacher's width, depth and patch grid.

        Args:
            teacher_vit (nn.Module): The teacher's backbone ViT.
            student_vit (nn.Module): The student's backbone ViT.
        """
        name = type(self).__name__
        if teacher_vit.embed_dims != self.teacher_dims:
            raise ValueError(
                f'{name}: teacher_dims={self.teacher_dims} but the teacher '
                f'ViT is {teacher_vit.embed_dims} wide; set '
                f'distill.teacher_dims={teacher_vit.embed_dims} (or leave '
                f'it out in a ContinualDistiller)')
        if teacher_vit.num_layers != self.teacher_num_layers:
            raise ValueError(
                f'{name}: teacher_num_layers={self.teacher_num_layers} but '
                f'the teacher ViT has {teacher_vit.num_layers} layers; set '
                f'distill.teacher_num_layers={teacher_vit.num_layers} (or '
                f'leave it out in a ContinualDistiller)')
        grids = (tuple(teacher_vit.patch_resolution),
                 tuple(student_vit.patch_resolution))
        if grids[0] != grids[1]:
            raise ValueError(
                f'{name}: the teacher\'s patch grid {grids[0]} differs from '
                f'the student\'s {grids[1]}; feature distillation needs the '
                f'same img_size / patch_size in both ViTs')

    def logit_terms(self, inputs: DistillInputs) -> Dict[str, Tensor]:
        """``loss_ce`` and (for ``a > 0``) ``loss_kd`` on ``last(CLS)``.

        Args:
            inputs (DistillInputs): The outputs and labels.

        Returns:
            dict[str, Tensor]: The weighted terms.
        """
        losses = dict(loss_ce=(1 - self.alpha) * inputs.ce(inputs.cls_logits))
        if self.alpha > 0:
            losses['loss_kd'] = self.alpha * soft_kl(
                inputs.task_logits(inputs.cls_logits),
                inputs.task_logits(inputs.teacher_logits), self.temperature)
        return losses

    def check_features(self, inputs: DistillInputs, owner: str) -> None:
        """Check that the features of every needed layer were given.

        Args:
            inputs (DistillInputs): With ``student_feats`` and
                ``teacher_feats``.
            owner (str): The mode's name, for the message.
        """
        for who, feats, layers in (('student', inputs.student_feats,
                                    self.student_layers),
                                   ('teacher', inputs.teacher_feats,
                                    self.teacher_layers)):
            missing = [i for i in layers if i not in (feats or {})]
            if missing:
                raise ValueError(
                    f'{owner}.loss: the {who} features of layers {missing} '
                    f'are missing (the classifier passes {who}_feats for '
                    f'{who}_layers)')
