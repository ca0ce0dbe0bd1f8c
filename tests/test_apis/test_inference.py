"""init_model / inference_model and the learnt-task rule."""
import os.path as osp

import mmcv
import numpy as np
import pytest
import torch
from apis_helpers import TINY_LIFELONG

from had_mm.apis import (MultiTaskInferencer, inference_model, init_model,
                         learnt_tasks)

HEADS = ['semantic', 'depth', 'normal', 'saliency']
PHASES = [dict(task=t, max_iters=10) for t in HEADS]


def _ckpt(epoch, it, tasks=HEADS, **state):
    return dict(
        meta=dict(epoch=epoch, iter=it), lifelong=dict(tasks=tasks, **state))


@pytest.mark.parametrize(
    'epoch,it,num',
    [
        (1, 10, 1),  # phase_1_semantic.pth
        (0, 4, 1),  # in phase 1
        (1, 14, 2),  # in phase 2
        (1, 20, 2),  # end of phase 2, before its evaluation
        (4, 40, 4),  # phase_4_saliency.pth
    ])
def test_learnt_tasks_of_lifelong_checkpoints(epoch, it, num):
    assert learnt_tasks(_ckpt(epoch, it), HEADS, PHASES) == HEADS[:num]


def test_learnt_tasks_other_checkpoints():
    # not lifelong: every head
    assert learnt_tasks(dict(meta=dict(iter=5)), HEADS) == HEADS
    assert learnt_tasks(None, HEADS) == HEADS
    # phases by epochs: the finished phases (at least the first)
    assert learnt_tasks(_ckpt(2, 30), HEADS, None) == HEADS[:2]
    assert learnt_tasks(_ckpt(0, 3), HEADS, None) == HEADS[:1]
    # another order: returned in head order
    order = ['depth', 'semantic', 'normal', 'saliency']
    assert learnt_tasks(_ckpt(2, 20, order), HEADS) == ['semantic', 'depth']
    # class-incremental phases are not tasks: every head
    assert learnt_tasks(_ckpt(1, 5, ['old', 'new']), ['semantic']) == \
        ['semantic']


def test_inference_model_equals_the_inferencer(lifelong_run,
                                               synthetic_rooms_root):
    ckpt = osp.join(lifelong_run, 'phase_2_depth.pth')
    model = init_model(TINY_LIFELONG, ckpt, device='cpu')
    assert model.learnt_tasks == ['semantic', 'depth']
    assert len(model.dataset_meta['classes']) == 13
    image = osp.join(synthetic_rooms_root, 'image', 'test', '00000.png')
    sample = inference_model(model, image)
    assert 'pred_sem_seg' in sample and 'pred_depth_map' in sample
    assert 'pred_normal' not in sample
    ref = MultiTaskInferencer(TINY_LIFELONG, ckpt, device='cpu')(image)
    np.testing.assert_array_equal(sample.pred_sem_seg.data[0].numpy(),
                                  ref['predictions']['semantic'])
    torch.testing.assert_close(sample.pred_depth_map.data[0],
                               torch.from_numpy(ref['predictions']['depth']))

    with pytest.warns(UserWarning, match='normal not learnt yet'):
        samples = inference_model(
            model, [image, mmcv.imread(image)], ['normal'],
            channel_order='bgr',
            allow_untrained=True)
    assert len(samples) == 2
    assert all(list(s.keys()) == ['pred_normal'] for s in samples)
    torch.testing.assert_close(samples[0].pred_normal.data,
                               samples[1].pred_normal.data)


def test_init_model_device_and_missing_checkpoint(tmp_path):
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match='no GPU; use device "cpu"'):
            init_model(TINY_LIFELONG, None, device='cuda')
    with pytest.raises(FileNotFoundError, match='none.pth" does not exist'):
        init_model(TINY_LIFELONG, str(tmp_path / 'none.pth'), device='cpu')
