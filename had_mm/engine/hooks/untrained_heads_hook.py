"""A note, when testing, about the heads a checkpoint has not trained."""
import logging
from typing import List, Optional, Sequence

from mmengine.hooks import Hook
from mmengine.logging import print_log
from mmengine.model import is_model_wrapper

from had_mm.registry import HOOKS


@HOOKS.register_module()
class UntrainedHeadsHook(Hook):
    """Notes the evaluated tasks whose heads the loaded checkpoint has not
    trained, before testing and again next to the scores.

    A lifelong run's ``phase_1_semantic.pth`` tested with its config scores
    every head, those of the later phases with their initial weights
    (e.g. a normal mean error of 121 degrees). ``tools/test.py`` adds this
    hook; the learnt tasks are read from the checkpoint's lifelong state
    (:func:`~had_mm.apis.learnt_tasks`).

    Args:
        phases (Sequence[dict], optional): The config's
            ``train_cfg.phases``, used when the checkpoint does not record
            its phase lengths.
    """

    priority = 'LOW'

    def __init__(self, phases: Optional[Sequence[dict]] = None) -> None:
        self.phases = list(phases) if phases else None
        self.note: Optional[str] = None

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        from had_mm.apis.inference import learnt_tasks, model_tasks
        model = runner.model.module if is_model_wrapper(
            runner.model) else runner.model
        heads = model_tasks(model)
        learnt = learnt_tasks(checkpoint, heads, self.phases)
        untrained = [
            t for t in self._evaluated(runner, heads) if t not in learnt
        ]
        if not untrained:
            self.note = None
            return
        self.note = (f'note: the checkpoint has not trained the head(s) of '
                     f'{", ".join(untrained)} (learnt: '
                     f'{", ".join(learnt) or "none"}); their scores are '
                     f'those of untrained heads')
        print_log(self.note, logger='current', level=logging.WARNING)

    def after_test_epoch(self, runner, metrics=None) -> None:
        if self.note:
            # worded apart: MMLogger drops a repeated warning
            print_log(
                f'{self.note} (the scores above)',
                logger='current',
                level=logging.WARNING)

    @staticmethod
    def _evaluated(runner, heads: List[str]) -> List[str]:
        """The tasks the test evaluator scores (the heads if it says
        nothing)."""
        try:
            metrics = runner.test_loop.evaluator.metrics
        except Exception:  # no test loop built: nothing is scored here
            return list(heads)
        tasks = []
        for metric in metrics:
            tasks += [
                t for t in getattr(metric, 'tasks', ()) or () if t not in tasks
            ]
        return tasks or list(heads)
