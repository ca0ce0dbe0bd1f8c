from typing import Optional

from mmengine.hooks import Hook

from ..runners import CheckpointLoadError


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
        self.loop.matrix = [list(r) for r in state['matrix']]
        self.loop.final_metrics = list(state['final_metrics'])
        self.loop.pending_state = state
