import numpy as np
from mmcv.transforms import BaseTransform, to_tensor
from mmengine.structures import PixelData
from mmseg.structures import SegDataSample

from had_mm.registry import TRANSFORMS
from had_mm.tasks import label_tasks


@TRANSFORMS.register_module()
class PackMultiTaskInputs(BaseTransform):
    """Pack the image and every loaded task label into a ``SegDataSample``.

    Each loaded label (a task spec's ``label_key`` in the results) becomes
    the spec's ``label_field``, ``C x H x W`` of its ``label_dtype``: for
    the built-in tasks ``gt_sem_seg`` (long 1xHxW, 255 = ignore),
    ``gt_depth_map`` (float 1xHxW, 0 = invalid), ``gt_normal`` (float
    3xHxW, zero = invalid), ``gt_saliency`` (long 1xHxW, 255 = ignore).

    Args:
        meta_keys (tuple[str]): Keys copied into the sample's metainfo.
    """

    def __init__(self,
                 meta_keys=('img_path', 'sample_id', 'ori_shape', 'img_shape',
                            'pad_shape', 'scale_factor', 'flip',
                            'flip_direction', 'tasks', 'scale_crop')):
        self.meta_keys = meta_keys

    def transform(self, results: dict) -> dict:
        img = results['img']
        if img.ndim < 3:
            img = img[..., None]
        img = to_tensor(np.ascontiguousarray(img.transpose(2, 0, 1)))
        sample = SegDataSample()
        for key, spec in label_tasks().items():
            if key not in results:
                continue
            label = results[key]
            # HxW -> 1xHxW, HxWxC -> CxHxW
            label = label[None] if label.ndim == 2 else label.transpose(
                2, 0, 1)
            sample.set_data({
                spec.label_field:
                PixelData(
                    data=to_tensor(
                        np.ascontiguousarray(label.astype(spec.label_dtype))))
            })
        meta = {k: results[k] for k in self.meta_keys if k in results}
        meta.setdefault('pad_shape', results['img'].shape[:2])
        sample.set_metainfo(meta)
        return dict(inputs=img, data_samples=sample)

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}(meta_keys={self.meta_keys})'
