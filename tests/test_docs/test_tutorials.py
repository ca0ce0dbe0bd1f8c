"""The tutorials in docs/en run as written: every ```bash block of a
tutorial, in order, in one shell, with quick settings from the environment
(2 iterations per phase, tiny data). The NYUv2 one is marked slow
(``pytest -m slow``)."""
import os
import os.path as osp
import re
import sys

import numpy as np
import pytest
from tool_runner import REPO, run_tool

DOCS = osp.join(REPO, 'docs', 'en')


def _script(name: str) -> str:
    """The bash blocks of ``docs/en/<name>``, in order."""
    text = open(osp.join(DOCS, name)).read()
    blocks = re.findall(r'```bash\n(.*?)```', text, re.S)
    assert blocks, name
    return '\n'.join(blocks)


def _run(name: str, **env) -> str:
    env = dict(env)
    # `python` in the tutorials is this environment's interpreter
    env['PATH'] = osp.dirname(sys.executable) + os.pathsep + os.environ['PATH']
    proc = run_tool(['bash', '-euo', 'pipefail', '-c',
                     _script(name)],
                    env=env,
                    timeout=900)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-5000:]
    return out


def test_mmseg_project(synthetic_rooms_root, tmp_path):
    work = tmp_path / 'project'
    out = _run(
        'advanced_guides/mmseg_project.md',
        WORK=str(work),
        DATA=synthetic_rooms_root,
        ITERS='2',
        CROP='32, 40')
    assert 'Lifelong task matrix' in out
    assert (work / 'run' / 'phase_4_saliency.pth').is_file()
    assert (work / 'predictions' / 'vis' / '00000.png').is_file()
    assert (work / 'predictions' / 'pred' / '00000_depth.png').is_file()
    # section 4: the stock DeepLabV3, inherited by its mmseg:: name, trains
    # with had_mm's BCE as its decode losses and validates
    assert re.search(r'decode\.loss_saliency: \d', out), out[-3000:]
    assert re.search(r'aux\.loss_saliency: \d', out)
    assert re.search(r'\| *object *\|', out)  # the IoU table


def test_own_backbone(synthetic_rooms_root, tmp_path):
    work = tmp_path / 'backbone'
    out = _run(
        'advanced_guides/own_backbone.md',
        WORK=str(work),
        DATA=synthetic_rooms_root,
        ITERS='2',
        PRETRAIN_ITERS='2')
    assert "type='TinyCNN'" in out
    assert f'Loads checkpoint by local backend from path: ' \
        f'{work}/pretrained/tiny_cnn.pth' in out
    assert 'Lifelong task matrix' in out


def _fake_labelled_mat(folder) -> dict:
    """A 12-image stand-in of nyu_depth_v2_labeled.mat (HDF5, MATLAB's
    N x C x W x H order), its split and 894 -> 40 mapping files."""
    h5py = pytest.importorskip('h5py')
    from scipy.io import savemat
    rng = np.random.default_rng(0)
    n, h, w = 12, 48, 64
    yy, xx = np.mgrid[0:h, 0:w]
    labels = np.zeros((n, h, w), np.uint16)
    for i in range(n):
        # blocks of raw classes: 21 = wall, 11 = floor (of mapping below),
        # and objects
        labels[i] = np.where(yy < h // 2, 21, 11)
        labels[i][(xx > 10 + i) & (xx < 30 + i) & (yy > 20)] = 5 + i
    depth = (1.0 + 4.0 * yy / h + 0.1 * rng.random(
        (n, h, w))).astype(np.float32)
    images = rng.integers(0, 255, (n, h, w, 3), dtype=np.uint8)
    mat = str(folder / 'nyu.mat')
    with h5py.File(mat, 'w') as f:
        f.create_dataset('images', data=images.transpose(0, 3, 2, 1))
        f.create_dataset('depths', data=depth.transpose(0, 2, 1))
        f.create_dataset('labels', data=labels.transpose(0, 2, 1))
    splits = str(folder / 'splits.mat')
    savemat(
        splits,
        dict(
            trainNdxs=np.arange(1, 9)[:, None],
            testNdxs=np.arange(9, 13)[:, None]))
    mapping = str(folder / 'classMapping40.mat')
    savemat(mapping, dict(mapClass=(np.arange(894) % 40 + 1)[None]))
    return dict(MAT=mat, SPLITS=splits, MAPPING=mapping)


@pytest.mark.slow  # nine tool runs (conversion to dist_test): minutes
def test_nyuv2_8gpus(tmp_path):
    work = tmp_path / 'nyuv2'
    files = _fake_labelled_mat(tmp_path)
    # the local-weights override of the tutorial, so that nothing downloads
    # (an empty state dict: the backbone keeps its initialisation)
    weights = tmp_path / 'resnet18_v1c-b5776b93.pth'
    __import__('torch').save({'state_dict': {}}, weights)
    out = _run(
        'user_guides/nyuv2_8gpus.md',
        WEIGHTS=str(weights),
        WORK=str(work),
        NYU=str(tmp_path / 'nyuv2_data'),
        GPUS='1',
        BATCH='2',
        EPOCHS='1',
        CROP='48, 64',
        **files)
    assert 'Lifelong task matrix' in out
    assert (work / 'had_4tasks' / 'phase_4_saliency.pth').is_file()
    assert (work / 'had_4tasks_curves.png').is_file()
    assert re.search(r'saliency/max_f: \d', out), out[-3000:]
