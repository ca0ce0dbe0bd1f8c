"""The bookkeeping of PhasedTrainLoop, the base of the phased loops."""
import random
import types

import numpy as np
import pytest
import torch

from had_mm.engine.loops import PhasedTrainLoop


class _Loop(PhasedTrainLoop):
    """Two tasks; phase 0 has two stages."""

    def __init__(self, runner, dataloader):
        super().__init__(runner, dataloader)
        self.phase_names = ['a', 'b']
        self._set_schedule([[2, 3], [4]])

    def _metric_key(self, j: int) -> str:
        return f'acc_{self.phase_names[j]}'


def _loop(seed=3):
    return _Loop(types.SimpleNamespace(seed=seed), dict(batch_size=2))


def test_schedule_of_phases_and_stages():
    loop = _loop()
    assert loop.phase_iters == [5, 4] and loop.phase_starts == [0, 5, 9]
    assert loop.max_iters == 9 and loop.max_epochs == 2
    assert [
        loop.stage_start(0, 0),
        loop.stage_start(0, 1),
        loop.stage_start(1, 0)
    ] == [0, 2, 5]
    assert [loop.phase_of(i) for i in (0, 4, 5, 8, 9)] == [0, 0, 1, 1, 2]
    # 5 images, 2 per iteration: 3 iterations an epoch
    assert loop._epochs_to_iters(2, 5) == 6


def test_a_dataloader_object_is_refused():
    with pytest.raises(TypeError, match='one dataloader per phase'):
        _Loop(None, object())


def test_matrix_rows_and_checkpoint_state():
    loop = _loop()
    loop._record(0, dict(acc_a=50.0, acc_b=1.0, per_class=[1.0]))
    loop._record(1, dict(acc_a=40, acc_b=70.0))
    assert loop.matrix == [[50.0, None], [40.0, 70.0]]
    assert loop.final_metrics[0] == dict(acc_a=50.0, acc_b=1.0)
    with pytest.raises(KeyError, match='no acc_b; use MultiTaskMetric'):
        loop._matrix_row(1, dict(acc_a=1.0))

    state = loop.state_for_checkpoint(5)
    assert state == dict(
        tasks=['a', 'b'],
        phase_iters=[5, 4],
        matrix=loop.matrix,
        final_metrics=loop.final_metrics)
    other = _loop()
    other.load_checkpoint_state(state, dict(meta=dict(iter=5)))
    assert other.matrix == loop.matrix and other.pending_state is state


def test_reseed_depends_on_seed_and_iteration_only():

    def draw(loop, it):
        loop._reseed(it)
        return (random.random(), float(np.random.rand()), float(torch.rand(1)))

    loop = _loop()
    first = draw(loop, 7)
    draw(loop, 8)
    assert draw(loop, 7) == first
    assert draw(_loop(), 7) == first
    assert draw(_loop(seed=4), 7) != first
    loop.reseed_every_iter = False
    assert draw(loop, 7) != first
