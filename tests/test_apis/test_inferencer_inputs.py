"""The inferencer keeps every input's outputs, reads arrays as RGB (or as
told), and refuses heads the checkpoint never trained unless asked."""
import os.path as osp

import mmcv
import numpy as np
import pytest
import torch
from apis_helpers import TINY_LIFELONG
from PIL import Image

from had_mm.apis import MultiTaskInferencer, inference_model, init_model


@pytest.fixture(scope='module')
def phase_1_checkpoint(tmp_path_factory) -> str:
    """A checkpoint as the lifelong loop writes it after phase 1 of
    tiny_lifelong.py (semantic learnt; initial weights, no training)."""
    from mmengine.config import Config

    from had_mm.registry import MODELS
    from had_mm.utils import register_all_modules
    register_all_modules()
    torch.manual_seed(0)
    model = MODELS.build(Config.fromfile(TINY_LIFELONG).model)
    path = str(tmp_path_factory.mktemp('ckpt') / 'phase_1_semantic.pth')
    torch.save(
        dict(
            state_dict=model.state_dict(),
            meta=dict(epoch=1, iter=3),
            lifelong=dict(
                tasks=['semantic', 'depth', 'normal'], phase_iters=[3, 3, 3])),
        path)
    return path


def _image(root, name='00000.png') -> str:
    return osp.join(root, 'image', 'test', name)


def test_inputs_sharing_a_name_keep_their_extension(phase_1_checkpoint,
                                                    synthetic_rooms_root,
                                                    tmp_path):
    folder = tmp_path / 'photos'
    folder.mkdir()
    mmcv.imwrite(
        mmcv.imread(_image(synthetic_rooms_root)), str(folder / 'chelsea.png'))
    mmcv.imwrite(
        mmcv.imread(_image(synthetic_rooms_root, '00004.png')),
        str(folder / 'chelsea.bmp'))
    inferencer = MultiTaskInferencer(
        TINY_LIFELONG, phase_1_checkpoint, device='cpu')
    out = tmp_path / 'out'
    preds = inferencer(str(folder), out_dir=str(out))['predictions']
    assert len(preds) == 2
    assert sorted(p.name for p in (out / 'vis').iterdir()) == [
        'chelsea_bmp.png', 'chelsea_png.png'
    ]
    for name, pred in zip(('chelsea_bmp', 'chelsea_png'), preds):
        saved = np.array(Image.open(out / 'pred' / f'{name}_semantic.png'))
        np.testing.assert_array_equal(saved, pred['semantic'])
    # unique names stay as they were
    inferencer(_image(synthetic_rooms_root), out_dir=str(out))
    assert (out / 'pred' / '00000_semantic.png').is_file()


def test_one_file_name_in_two_folders_is_refused(phase_1_checkpoint,
                                                 synthetic_rooms_root,
                                                 tmp_path):
    for sub in ('a', 'b'):
        (tmp_path / sub).mkdir()
        mmcv.imwrite(
            mmcv.imread(_image(synthetic_rooms_root)),
            str(tmp_path / sub / 'x.png'))
    inferencer = MultiTaskInferencer(
        TINY_LIFELONG, phase_1_checkpoint, device='cpu')
    out = tmp_path / 'out'
    with pytest.raises(ValueError) as err:
        inferencer(
            [str(tmp_path / 'a'), str(tmp_path / 'b')], out_dir=str(out))
    msg = str(err.value)
    assert '\n' not in msg and 'would both write outputs named "x_png"' in msg
    assert osp.join('a', 'x.png') in msg and osp.join('b', 'x.png') in msg
    assert not out.exists()  # refused before anything was written


def test_arrays_are_rgb_or_bgr_when_told(phase_1_checkpoint,
                                         synthetic_rooms_root):
    image = _image(synthetic_rooms_root)
    rgb = mmcv.imread(image, channel_order='rgb')  # as skimage/PIL give
    inferencer = MultiTaskInferencer(
        TINY_LIFELONG, phase_1_checkpoint, device='cpu')
    from_file = inferencer(image)['predictions']
    np.testing.assert_array_equal(
        inferencer(rgb)['predictions']['semantic'], from_file['semantic'])
    bgr = MultiTaskInferencer(
        TINY_LIFELONG, phase_1_checkpoint, device='cpu', channel_order='bgr')
    np.testing.assert_array_equal(
        bgr(rgb[..., ::-1])['predictions']['semantic'], from_file['semantic'])
    model = init_model(TINY_LIFELONG, phase_1_checkpoint, device='cpu')
    np.testing.assert_array_equal(
        inference_model(model, rgb).pred_sem_seg.data[0].numpy(),
        from_file['semantic'])
    np.testing.assert_array_equal(
        inference_model(model, rgb[..., ::-1],
                        channel_order='bgr').pred_sem_seg.data[0].numpy(),
        from_file['semantic'])


def test_untrained_heads_are_refused_unless_asked_for(phase_1_checkpoint,
                                                      synthetic_rooms_root):
    image = _image(synthetic_rooms_root)
    with pytest.raises(ValueError) as err:
        MultiTaskInferencer(
            TINY_LIFELONG, phase_1_checkpoint, tasks=['depth'], device='cpu')
    msg = str(err.value)
    assert 'depth not learnt yet' in msg and 'learnt: semantic' in msg
    assert 'allow_untrained=True' in msg and '\n' not in msg
    inferencer = MultiTaskInferencer(
        TINY_LIFELONG, phase_1_checkpoint, device='cpu')
    assert inferencer.tasks == ['semantic']
    with pytest.raises(ValueError, match='normal not learnt yet'):
        inferencer(image, tasks=['semantic', 'normal'])
    model = init_model(TINY_LIFELONG, phase_1_checkpoint, device='cpu')
    with pytest.raises(ValueError, match='depth not learnt yet'):
        inference_model(model, image, tasks=['depth'])

    with pytest.warns(UserWarning, match='depth not learnt yet'):
        asked = MultiTaskInferencer(
            TINY_LIFELONG,
            phase_1_checkpoint,
            tasks=['depth'],
            device='cpu',
            allow_untrained=True)
    assert list(asked(image)['predictions']) == ['depth']
    with pytest.warns(UserWarning, match='depth not learnt yet'):
        sample = inference_model(
            model, image, tasks=['depth'], allow_untrained=True)
    assert 'pred_depth_map' in sample
