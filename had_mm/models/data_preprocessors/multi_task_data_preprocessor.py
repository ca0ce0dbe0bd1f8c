from typing import Any, Dict, List, Optional, Sequence, Tuple

import torch
import torch.nn.functional as F
from mmengine.model import BaseDataPreprocessor
from mmseg.structures import SegDataSample
from torch import Tensor

from had_mm.registry import MODELS
from had_mm.tasks import get_task, task_names


@MODELS.register_module()
class MultiTaskDataPreProcessor(BaseDataPreprocessor):
    """Normalise images and pad images and every task label to one size.

    Args:
        mean (Sequence[float]): Per-channel mean (of the RGB image after
            ``bgr_to_rgb``).
        std (Sequence[float]): Per-channel std.
        bgr_to_rgb (bool): Swap the loaded BGR image to RGB.
        size (tuple[int, int], optional): Pad to this fixed size.
        size_divisor (int, optional): Pad to a multiple of this.
        pad_val (float): Image padding value (before normalisation: the
            padded area is set to 0 after normalisation).
    """

    def __init__(self,
                 mean: Sequence[float] = (123.675, 116.28, 103.53),
                 std: Sequence[float] = (58.395, 57.12, 57.375),
                 bgr_to_rgb: bool = True,
                 size: Optional[Tuple[int, int]] = None,
                 size_divisor: Optional[int] = None,
                 pad_val: float = 0.0) -> None:
        super().__init__()
        self.register_buffer('mean', torch.tensor(mean).view(-1, 1, 1), False)
        self.register_buffer('std', torch.tensor(std).view(-1, 1, 1), False)
        self.bgr_to_rgb = bgr_to_rgb
        self.size = size
        self.size_divisor = size_divisor
        self.pad_val = pad_val

    def _target_size(self, inputs: List[Tensor]) -> Tuple[int, int]:
        if self.size is not None:
            return tuple(self.size)
        h = max(x.shape[-2] for x in inputs)
        w = max(x.shape[-1] for x in inputs)
        if self.size_divisor:
            d = self.size_divisor
            h, w = (h + d - 1) // d * d, (w + d - 1) // d * d
        return h, w

    def forward(self, data: dict, training: bool = False) -> Dict[str, Any]:
        data = self.cast_data(data)
        inputs = data['inputs']
        samples: Optional[List[SegDataSample]] = data.get('data_samples')
        if isinstance(inputs, Tensor):
            inputs = list(inputs)
        if self.bgr_to_rgb:
            inputs = [x[[2, 1, 0], ...] for x in inputs]
        inputs = [(x.float() - self.mean) / self.std for x in inputs]
        th, tw = self._target_size(inputs)
        padded = []
        for i, img in enumerate(inputs):
            h, w = img.shape[-2:]
            pad = (0, max(tw - w, 0), 0, max(th - h, 0))
            padded.append(F.pad(img, pad, value=self.pad_val))
            if samples is None:
                continue
            sample = samples[i]
            # Each label field is padded with its task's own "invalid"
            # value: mmseg's stack_batch pads gt_depth_map with the
            # segmentation pad value (255 m of valid-looking depth) and
            # leaves normals and saliency unpadded.
            for task in task_names():
                field, value = get_task(task).label_field, get_task(
                    task).pad_value
                if field in sample:
                    pixel_data = getattr(sample, field)
                    label = pixel_data.data
                    del pixel_data.data
                    pixel_data.data = F.pad(label, pad, value=value)
            sample.set_metainfo(
                dict(
                    img_shape=(h, w),
                    pad_shape=(th, tw),
                    padding_size=pad,
                    batch_input_shape=(th, tw)))
        return dict(inputs=torch.stack(padded), data_samples=samples)
