from typing import Optional

from mmengine.hooks import Hook

from had_mm.registry import HOOKS
from had_mm.utils.dist_sync import broadcast_module_states


@HOOKS.register_module()
class RankSyncHook(Hook):
    """Give every rank rank 0's buffers (BN statistics) after every
    training iteration, and its parameters and buffers (teachers included)
    before every validation and at the end of training.

    Under DDP the parameters stay equal on every rank, but the buffers do
    not (mmengine wraps with ``broadcast_buffers=False``): each rank's BN
    statistics follow its own shard. A checkpoint holds rank 0's, while a
    validation spread over the ranks would use each rank's own, so the
    metrics logged during training would not be those of the checkpoint.
    Broadcasting rank 0's buffers after each step leaves rank 0's training
    unchanged (it keeps its own values) and makes every checkpoint, every
    validation and every teacher copy see one model. The cost is one small
    broadcast per iteration (a ResNet-18 has about 10k BN values).

    :class:`~had_mm.engine.runners.HADRunner` registers it in distributed
    runs; the phased loops broadcast the whole state (teachers and
    adapters too) at every stage end themselves
    (:meth:`~had_mm.engine.loops.PhasedTrainLoop._sync_ranks`). On one
    process it does nothing.

    Args:
        interval (int): Broadcast the buffers every this many iterations.
            Defaults to 1.
    """

    priority = 'HIGH'  # before EMA, logging and checkpoint hooks

    def __init__(self, interval: int = 1) -> None:
        if isinstance(interval,
                      bool) or not isinstance(interval, int) or interval < 1:
            raise ValueError(f'interval must be a positive integer, got '
                             f'{interval!r}')
        self.interval = interval

    def after_train_iter(self,
                         runner,
                         batch_idx: int,
                         data_batch: Optional[dict] = None,
                         outputs: Optional[dict] = None) -> None:
        if self.every_n_train_iters(runner, self.interval):
            broadcast_module_states(runner.model, params=False, teachers=False)

    def before_val_epoch(self, runner) -> None:
        broadcast_module_states(runner.model)

    def after_train(self, runner) -> None:
        broadcast_module_states(runner.model)
