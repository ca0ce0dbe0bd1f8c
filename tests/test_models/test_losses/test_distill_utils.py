import math

import numpy as np
import pytest
import torch

from had_mm.models.losses import (pixel_distill_loss_map, sobel_magnitude,
                                  teacher_pseudo_label)
from had_mm.tasks import BUILTIN_TASKS as TASK_TYPES

NAN = float('nan')
CHANNELS = dict(semantic=4, depth=1, normal=3, saliency=1)


def _random_pair(task, seed, b_size=2, size=4):
    gen = torch.Generator().manual_seed(seed)
    shape = (b_size, CHANNELS[task], size, size)
    student = torch.randn(shape, generator=gen)
    teacher = torch.randn(shape, generator=gen)
    if task == 'depth':
        student, teacher = student.abs() + 0.1, teacher.abs() + 0.1
    teacher[0, :, 0, 1] = NAN  # a non-finite pseudo-label
    return student, teacher


def test_task_types():
    assert TASK_TYPES == ('semantic', 'depth', 'normal', 'saliency')


def test_unknown_task_message():
    with pytest.raises(ValueError) as err:
        teacher_pseudo_label('edges', torch.zeros(1, 1, 2, 2))
    message = str(err.value)
    assert "'edges'" in message
    assert all(repr(task) in message for task in TASK_TYPES)
    with pytest.raises(ValueError, match='edges'):
        pixel_distill_loss_map('edges', torch.zeros(1, 1, 2, 2),
                               torch.zeros(1, 1, 2, 2))


def test_teacher_pseudo_label_hand():
    inf = float('inf')
    sem = torch.tensor([[[[1., 5., -inf, 0.]], [[3., 2., 0., inf]],
                         [[0., NAN, 1., 0.]]]])
    # a NaN or +inf logit invalidates the pixel; a -inf one does not
    assert teacher_pseudo_label('semantic',
                                sem).tolist() == [[[1, 255, 2, 255]]]

    depth = torch.tensor([[[[2.5, NAN]]]], requires_grad=True)
    pseudo = teacher_pseudo_label('depth', depth)
    assert not pseudo.requires_grad
    assert pseudo[0, 0, 0, 0].item() == 2.5
    assert math.isnan(pseudo[0, 0, 0, 1].item())

    normal = torch.tensor([[[[3., 0.]], [[4., 0.]], [[0., 0.]]]])
    pseudo = teacher_pseudo_label('normal', normal)
    assert pseudo[0, :, 0, 0].tolist() == pytest.approx([0.6, 0.8, 0.0])
    assert pseudo[0, :, 0, 1].tolist() == [0., 0., 0.]

    sal = torch.tensor([[[[-0.1, 0.2, NAN]]]])
    assert teacher_pseudo_label('saliency', sal).tolist() == [[[[0., 1.,
                                                                 255.]]]]


def test_loss_map_hand_values():
    # semantic, C = 2: teacher says class 1 then class 0
    student = torch.tensor([[[[0., 1.]], [[2., 1.]]]])
    teacher = torch.tensor([[[[0., 3.]], [[1., 2.]]]])
    loss, valid = pixel_distill_loss_map(
        'semantic', student, teacher_pseudo_label('semantic', teacher))
    expected = [math.log(1 + math.exp(-2.)), math.log(2.)]
    assert loss[0, 0].tolist() == pytest.approx(expected, rel=1e-6)
    assert valid.all()

    # normal: the TRUE dot product (the reference divides it by 3)
    student = torch.tensor([[[[1.]], [[1.]], [[0.]]]])
    teacher = torch.tensor([[[[1.]], [[0.]], [[0.]]]])
    loss, _ = pixel_distill_loss_map('normal', student, teacher)
    assert loss.item() == pytest.approx(1 - 1 / math.sqrt(2), rel=1e-6)

    # depth with a NaN pseudo-label
    loss, valid = pixel_distill_loss_map('depth', torch.tensor([[[[1., 2.]]]]),
                                         torch.tensor([[[[3., NAN]]]]))
    assert loss.tolist() == [[[2., 0.]]]
    assert valid.tolist() == [[[True, False]]]

    # saliency: BCE of logit 0 is log 2 whatever the label
    loss, _ = pixel_distill_loss_map('saliency', torch.zeros(1, 1, 1, 2),
                                     torch.tensor([[[[0., 1.]]]]))
    assert loss[0, 0].tolist() == pytest.approx([math.log(2.)] * 2)


@pytest.mark.parametrize('task', TASK_TYPES)
def test_loss_map_against_loop(task, ref):
    student, teacher = _random_pair(task, seed=3)
    student.requires_grad_()
    pseudo = teacher_pseudo_label(task, teacher)
    loss, valid = pixel_distill_loss_map(task, student, pseudo)
    expected, expected_valid = ref.loss_map(task,
                                            student.detach().numpy(),
                                            teacher.numpy())
    assert loss.shape == (2, 4, 4) and valid.dtype == torch.bool
    assert np.array_equal(valid.numpy(), expected_valid)
    np.testing.assert_allclose(
        loss.detach().numpy(), expected, rtol=1e-5, atol=1e-6)
    assert not valid[0, 0, 1]
    loss.sum().backward()
    assert torch.isfinite(student.grad).all()
    # the invalid pixel gets no gradient
    assert torch.equal(student.grad[0, :, 0, 1], torch.zeros(CHANNELS[task]))


def test_sobel_hand_impulse():
    image = torch.zeros(1, 3, 3)
    image[0, 1, 1] = 1
    r2 = math.sqrt(2)
    expected = [[r2, 2, r2], [2, 0, 2], [r2, 2, r2]]
    assert sobel_magnitude(image)[0].tolist() == [
        pytest.approx(row) for row in expected
    ]


def test_sobel_against_loop(ref):
    image = torch.randn(2, 4, 5, generator=torch.Generator().manual_seed(4))
    out = sobel_magnitude(image)
    assert out.shape == (2, 4, 5)
    for b in range(2):
        np.testing.assert_allclose(
            out[b].numpy(), ref.sobel(image[b].numpy()), rtol=1e-5, atol=1e-5)
