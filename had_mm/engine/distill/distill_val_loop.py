"""Validation that scores the student and, beside it, the teacher."""
from typing import Dict, List, Optional, Union

import torch
from mmengine.model import is_model_wrapper
from mmengine.runner import ValLoop
from torch.utils.data import DataLoader

from had_mm.registry import LOOPS


@LOOPS.register_module()
class DistillValLoop(ValLoop):
    """mmengine's ValLoop for a distiller, plus the teacher's metrics.

    The student (the model's ``val_step``) is evaluated exactly as by
    ``ValLoop``; then the distiller's frozen ``teacher`` is evaluated on the
    same data with the same evaluator (its own data preprocessor, no hooks),
    and its metrics are added as ``teacher/<metric>`` (e.g.
    ``teacher/mIoU``), so the logger prints them beside the student's
    while ``save_best='mIoU'`` keeps tracking the student.

    Args:
        runner (Runner): The runner.
        dataloader (DataLoader | dict): The validation dataloader.
        evaluator (Evaluator | dict | list): The evaluator.
        fp16 (bool): Validate in fp16. Defaults to False.
        evaluate_teacher (bool): Add the teacher's metrics. Defaults to
            True.
        teacher_prefix (str): Prefix of the teacher's metric names.
            Defaults to 'teacher'.
        cache_teacher (bool): Evaluate the frozen teacher once and reuse
            its metrics afterwards. Defaults to True.
    """

    def __init__(self,
                 runner,
                 dataloader: Union[DataLoader, Dict],
                 evaluator: Union[Dict, List],
                 fp16: bool = False,
                 evaluate_teacher: bool = True,
                 teacher_prefix: str = 'teacher',
                 cache_teacher: bool = True) -> None:
        super().__init__(runner, dataloader, evaluator, fp16)
        self.evaluate_teacher = evaluate_teacher
        self.teacher_prefix = teacher_prefix
        self.cache_teacher = cache_teacher
        self._teacher_metrics: Optional[dict] = None

    def run(self) -> dict:
        """Validate the student, then add the teacher's metrics."""
        self.runner.call_hook('before_val')
        self.runner.call_hook('before_val_epoch')
        self.runner.model.eval()
        self.val_loss.clear()
        for idx, data_batch in enumerate(self.dataloader):
            self.run_iter(idx, data_batch)
        metrics = self.evaluator.evaluate(len(self.dataloader.dataset))
        if self.val_loss:
            # private, as mmengine's own ValLoop reports its losses with
            # it: no public function does
            from mmengine.runner.loops import _parse_losses
            metrics.update(_parse_losses(self.val_loss, 'val'))
        if self.evaluate_teacher:
            metrics.update(self.teacher_metrics())
        self.runner.call_hook('after_val_epoch', metrics=metrics)
        self.runner.call_hook('after_val')
        return metrics

    @torch.no_grad()
    def teacher_metrics(self) -> dict:
        """Metrics of the distiller's teacher, prefixed.

        Returns:
            dict: ``{f'{teacher_prefix}/{name}': value}``.

        Raises:
            ValueError: If the model has no ``teacher``.
        """
        if self.cache_teacher and self._teacher_metrics is not None:
            return dict(self._teacher_metrics)
        model = self.runner.model
        if is_model_wrapper(model):
            model = model.module
        teacher = getattr(model, 'teacher', None)
        if teacher is None:
            raise ValueError(
                f'DistillValLoop needs a distiller with a teacher, but the '
                f'model is a {type(model).__name__}; use val_cfg = '
                f'dict(type="ValLoop") for a plain model.')
        teacher.eval()
        for data_batch in self.dataloader:
            outputs = teacher.val_step(data_batch)
            self.evaluator.process(data_samples=outputs, data_batch=data_batch)
        raw = self.evaluator.evaluate(len(self.dataloader.dataset))
        metrics = {f'{self.teacher_prefix}/{k}': v for k, v in raw.items()}
        self._teacher_metrics = metrics
        return dict(metrics)
