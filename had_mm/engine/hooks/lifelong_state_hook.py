from typing import Optional

import numpy as np
from mmengine.hooks import Hook
from mmengine.logging import print_log

from had_mm.checkpoint import CheckpointLoadError


class LifelongStateHook(Hook):
    """Carries a :class:`LifelongTrainLoop`'s state through checkpoints.

    Saves the phase task list, the task matrix, the metrics so far and, in
    the middle of a phase, the teacher's weights (the model at the end of
    the previous phase; a heterogeneous teacher's adapters always), so
    that ``--resume`` continues exactly. Restores them only when resuming
    (not for ``load_from``), and refuses a checkpoint written for another
    task sequence.

    The loop registers this hook itself; it is not meant for configs.

    Args:
        loop (LifelongTrainLoop): The loop whose state to carry.
    """

    priority = 'VERY_HIGH'

    def __init__(self, loop) -> None:
        self.loop = loop

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        loop = self.loop
        state = dict(
            tasks=list(loop.tasks),
            phase_iters=[int(n) for n in loop.phase_iters],
            matrix=[list(r) for r in loop.matrix],
            final_metrics=list(loop.final_metrics))
        # a phase-end checkpoint needs no teacher: the next phase's teacher
        # is the model itself
        done = checkpoint.get('meta', {}).get('iter', loop.iter)
        at_phase_end = done in loop.phase_starts
        hetero = getattr(loop, 'hetero_teacher', None)
        if hetero is not None:
            # its adapters outlive phases: saved in every checkpoint
            state['hetero_teacher'] = hetero.lifelong_state()
        elif loop.teacher is not None and not at_phase_end:
            state['teacher_state_dict'] = loop.teacher.state_dict()
        checkpoint['lifelong'] = state

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        state: Optional[dict] = checkpoint.get('lifelong')
        if not runner._resume:
            return  # load_from: weights only, a fresh lifelong run
        if state is None:
            raise CheckpointLoadError(
                'the resume checkpoint was not written by LifelongTrainLoop '
                '(no lifelong state); use load_from to start from its '
                'weights instead')
        if list(state['tasks']) != list(self.loop.tasks):
            raise CheckpointLoadError(
                f'the resume checkpoint is from another task sequence '
                f'{state["tasks"]}; this config runs {self.loop.tasks}. '
                f'Resume with the config that wrote it, or use another '
                f'work_dir.')
        self._check_schedule(state, int(checkpoint['meta']['iter']),
                             runner.work_dir)
        self.loop.matrix = [list(r) for r in state['matrix']]
        self.loop.final_metrics = list(state['final_metrics'])
        self.loop.pending_state = state

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
            what = (f'phase {t + 1} ({loop.tasks[t]}): {old} -> {new} '
                    f'iterations')
            (changes if starts[t] < done else later).append(what)
        if not changes:
            print_log(
                f'resuming at iteration {done} with a new schedule for '
                f'phases that had not started: {"; ".join(later)}',
                logger='current')
            return
        hint = ('resume with the config that wrote it, or train the new '
                'schedule in another work_dir.')
        if len(state['matrix']) == len(loop.tasks) and done == starts[-1]:
            raise CheckpointLoadError(
                f'--resume: the run in {work_dir} is complete '
                f'({len(saved)} phases, {done} iterations), and this config '
                f'changes its schedule ({"; ".join(changes + later)}); '
                f'nothing was trained. To continue it, {hint}')
        raise CheckpointLoadError(
            f'--resume: the schedule of a phase that had started changed '
            f'since the checkpoint (at iteration {done}): '
            f'{"; ".join(changes)}; {hint}')
