import pytest
import torch
from mmengine.registry import init_default_scope

from had_mm.registry import MODELS

BODY = dict(
    type='FCNHead',
    in_channels=4,
    channels=4,
    num_convs=1,
    concat_input=False,
    norm_cfg=None)


@pytest.fixture(autouse=True)
def _scope():
    init_default_scope('had_mm')


@pytest.mark.parametrize('activation', ['sigmoid', 'exp', 'softplus'])
def test_depth_head_is_positive(activation):
    head = MODELS.build(
        dict(
            type='DepthHead', body=BODY, activation=activation, max_depth=5.0))
    raw = head(torch.randn(2, 4, 6, 6) * 10)
    assert raw.shape == (2, 1, 6, 6)
    out = head.predict_by_feat(raw, (12, 12))
    assert out.shape == (2, 1, 12, 12) and (out > 0).all()
    if activation == 'sigmoid':
        assert out.max() <= 5.0
        torch.testing.assert_close(
            head.activate(torch.zeros(1, 1, 1, 1)),
            torch.full((1, 1, 1, 1), 2.5))
    if activation == 'exp':
        torch.testing.assert_close(
            head.activate(torch.log(torch.full((1, 1, 1, 1), 3.0))),
            torch.full((1, 1, 1, 1), 3.0))


def test_depth_head_rejects_unknown_activation():
    with pytest.raises(ValueError, match='sigmoid'):
        MODELS.build(dict(type='DepthHead', body=BODY, activation='relu6'))


def test_normal_head_outputs_unit_vectors_after_resize():
    head = MODELS.build(dict(type='NormalHead', body=BODY))
    out = head.predict_by_feat(head(torch.randn(2, 4, 5, 5)), (11, 9))
    assert out.shape == (2, 3, 11, 9)
    torch.testing.assert_close(out.norm(dim=1), torch.ones(2, 11, 9))


def test_any_mmseg_decoder_can_be_the_body():
    body = dict(
        type='SegformerHead',
        in_channels=[4, 8],
        in_index=[0, 1],
        channels=8,
        norm_cfg=None)
    head = MODELS.build(dict(type='SaliencyHead', body=body))
    raw = head([torch.randn(1, 4, 8, 8), torch.randn(1, 8, 4, 4)])
    assert raw.shape == (1, 1, 8, 8)
    probs = head.to_pixel_data(raw[0])['pred_saliency'].data
    assert probs.min() >= 0 and probs.max() <= 1


def test_a_stock_body_loss_decode_is_dropped_with_a_note(monkeypatch):
    """A stock decode_head as the body brings mmseg's default loss_decode:
    it would be built and never called, so it is dropped, and the log says
    so; None is dropped silently."""
    from had_mm.models.heads import dense_task_head
    notes = []
    monkeypatch.setattr(dense_task_head, 'print_log',
                        lambda msg, **kwargs: notes.append(msg))
    stock = dict(
        type='mmseg.CrossEntropyLoss', use_sigmoid=False, loss_weight=1.0)
    for loss_decode in (stock, None):
        head = MODELS.build(
            dict(
                type='DepthHead',
                body=dict(BODY, loss_decode=loss_decode),
                loss=dict(type='MaskedL1Loss')))
        assert not any(
            type(m).__name__ == 'CrossEntropyLoss' for m in head.modules())
        assert type(head.loss_module).__name__ == 'MaskedL1Loss'
    assert notes == [
        f'DepthHead: body.loss_decode {stock} is not used; the head trains '
        "with loss={'type': 'MaskedL1Loss'}"
    ]


@pytest.mark.parametrize('loss_decode', [
    dict(type='DiceLoss'),
    dict(type='CrossEntropyLoss', loss_weight=0.4),
    dict(type='CrossEntropyLoss', class_weight=[1.0, 2.0]),
    [dict(type='CrossEntropyLoss'),
     dict(type='DiceLoss')],
])
def test_any_other_body_loss_decode_is_refused(loss_decode):
    """A loss_decode the user chose would be silently ignored: refused in
    one line naming the fix."""
    with pytest.raises(ValueError) as err:
        MODELS.build(
            dict(
                type='DepthHead',
                body=dict(BODY, loss_decode=loss_decode),
                loss=dict(type='MaskedL1Loss')))
    text = str(err.value)
    assert '\n' not in text
    assert text.startswith(f'DepthHead: body.loss_decode {loss_decode} '
                           f'would never be called')
    assert 'set body.loss_decode=None' in text
