"""MultiTaskInferencerLoader: files as LoadMultiTaskImage, arrays in their
channel order (RGB by default)."""
import mmcv
import numpy as np
import pytest

from had_mm.datasets.transforms import (LoadMultiTaskImage,
                                        MultiTaskInferencerLoader)


def test_file_and_array(tmp_path):
    img = (np.arange(6 * 7 * 3) % 256).astype(np.uint8).reshape(6, 7, 3)
    path = str(tmp_path / 'x.png')
    mmcv.imwrite(img, path)
    loader = MultiTaskInferencerLoader()
    from_file = loader(dict(img=path))
    ref = LoadMultiTaskImage()(dict(img_path=path))
    np.testing.assert_array_equal(from_file['img'], ref['img'])
    assert from_file['img_path'] == path
    assert from_file['ori_shape'] == (6, 7)
    from_array = MultiTaskInferencerLoader('bgr')(dict(img=img))
    np.testing.assert_array_equal(from_array['img'], img)
    from_rgb = loader(dict(img=img[..., ::-1]))  # RGB by default
    np.testing.assert_array_equal(from_rgb['img'], img)
    assert 'img_path' not in from_array
    gray = loader(dict(img=img[..., 0]))['img']
    assert gray.shape == (6, 7, 3)


def test_bad_inputs(tmp_path):
    loader = MultiTaskInferencerLoader()
    bad = tmp_path / 'bad.jpg'
    bad.write_bytes(b'\x00\x01 not a jpeg')
    with pytest.raises(ValueError, match='bad.jpg" is not an image'):
        loader(dict(img=str(bad)))
    with pytest.raises(FileNotFoundError, match='does not exist'):
        loader(dict(img=str(tmp_path / 'none.png')))
    with pytest.raises(ValueError, match='HxWx3'):
        loader(dict(img=np.zeros((4, 4, 4), np.uint8)))
    with pytest.raises(ValueError, match='list'):
        loader(dict(img=[1, 2]))
