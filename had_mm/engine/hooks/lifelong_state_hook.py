from typing import Optional

import numpy as np
from mmengine.hooks import Hook
from mmengine.logging import print_log

from had_mm.checkpoint import CheckpointLoadError


class LifelongStateHook(Hook):
    """Carries a :class:`PhasedTrainLoop`'s state through checkpoints.

    Saves the loop's task list, schedule, task matrix, the metrics so far
    and what the loop adds (:meth:`PhasedTrainLoop._extra_state`; e.g. a
    :class:`LifelongTrainLoop` in the middle of a phase: the teacher's
    weights, the model at the end of the previous phase; a heterogeneous
    teacher's adapters always), so that ``--resume`` continues exactly.
    Restores them only when resuming (not for ``load_from``), and refuses
    a checkpoint written for another task sequence or with another
    schedule of a phase that had started.

    The loop registers this hook itself; it is not meant for configs.

    Args:
        loop (PhasedTrainLoop): The loop whose state to carry.
    """

    priority = 'VERY_HIGH'

    def __init__(self, loop) -> None:
        self.loop = loop

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        done = checkpoint.get('meta', {}).get('iter', self.loop.iter)
        checkpoint['lifelong'] = self.loop.state_for_checkpoint(done)

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        state: Optional[dict] = checkpoint.get('lifelong')
        # private: mmengine's Runner has no public flag for --resume
        if not runner._resume:
            return  # load_from: weights only, a fresh lifelong run
        if state is None:
            raise CheckpointLoadError(
                f'the resume checkpoint was not written by '
                f'{type(self.loop).__name__} (no lifelong state); use '
                f'load_from to start from its weights instead')
        if list(state['tasks']) != list(self.loop.phase_names):
            raise CheckpointLoadError(
                f'the resume checkpoint is from another task sequence '
                f'{state["tasks"]}; this config runs {self.loop.phase_names}. '
                f'Resume with the config that wrote it, or use another '
                f'work_dir.')
        self._check_schedule(state, int(checkpoint['meta']['iter']),
                             runner.work_dir)
        self.loop.load_checkpoint_state(state, checkpoint)

    def _check_schedule(self, state: dict, done: int, work_dir: str) -> None:
        """Refuse a resume whose config changed the schedule of a phase
        that had started (its iterations are in the checkpoint).

        Phases that had not started may change (with a log line).
        Checkpoints written before the schedule was saved are not checked.

        Args:
            state (dict): The checkpoint's lifelong state.
            done (int): Iterations the checkpoint had finished.
            work_dir (str): The run's work dir, for messages.

        Raises:
            CheckpointLoadError: Naming each changed phase.
        """
        saved = state.get('phase_iters')
        loop = self.loop
        current = [int(n) for n in loop.phase_iters]
        if saved is None or list(saved) == current:
            return
        starts = np.cumsum([0] + list(saved)).tolist()
        changes, later = [], []
        for t, (old, new) in enumerate(zip(saved, current)):
            if old == new:
                continue
            what = (
                f'{loop.PHASE_WORD} {t + 1} ({loop.phase_names[t]}): {old} '
                f'-> {new} iterations')
            (changes if starts[t] < done else later).append(what)
        if not changes:
            print_log(
                f'resuming at iteration {done} with a new schedule for '
                f'phases that had not started: {"; ".join(later)}',
                logger='current')
            return
        hint = ('resume with the config that wrote it, or train the new '
                'schedule in another work_dir.')
        if len(state['matrix']) == len(
                loop.phase_names) and done == starts[-1]:
            raise CheckpointLoadError(
                f'--resume: the run in {work_dir} is complete '
                f'({len(saved)} phases, {done} iterations), and this config '
                f'changes its schedule ({"; ".join(changes + later)}); '
                f'nothing was trained. To continue it, {hint}')
        raise CheckpointLoadError(
            f'--resume: the schedule of a phase that had started changed '
            f'since the checkpoint (at iteration {done}): '
            f'{"; ".join(changes)}; {hint}')
