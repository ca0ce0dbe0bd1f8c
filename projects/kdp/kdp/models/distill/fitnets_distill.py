from typing import Dict, Optional, Tuple

import torch.nn as nn
from torch import Tensor

from had_mm.registry import MODELS
from ..losses import HintLoss
from .base_feature_distill import BaseFeatureDistill
from .distill_inputs import DistillInputs


@MODELS.register_module()
class FitNetsDistill(BaseFeatureDistill):
    """FitNets: a feature hint on one ViT layer through a learned
    regressor.

    The output tokens (class token and patch tokens) of the student's
    layer ``student_layer`` go through a linear regressor ``D_s -> D_t``
    and are pulled to the teacher's tokens of ``teacher_layer``:

    ``L = (1 - a) CE + a T^2 KL(z_T || last(CLS)) + hint_weight mean((W
    f_s + b - f_t)^2)``

    (CE and KL over the current task's classes, see
    :class:`BaseFeatureDistill`; ``a = 0`` is the original FitNets loss,
    CE plus the hint, trained in one stage). The regressor is trained with
    the prompts and is not used at inference (``last(CLS)``). The defaults
    follow the KDP authors' FitNets baseline: the last layer, ``hint_weight
    = 0.1``, ``a = 0.5``, ``T = 2``.

    Args:
        alpha (float): Weight ``a`` of the logit KD term. Defaults to 0.5.
        temperature (float): Temperature ``T``. Defaults to 2.0.
        student_layer (int): The hinted student layer (negative: from the
            end). Defaults to -1 (the last).
        teacher_layer (int, optional): The hint layer of the teacher.
            Defaults to None: the same relative depth as ``student_layer``
            (:meth:`map_layer`).
        hint_weight (float): Weight of the hint. Defaults to 0.1.
        **kwargs: :class:`BaseFeatureDistill`'s ``teacher_dims``,
            ``teacher_num_layers`` and :class:`BaseDistill`'s
            ``embed_dims``, ``num_classes``, ``num_layers``, ``alpha``,
            ``temperature``, ``init_cfg``.
    """

    def __init__(self,
                 student_layer: int = -1,
                 teacher_layer: Optional[int] = None,
                 hint_weight: float = 0.1,
                 **kwargs) -> None:
        super().__init__(**kwargs)
        student, teacher = self.resolve_layers(
            (student_layer, ), None if teacher_layer is None else
            (teacher_layer, ), ('student_layer', 'teacher_layer'))
        self.student_layer, self.teacher_layer = student[0], teacher[0]
        self.regressor = nn.Linear(self.embed_dims, self.teacher_dims)
        self.hint = HintLoss(loss_weight=hint_weight)

    @property
    def student_layers(self) -> Tuple[int, ...]:
        """tuple[int]: ``(student_layer, )``."""
        return (self.student_layer, )

    @property
    def teacher_layers(self) -> Tuple[int, ...]:
        """tuple[int]: ``(teacher_layer, )``."""
        return (self.teacher_layer, )

    def loss(self, inputs: DistillInputs) -> Dict[str, Tensor]:
        """``loss_ce``, ``loss_kd`` (for ``a > 0``) and ``loss_hint`` on
        the tokens of :attr:`student_layer` / :attr:`teacher_layer`."""
        self.check_features(inputs, 'FitNetsDistill')
        losses = self.logit_terms(inputs)
        losses['loss_hint'] = self.hint(
            self.regressor(inputs.student_feats[self.student_layer]),
            inputs.teacher_feats[self.teacher_layer])
        return losses
