"""The ``edge`` task type: boundary detection, one logit per pixel."""
from typing import Optional, Sequence, Tuple

import numpy as np
from torch import Tensor

from had_mm.datasets.transforms import LoadMultiTaskAnnotations
from had_mm.registry import TASKS
from had_mm.tasks import TaskSpec, binary_distill_map, binary_pseudo_label
from .edge_labels import edges_from_semantic


@TASKS.register_module(name='edge')
class EdgeTask(TaskSpec):
    """Boundary detection: 1 = edge, 0 = not, 255 = ignore.

    The labels are derived, not stored: the dataset hands this task the
    semantic label file (``label_source``) and :meth:`load_label` turns it
    into exact edges (:func:`edges_from_semantic`). The head emits one
    logit; like saliency the task is 'binary' for HAD, with the
    pseudo-label ``sigmoid >= 0.5`` of the teacher and the per-pixel BCE
    against it as the distillation map.
    """

    name = 'edge'
    label_key = 'gt_edge'
    label_field = 'gt_edge'
    label_dtype = 'int64'
    pred_field = 'pred_edge'
    out_channels = 1
    pad_value = 255
    ignore_value = 255
    invalid_desc = '255 (unlabelled semantic pixels)'
    primary_metric = 'ods_f'
    primary_direction = +1
    metric_type = 'EdgeMaxFMetric'
    distill_kind = 'binary'
    label_source = 'semantic'

    def metric_kwargs(self, num_classes: Optional[int],
                      class_names: Optional[Sequence[str]],
                      ignore_index: int) -> dict:
        """The ignore index for :class:`EdgeMaxFMetric`."""
        return dict(ignore_index=ignore_index)

    def load_label(self, path: str, results: dict) -> np.ndarray:
        """Read the semantic map of ``path`` and derive its edges.

        The semantic map is read by had_mm's own loader (same checks,
        same ignore convention) into a scratch dict, so that the sample
        does not carry a semantic label (which would train that head).

        Args:
            path (str): The semantic label file.
            results (dict): The transforms' results dict.

        Returns:
            np.ndarray: ``H x W`` uint8 edges, also in ``results['gt_edge']``.
        """
        scratch = dict(
            semantic_path=path,
            num_classes=results.get('num_classes', 13),
            img_path=results.get('img_path'))
        LoadMultiTaskAnnotations(tasks=['semantic'])(scratch)
        edge = edges_from_semantic(scratch['gt_seg_map'], self.ignore_value)
        results[self.label_key] = edge
        return edge

    def pseudo_label(self, teacher_out: Tensor) -> Tensor:
        """``sigmoid(z) >= 0.5`` of the teacher (saliency's rule)."""
        return binary_pseudo_label(teacher_out)

    def distill_map(self, student_out: Tensor,
                    pseudo: Tensor) -> Tuple[Tensor, Tensor]:
        """BCE of the student logit against the pseudo-label."""
        return binary_distill_map(student_out, pseudo)
