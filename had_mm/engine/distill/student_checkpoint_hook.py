"""Write a student-only checkpoint at the end of distillation."""
import copy
import os.path as osp
from typing import Optional

import torch
from mmengine.dist import is_main_process
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmengine.runner.checkpoint import weights_to_cpu

from had_mm.registry import HOOKS
from .checkpoint_utils import student_checkpoint


@HOOKS.register_module()
class StudentCheckpointHook(Hook):
    """Save the distilled student alone when training ends.

    The file (``student_only.pth`` in the work dir by default) holds the
    student's weights with the ``student.`` prefix stripped under
    ``state_dict``, so it loads into the plain student config with strict
    key match (``tools/test.py STUDENT_CONFIG work_dir/student_only.pth``);
    the student's projectors are kept under ``student_adapter``, the
    teacher's dropped (or kept under ``teacher_adapter``).

    Args:
        filename (str): File name (relative to the work dir) or path.
            Defaults to 'student_only.pth'.
        keep_teacher_adapter (bool): Keep the teacher's projectors under
            the ``teacher_adapter`` key. Defaults to False.
    """

    priority = 'LOW'

    def __init__(self,
                 filename: str = 'student_only.pth',
                 keep_teacher_adapter: bool = False) -> None:
        self.filename = filename
        self.keep_teacher_adapter = keep_teacher_adapter
        self.saved_path: Optional[str] = None

    def after_train(self, runner) -> None:
        """Write the checkpoint (main process only)."""
        if not is_main_process():
            return
        model = runner.model.module if is_model_wrapper(
            runner.model) else runner.model
        meta = dict(iter=runner.iter, epoch=runner.epoch)
        try:
            meta['dataset_meta'] = copy.deepcopy(
                dict(runner.train_dataloader.dataset.metainfo))
        except Exception:  # metadata is optional
            pass
        ckpt = student_checkpoint(
            weights_to_cpu(model.state_dict()), meta,
            self.keep_teacher_adapter)
        path = osp.join(runner.work_dir, self.filename)
        torch.save(ckpt, path)
        self.saved_path = path
        runner.logger.info(f'student-only checkpoint saved to {path}')
