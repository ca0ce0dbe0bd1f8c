from dataclasses import dataclass
from typing import Dict, Optional, Tuple

import torch.nn.functional as F
from torch import Tensor


@dataclass
class DistillInputs:
    """What a distillation mode's ``loss`` reads, built once per step by
    :class:`~kdp.models.PromptContinualClassifier`.

    Attributes:
        cls_logits (Tensor): The student's ``last(CLS)``, ``B x
            num_classes``.
        gt_label (Tensor): ``B`` labels inside ``task_classes``.
        task_classes (tuple[int, int]): The current task's classes
            ``[start, end)``; every term uses only these logits.
        token_logits (Tensor, optional): The head of the mode's extra
            tokens (``kd_last(KD)``, ``dist_last(DIST)``); None without.
        teacher_logits (Tensor, optional): The teacher's CLS logits, ``B x
            num_classes``; None for a mode without a teacher.
        student_feats (dict[int, Tensor], optional): ``{layer: B x (1 +
            HW) x D_s}`` output tokens of the mode's ``student_layers``
            (class token first, extra tokens dropped).
        teacher_feats (dict[int, Tensor], optional): The same for its
            ``teacher_layers``, ``D_t`` wide.
        patch_resolution (tuple[int, int], optional): The patch grid
            ``(H, W)`` of the feature tokens.
    """

    cls_logits: Tensor
    gt_label: Tensor
    task_classes: Tuple[int, int]
    token_logits: Optional[Tensor] = None
    teacher_logits: Optional[Tensor] = None
    student_feats: Optional[Dict[int, Tensor]] = None
    teacher_feats: Optional[Dict[int, Tensor]] = None
    patch_resolution: Optional[Tuple[int, int]] = None

    def task_logits(self, logits: Tensor) -> Tensor:
        """The current task's columns of ``B x num_classes`` logits.

        Args:
            logits (Tensor): Any of the logits above.

        Returns:
            Tensor: ``B x (end - start)``.
        """
        start, end = self.task_classes
        return logits[:, start:end]

    def ce(self, logits: Tensor, labels: Optional[Tensor] = None) -> Tensor:
        """Cross-entropy over the current task's classes, equal to that of
        the logits with every other class masked to ``-inf``.

        Args:
            logits (Tensor): ``B x num_classes`` logits.
            labels (Tensor, optional): ``B`` labels in ``[start, end)``;
                default :attr:`gt_label`.

        Returns:
            Tensor: The scalar loss.
        """
        labels = self.gt_label if labels is None else labels
        return F.cross_entropy(
            self.task_logits(logits), labels - self.task_classes[0])
