"""Distillation losses take task outputs (activated, at the label's size)
and refuse, in one line, a head's raw pre-activation output."""
import pytest
import torch
import torch.nn.functional as F
from mmengine.registry import init_default_scope

from had_mm.registry import MODELS

pytestmark = pytest.mark.output_contract


@pytest.fixture(autouse=True)
def _scope():
    init_default_scope('had_mm')


def _depth(values):
    return torch.tensor(values, dtype=torch.float32).view(1, 1, 1, -1)


@pytest.mark.parametrize('loss', ['HADLoss', 'PixelDistillLoss', 'SGHADLoss'])
def test_negative_depth_is_refused_by_name(loss):
    fn = MODELS.build(dict(type=loss, task='depth'))
    good = _depth([0.5, 2.0, 3.0, 1.0])
    raw = _depth([-0.25, 2.0, 3.0, 1.0])  # a pre-activation output
    with pytest.raises(ValueError) as err:
        fn(raw, good)
    msg = str(err.value)
    assert msg.startswith(f"{loss}(task='depth'): the student output has "
                          'negative values (min -0.25); it takes depth task '
                          'outputs (activated')
    assert '\n' not in msg
    with pytest.raises(ValueError, match='the teacher output has negative'):
        MODELS.build(dict(type=loss, task='depth'))(good, raw)
    assert torch.isfinite(fn(good, good))  # task outputs pass


def test_normals_must_be_unit_vectors_or_zero():
    fn = MODELS.build(dict(type='HADLoss', task='normal'))
    unit = F.normalize(torch.randn(2, 3, 4, 4), dim=1)
    unit[0, :, 0, 0] = 0  # an invalid (zero) vector is allowed
    assert torch.isfinite(fn(unit, unit))
    fn = MODELS.build(dict(type='HADLoss', task='normal'))
    with pytest.raises(ValueError, match='is not unit vectors'):
        fn(unit * 2, unit)


def test_the_check_runs_on_the_first_call_only():
    """A wiring mistake shows on the first batch; later calls skip the
    device sync of the check."""
    fn = MODELS.build(dict(type='HADLoss', task='depth'))
    good = _depth([0.5, 2.0, 3.0, 1.0])
    fn(good, good)
    fn(_depth([-1.0, 2.0, 3.0, 1.0]), good)  # not checked again
