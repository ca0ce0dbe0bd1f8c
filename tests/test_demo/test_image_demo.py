"""demo/image_demo.py: panels and prediction files, one-line errors."""
import importlib.util
import os
import os.path as osp
import sys

import mmcv
import pytest
import torch
from tool_runner import REPO, run_tool

DEMO = osp.join(REPO, 'demo', 'image_demo.py')
TINY_LIFELONG = osp.join(REPO, 'tests', 'data', 'configs', 'tiny_lifelong.py')
TINY_SEG = osp.join(REPO, 'tests', 'data', 'configs', 'tiny_seg.py')


@pytest.fixture(scope='module')
def phase_2_checkpoint(tmp_path_factory) -> str:
    """A checkpoint as the lifelong loop writes it after phase 2 of
    tiny_lifelong.py (semantic, depth learnt; initial weights)."""
    from mmengine.config import Config

    from had_mm.registry import MODELS
    from had_mm.utils import register_all_modules
    register_all_modules()
    model = MODELS.build(Config.fromfile(TINY_LIFELONG).model)
    path = str(tmp_path_factory.mktemp('demo_ckpt') / 'phase_2_depth.pth')
    torch.save(
        dict(
            state_dict=model.state_dict(),
            meta=dict(epoch=2, iter=6),
            lifelong=dict(tasks=['semantic', 'depth', 'normal'])), path)
    return path


def _demo(*args):
    proc = run_tool([sys.executable, DEMO, *args])
    return proc, proc.stdout + proc.stderr


def test_demo_writes_panels_and_predictions(phase_2_checkpoint,
                                            synthetic_rooms_root, tmp_path):
    image = osp.join(synthetic_rooms_root, 'image', 'test', '00000.png')
    out = tmp_path / 'out'
    proc, log = _demo(image, TINY_LIFELONG, phase_2_checkpoint, '--out-dir',
                      str(out), '--device', 'cpu')
    assert proc.returncode == 0, log[-3000:]
    assert 'tasks: semantic, depth' in log
    h, w = mmcv.imread(image).shape[:2]
    panel = mmcv.imread(str(out / 'vis' / '00000.png'))
    # the image and 2 task panels, named, with their keys below
    assert panel.shape[0] > h and panel.shape[1] > 3 * w
    for name in ('00000_semantic.png', '00000_depth.png', '00000_depth.npy'):
        assert (out / 'pred' / name).is_file(), name
    assert not (out / 'pred' / '00000_normal.png').exists()

    # a folder, in this process (a subprocess start costs seconds)
    _demo_main()([
        osp.dirname(image), TINY_LIFELONG, phase_2_checkpoint, '--out-dir',
        str(tmp_path / 'folder'), '--tasks', 'normal', '--no-pred',
        '--allow-untrained'
    ])
    panels = sorted(p.name for p in (tmp_path / 'folder' / 'vis').iterdir())
    assert panels == sorted(os.listdir(osp.dirname(image)))
    assert not (tmp_path / 'folder' / 'pred').exists()


def _demo_main():
    spec = importlib.util.spec_from_file_location('image_demo', DEMO)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.main


def _assert_one_error_line(capsys, argv, *needles):
    """Run the demo in this process (the subprocess start costs seconds)."""
    with pytest.raises(SystemExit) as exit_info:
        _demo_main()(argv)
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    errors = [ln for ln in err.splitlines() if ln.startswith('error:')]
    assert len(errors) == 1, err[-3000:]
    for needle in needles:
        assert needle in errors[0], errors[0]


def test_demo_errors(phase_2_checkpoint, synthetic_rooms_root, tmp_path,
                     capsys):
    image = osp.join(synthetic_rooms_root, 'image', 'test', '00000.png')
    fake = tmp_path / 'fake.png'
    fake.write_text('not an image')
    out = ['--out-dir', str(tmp_path / 'out'), '--device', 'cpu']
    _assert_one_error_line(
        capsys, [str(fake), TINY_LIFELONG, phase_2_checkpoint] + out,
        'fake.png" is not an image')
    _assert_one_error_line(
        capsys,
        [image, TINY_LIFELONG, phase_2_checkpoint, '--tasks', 'saliency'] +
        out, 'no head for task(s) saliency')
    _assert_one_error_line(
        capsys,
        [image, TINY_LIFELONG, phase_2_checkpoint, '--tasks', 'normal'] + out,
        'normal not learnt yet', '--allow-untrained')
    _assert_one_error_line(capsys, [image, TINY_SEG, phase_2_checkpoint] + out,
                           'does not fit', 'phase_2_depth.pth')
    _assert_one_error_line(capsys,
                           [image, TINY_LIFELONG,
                            str(tmp_path / 'none.pth')] + out,
                           'none.pth" does not exist')
