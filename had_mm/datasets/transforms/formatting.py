import numpy as np
import torch
from mmcv.transforms import BaseTransform, to_tensor
from mmengine.structures import PixelData
from mmseg.structures import SegDataSample

from had_mm.registry import TRANSFORMS


@TRANSFORMS.register_module()
class PackMultiTaskInputs(BaseTransform):
    """Pack the image and every loaded task label into a ``SegDataSample``.

    Fields (present for the loaded tasks): ``gt_sem_seg`` (long 1xHxW, 255 =
    ignore), ``gt_depth_map`` (float 1xHxW, 0 = invalid), ``gt_normal``
    (float 3xHxW, zero = invalid), ``gt_saliency`` (long 1xHxW, 255 =
    ignore). ``gt_sem_seg`` and ``gt_depth_map`` are mmseg's own fields, so
    mmseg's data preprocessor pads them.

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
        if 'gt_seg_map' in results:
            sample.gt_sem_seg = PixelData(
                data=to_tensor(results['gt_seg_map'][None].astype(np.int64)))
        if 'gt_depth_map' in results:
            sample.gt_depth_map = PixelData(
                data=to_tensor(results['gt_depth_map'][None].astype(
                    np.float32)))
        if 'gt_normal' in results:
            sample.set_data(
                dict(
                    gt_normal=PixelData(
                        data=torch.from_numpy(
                            np.ascontiguousarray(
                                results['gt_normal'].transpose(2, 0, 1))))))
        if 'gt_saliency' in results:
            sample.set_data(
                dict(
                    gt_saliency=PixelData(
                        data=to_tensor(results['gt_saliency'][None].astype(
                            np.int64)))))
        meta = {k: results[k] for k in self.meta_keys if k in results}
        meta.setdefault('pad_shape', results['img'].shape[:2])
        sample.set_metainfo(meta)
        return dict(inputs=img, data_samples=sample)

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}(meta_keys={self.meta_keys})'
