"""The HeteroAKD distillation loss (docs/en/methods/heteroakd.md, sec. 4)."""
from typing import Sequence, Union

from torch import Tensor

from had_mm.registry import MODELS
from had_mm.tasks.task_spec import squeeze_channel
from ...utils import resize_map
from .base_paired_map_loss import BasePairedMapLoss
from .kem import KEM
from .kmm import KMM
from .utils import kl_div_map


@MODELS.register_module()
class HeteroAKDLoss(BasePairedMapLoss):
    """Mixed-knowledge, evaluation-weighted KL over projected stage logits.

    For every stage ``k`` with student logits ``z_s,k`` and teacher logits
    ``z_t,k`` (both from the teacher adapters, in the same class-logit
    space and at the same resolution)::

        z_mix = KMM(z_s,k, z_t,k, gt)          # detached target
        w     = KEM(z_s,k, z_mix, gt)          # detached, mean 1
        L     = sum_k tau^2 * mean_p [ w(p) * KL(softmax(z_mix / tau)
                                                 || softmax(z_s,k / tau)) ]

    and the loss returned is ``loss_weight * L``. The mean runs over all
    pixels of the batch, labelled or not (unlabelled pixels are judged by
    entropy).

    Args:
        tau (float): KL temperature. Defaults to 4.0.
        temp_w (float): Temperature ``T_w`` of KEM's spatial softmax.
            Defaults to 1.0.
        ignore_index (int): Label of unlabelled pixels. Defaults to 255.
        loss_weight (float): Weight of the loss. Defaults to 1.0.
        eps (float): KMM's ``eps``. Defaults to 1e-8.
        use_kmm (bool): Mix teacher and student (KMM); False uses the
            teacher logits as the target (ablation). Defaults to True.
        use_kem (bool): Weight pixels by KEM; False weighs all pixels 1
            (ablation). Defaults to True.
        upsample_logits (bool): Compare at the label resolution
            (logits upsampled bilinearly) instead of at the logits'
            resolution (labels downsampled, nearest). Defaults to False.
        align_corners (bool): ``align_corners`` of the bilinear resizes.
            Defaults to False.
        loss_name (str): Name of the loss item. Defaults to
            'loss_heteroakd'.
    """

    def __init__(self,
                 tau: float = 4.0,
                 temp_w: float = 1.0,
                 ignore_index: int = 255,
                 loss_weight: float = 1.0,
                 eps: float = 1e-8,
                 use_kmm: bool = True,
                 use_kem: bool = True,
                 upsample_logits: bool = False,
                 align_corners: bool = False,
                 loss_name: str = 'loss_heteroakd') -> None:
        super().__init__(tau, loss_weight, align_corners, loss_name)
        self.ignore_index = ignore_index
        self.use_kmm = use_kmm
        self.use_kem = use_kem
        self.upsample_logits = upsample_logits
        self.kmm = KMM(ignore_index=ignore_index, eps=eps)
        self.kem = KEM(temp_w=temp_w, ignore_index=ignore_index)

    def pair_loss(self, student: Tensor, teacher: Tensor, gt: Tensor,
                  **kwargs) -> Tensor:
        """Unweighted loss of one stage (``tau^2 * mean_p[w * KL]``).

        Args:
            student (Tensor): ``B x C x h x w`` student logits.
            teacher (Tensor): ``B x C x h' x w'`` teacher logits (resized
                to the student's size if they differ).
            gt (Tensor): ``B x H x W`` labels (any resolution).
            **kwargs: Ignored.

        Returns:
            Tensor: Scalar.
        """
        if student.shape[:2] != teacher.shape[:2]:
            raise ValueError(
                f'student logits {tuple(student.shape)} and teacher logits '
                f'{tuple(teacher.shape)} differ in batch or class count.')
        teacher = teacher.detach()
        if self.upsample_logits:
            size = tuple(gt.shape[-2:])
            student = resize_map(student, size, 'bilinear', self.align_corners)
        else:
            size = tuple(student.shape[-2:])
        teacher = resize_map(teacher, size, 'bilinear', self.align_corners)
        gt = resize_map(squeeze_channel(gt), size, 'nearest').long()
        if self.use_kmm:
            target, _ = self.kmm(student, teacher, gt)
        else:
            target = teacher.float()
        kl = kl_div_map(target, student, self.tau)
        if self.use_kem:
            kl = kl * self.kem(student, target, gt)
        return self.tau**2 * kl.mean()

    def forward(self, student_logits: Union[Tensor, Sequence[Tensor]],
                teacher_logits: Union[Tensor, Sequence[Tensor]], gt: Tensor,
                **kwargs) -> Tensor:
        """Sum of the stage losses, times ``loss_weight``.

        Args:
            student_logits (Tensor | list[Tensor]): ``B x C x H x W`` per
                stage.
            teacher_logits (Tensor | list[Tensor]): The same stages of the
                teacher.
            gt (Tensor): ``B x H x W`` (or ``B x 1 x H x W``) labels.
            **kwargs: Ignored.

        Returns:
            Tensor: Scalar loss.
        """
        if gt.dim() == 4:
            gt = gt[:, 0]
        return super().forward(student_logits, teacher_logits, gt=gt)
