from typing import Dict, Optional, Tuple

import torch.nn as nn
import torch.nn.functional as F
from mmengine.model import BaseModule
from torch import Tensor

from ..utils import Prefixes, check_non_negative
from .distill_inputs import DistillInputs


def soft_kl(student_logits: Tensor, teacher_logits: Tensor,
            temperature: float) -> Tensor:
    """``T^2 * KL(softmax(t / T) || softmax(s / T))``, batch mean.

    Args:
        student_logits (Tensor): ``B x C`` student logits.
        teacher_logits (Tensor): ``B x C`` teacher logits.
        temperature (float): The temperature ``T``.

    Returns:
        Tensor: The scalar loss (summed over classes, mean over the batch).
    """
    log_p_student = F.log_softmax(student_logits / temperature, dim=1)
    p_teacher = F.softmax(teacher_logits.detach() / temperature, dim=1)
    kl = F.kl_div(log_p_student, p_teacher, reduction='batchmean')
    return kl * temperature**2


class BaseDistill(BaseModule):
    """Base of the distillation modes of ``PromptContinualClassifier``.

    A mode may add tokens at the input of layer 0 and prefix prompts
    (:meth:`prompts`), heads on those tokens' outputs (:meth:`token_logits`),
    decides the inference logits (:meth:`predict_logits`) and the loss
    against the teacher's CLS logits (:meth:`loss`). Its parameters are
    trained with the student's prompts and head.

    A feature mode (FitNets, ReviewKD) also names the layers whose output
    tokens it distils (:attr:`student_layers`, :attr:`teacher_layers`);
    the classifier then passes ``student_feats`` and ``teacher_feats``
    (``{layer: B x (1 + HW) x D}``, class token first, the mode's extra
    tokens dropped) and ``patch_resolution`` to :meth:`loss`. A mode with
    ``needs_teacher_shape = True`` takes ``teacher_dims`` and
    ``teacher_num_layers``, which :class:`ContinualDistiller` fills in
    from its teacher.

    Args:
        embed_dims (int): The student ViT's embedding dimension.
        num_classes (int): Number of classes of the whole sequence.
        num_layers (int, optional): The student ViT's depth. Defaults to
            None.
        alpha (float): Weight ``a`` of the distillation term; the CE term
            has ``1 - a``. Defaults to 0.5.
        temperature (float): Temperature ``T``. Defaults to 2.0.
        init_cfg (dict, optional): Initialisation config. Defaults to None.
    """

    #: Number of tokens appended at the input of layer 0.
    num_tokens = 0
    #: Whether ``__init__`` takes ``teacher_dims`` and ``teacher_num_layers``
    #: (filled in by :class:`ContinualDistiller` from its teacher).
    needs_teacher_shape = False
    #: Whether :meth:`loss` needs a teacher (False for a control without
    #: distillation, whose ``teacher_logits`` is None).
    needs_teacher = True
    #: Whether ``alpha`` mixes CE and KD (so must lie in [0, 1]).
    alpha_is_mix = True

    def __init__(self,
                 embed_dims: int,
                 num_classes: int,
                 num_layers: Optional[int] = None,
                 alpha: float = 0.5,
                 temperature: float = 2.0,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        if self.alpha_is_mix and not 0 <= alpha <= 1:
            raise ValueError(f'{type(self).__name__}: alpha={alpha} must be '
                             f'in [0, 1]')
        self.alpha = check_non_negative(alpha, 'alpha', type(self).__name__)
        self.temperature = check_non_negative(
            temperature, 'temperature', type(self).__name__, strict=True)
        self.embed_dims = embed_dims
        self.num_classes = num_classes
        self.num_layers = num_layers

    @property
    def student_layers(self) -> Tuple[int, ...]:
        """tuple[int]: The student layers whose outputs :meth:`loss` needs
        (none for a logit mode)."""
        return ()

    @property
    def teacher_layers(self) -> Tuple[int, ...]:
        """tuple[int]: The teacher layers whose outputs :meth:`loss` needs
        (none for a logit mode)."""
        return ()

    def check_depth(self, num_layers: int) -> None:
        """Check the prompt layers against the backbone depth.

        Args:
            num_layers (int): The backbone depth.
        """

    def check_teacher(self, teacher_vit: nn.Module,
                      student_vit: nn.Module) -> None:
        """Check that the teacher's ViT fits this mode (default: any).

        Args:
            teacher_vit (nn.Module): The teacher's backbone ViT.
            student_vit (nn.Module): The student's backbone ViT.
        """

    def prompts(self, batch_size: int) -> Tuple[Prefixes, Optional[Tensor]]:
        """Prefix prompts and extra tokens of this mode.

        Args:
            batch_size (int): The batch size ``B``.

        Returns:
            tuple[dict, Tensor | None]: Per-layer prefixes (may be empty)
            and ``B x num_tokens x D`` tokens (None if ``num_tokens`` is 0).
        """
        return {}, None

    def token_logits(self, tokens: Optional[Tensor]) -> Optional[Tensor]:
        """Logits of the extra tokens' head.

        Args:
            tokens (Tensor | None): The extra tokens' outputs, ``B x
                num_tokens x D``.

        Returns:
            Tensor | None: ``B x num_classes`` logits (None without extra
            tokens).
        """
        return None

    def predict_logits(self, cls_logits: Tensor,
                       token_logits: Optional[Tensor]) -> Tensor:
        """The inference logits (default: the CLS head's).

        Args:
            cls_logits (Tensor): ``last(CLS)``, ``B x num_classes``.
            token_logits (Tensor | None): The extra head's logits.

        Returns:
            Tensor: ``B x num_classes`` logits.
        """
        return cls_logits

    def loss(self, inputs: DistillInputs) -> Dict[str, Tensor]:
        """The student's classification and distillation losses.

        Args:
            inputs (DistillInputs): The student's and teacher's outputs,
                the labels and the current task's classes.

        Returns:
            dict[str, Tensor]: The loss terms (``loss_ce``, ...).
        """
        raise NotImplementedError

    def ce_and_soft_kd(self, inputs: DistillInputs,
                       kd_logits: Tensor) -> Dict[str, Tensor]:
        """The mix of the logit modes: ``loss_ce`` on the CLS head
        (weighted by ``1 - a``) and ``loss_kd``, ``a T^2 KL(softmax(z_T /
        T) || softmax(kd_logits / T))``, both over the current task's
        classes.

        Args:
            inputs (DistillInputs): As in :meth:`loss`.
            kd_logits (Tensor): The student logits that learn from the
                teacher's, ``B x num_classes``.

        Returns:
            dict[str, Tensor]: ``loss_ce`` and ``loss_kd``.
        """
        kd = soft_kl(
            inputs.task_logits(kd_logits),
            inputs.task_logits(inputs.teacher_logits), self.temperature)
        return dict(
            loss_ce=(1 - self.alpha) * inputs.ce(inputs.cls_logits),
            loss_kd=self.alpha * kd)
