"""Where a lifelong student gets its teacher's outputs: one small interface.

A *teacher source* answers one call,
``raw_outputs(inputs, data_samples, tasks)``, with a :class:`TeacherRaw`:
the teacher's **pre-activation outputs at decode resolution** (what a
head's ``forward`` returns, before ``activate`` and before the resize to
the input size) and, per sample, the zoom its labels were divided by. The
student turns them into task outputs with its own heads
(``outputs_from_raw``), so the predictor never asks which source it has:

- :class:`OnlineTeacher` runs the frozen teacher on the batch;
- :class:`~had_mm.engine.loops.pseudo_label_cache.PseudoLabelCache` looks
  the outputs up in a cache computed once per phase (flips and zooms
  replayed on the cached maps).

Vocabulary (used the same in code, docstrings and docs): *raw* outputs are
pre-activation, at decode resolution; *task* outputs are activated
(semantic and saliency logits, depth in metres, unit normals) at the
padded input size, which is what the distillation losses receive.
"""
from typing import Dict, NamedTuple, Optional, Sequence

import torch.nn as nn
from torch import Tensor


class TeacherRaw(NamedTuple):
    """A batch's raw teacher outputs.

    Attributes:
        raw (dict[str, Tensor]): ``{task: B x C x h x w}`` pre-activation
            outputs at decode resolution.
        zoom (Tensor | None): ``B`` factors that the task outputs of a
            ``zoom_divides`` task (depth) are divided by, as the scale-crop
            transform divides the labels; None: the teacher saw the batch
            as it is (nothing to divide).
    """

    raw: Dict[str, Tensor]
    zoom: Optional[Tensor] = None


class OnlineTeacher:
    """The frozen teacher run on every batch: one backbone pass for all the
    old heads.

    Args:
        teacher (nn.Module): A model with ``extract_feat`` and
            ``raw_head_outputs(feats, tasks, input_size)``
            (:class:`~had_mm.models.HeterogeneousDensePredictor`,
            :class:`~had_mm.models.distill.HeteroLifelongTeacher`).
    """

    def __init__(self, teacher: nn.Module) -> None:
        self.teacher = teacher

    def raw_outputs(self, inputs: Tensor, data_samples: Optional[Sequence],
                    tasks: Sequence[str]) -> TeacherRaw:
        """The teacher's raw outputs of ``tasks`` on the batch.

        Args:
            inputs (Tensor): ``B x 3 x H x W`` normalised images.
            data_samples (Sequence[SegDataSample], optional): Unused (the
                teacher sees the augmented images themselves).
            tasks (Sequence[str]): The old tasks.

        Returns:
            TeacherRaw: The raw outputs, no zoom.
        """
        feats = self.teacher.extract_feat(inputs)
        return TeacherRaw(
            self.teacher.raw_head_outputs(feats, tasks, inputs.shape[2:]))
