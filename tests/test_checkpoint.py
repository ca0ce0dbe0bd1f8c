import pickle

import numpy as np
import pytest
import torch
from mmengine.logging import HistoryBuffer

from had_mm.checkpoint import (explain_unpickling_error,
                               register_checkpoint_safe_globals)


class _GetattrPayload:
    """Pickles as getattr(HistoryBuffer, name): what a crafted file does."""

    def __init__(self, name):
        self.name = name

    def __reduce__(self):
        return (getattr, (HistoryBuffer, self.name))


class _Foreign:
    pass


def test_mmengine_state_loads_weights_only(tmp_path):
    register_checkpoint_safe_globals()
    buf = HistoryBuffer()
    for v in (1.0, 2.0, 4.0):
        buf.update(v)
    state = dict(
        log_scalars={'train/loss': buf},
        meta=dict(seed=np.int64(3), arr=np.arange(3, dtype=np.float32)),
        state_dict={'w': torch.ones(2)})
    path = tmp_path / 'ckpt.pth'
    torch.save(state, path)
    loaded = torch.load(path, weights_only=True)
    assert loaded['log_scalars']['train/loss'].mean() == pytest.approx(7 / 3)
    assert loaded['meta']['seed'] == 3
    np.testing.assert_array_equal(loaded['meta']['arr'], [0, 1, 2])


def test_only_history_buffer_statistics_are_reachable(tmp_path):
    register_checkpoint_safe_globals()
    ok = tmp_path / 'ok.pth'
    torch.save({'m': _GetattrPayload('mean')}, ok)
    assert torch.load(ok, weights_only=True)['m'] is HistoryBuffer.mean
    bad = tmp_path / 'bad.pth'
    torch.save({'m': _GetattrPayload('__init__')}, bad)
    with pytest.raises(pickle.UnpicklingError, match='refusing getattr'):
        torch.load(bad, weights_only=True)


def test_foreign_checkpoint_gets_a_one_line_explanation(tmp_path):
    path = tmp_path / 'foreign.pth'
    torch.save({'x': _Foreign()}, path)
    with pytest.raises(pickle.UnpicklingError) as err:
        torch.load(path, weights_only=True)
    msg = explain_unpickling_error(str(path), err.value)
    assert msg is not None and '\n' not in msg
    assert '_Foreign' in msg and 'extract_weights.py' in msg
    assert explain_unpickling_error('x', ValueError('other')) is None
