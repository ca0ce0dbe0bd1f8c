"""A test hook that writes what tools/test.py predicts, one .npz per image."""
import os
import os.path as osp

import numpy as np
from mmengine.hooks import Hook
from mmengine.registry import HOOKS

FIELDS = dict(
    semantic='pred_sem_seg',
    depth='pred_depth_map',
    normal='pred_normal',
    saliency='pred_saliency',
    semantic_logits='seg_logits')


@HOOKS.register_module()
class DumpPredictionsHook(Hook):
    """Save every test sample's predictions as ``<out_dir>/<stem>.npz``.

    Args:
        out_dir (str): Output folder.
    """

    def __init__(self, out_dir: str) -> None:
        self.out_dir = out_dir

    def after_test_iter(self,
                        runner,
                        batch_idx,
                        data_batch=None,
                        outputs=None) -> None:
        os.makedirs(self.out_dir, exist_ok=True)
        for sample in outputs:
            arrays = {
                task: getattr(sample, field).data.cpu().numpy()
                for task, field in FIELDS.items() if field in sample
            }
            stem = osp.splitext(osp.basename(sample.img_path))[0]
            np.savez(osp.join(self.out_dir, f'{stem}.npz'), **arrays)
