"""HAD in a stock mmseg segmentor, through custom_imports and config only."""
import copy
import glob
import json
import os
import os.path as osp
import subprocess
import sys

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope

from had_mm.registry import MODELS, TRANSFORMS
from had_mm.utils import register_all_modules

REPO = osp.dirname(
    osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))
TINY_HAD = osp.join(osp.dirname(osp.abspath(__file__)), 'data', 'tiny_had.py')
PACKAGE = 'projects.had_in_mmseg.had_in_mmseg'


@pytest.fixture(scope='module', autouse=True)
def _registered():
    register_all_modules(init_default_scope=False)
    init_default_scope('had_mm')
    __import__(PACKAGE)


def _tiny_model(cfg: Config):
    return MODELS.build(copy.deepcopy(cfg.model))


def _inputs(model, n: int = 2):
    from mmengine.structures import PixelData
    from mmseg.structures import SegDataSample
    torch.manual_seed(0)
    imgs, samples = [], []
    for _ in range(n):
        imgs.append(torch.randint(0, 255, (3, 32, 40), dtype=torch.uint8))
        sample = SegDataSample()
        label = torch.randint(7, 13, (1, 32, 40))
        sample.gt_sem_seg = PixelData(data=label)
        sample.set_metainfo(
            dict(img_shape=(32, 40), ori_shape=(32, 40), pad_shape=(32, 40)))
        samples.append(sample)
    data = model.data_preprocessor(
        dict(inputs=imgs, data_samples=samples), True)
    return data['inputs'], data['data_samples']


def test_select_classes_sets_other_labels_to_ignore():
    transform = TRANSFORMS.build(dict(type='SelectClasses', classes=[1, 3]))
    gt = np.array([[0, 1, 2], [3, 255, 1]], dtype=np.uint8)
    out = transform(dict(gt_seg_map=gt.copy()))['gt_seg_map']
    np.testing.assert_array_equal(
        out, np.array([[255, 1, 255], [3, 255, 1]], dtype=np.uint8))
    assert out.dtype == np.uint8
    with pytest.raises(ValueError):
        TRANSFORMS.build(dict(type='SelectClasses', classes=[]))


def test_distiller_adds_distillation_only_with_a_teacher():
    cfg = Config.fromfile(TINY_HAD)
    model = _tiny_model(cfg)
    assert model.segmentor.__class__.__name__ == 'EncoderDecoder'
    inputs, samples = _inputs(model)
    keys = set(model.loss(inputs, samples))
    assert 'loss_distill' not in keys

    teacher = copy.deepcopy(model)
    distill = MODELS.build(dict(type='HADLoss', task='semantic'))
    model.attach_teacher(
        teacher, loss=distill, weight=3.0, old_classes=list(range(7)))
    # the teacher is in no state dict and no parameter list
    assert model.state_dict().keys() == teacher.state_dict().keys()
    assert sum(1 for _ in model.parameters()) == sum(
        1 for _ in teacher.parameters())
    assert all(k.startswith('segmentor.') for k in model.state_dict())
    model.train()
    assert not teacher.training
    losses = model.loss(inputs, samples)
    assert set(losses) == keys | {'loss_distill'}
    assert torch.isfinite(losses['loss_distill'])
    # the shared-feature loss equals the segmentor's own loss
    torch.testing.assert_close(
        losses['decode.loss_ce'],
        model.segmentor.loss(inputs, samples)['decode.loss_ce'])
    sum(v for k, v in losses.items() if 'loss' in k).backward()
    assert all(p.grad is None for p in teacher.parameters())
    assert model.segmentor.decode_head.conv_seg.weight.grad is not None

    model.detach_teacher()
    assert model.teacher is None
    assert 'loss_distill' not in model.loss(inputs, samples)


def test_class_group_iou_metric():
    from mmseg.registry import METRICS
    metric = METRICS.build(
        dict(type='ClassGroupIoUMetric', class_groups=dict(a=[0], b=[1, 2])))
    metric.dataset_meta = dict(classes=('x', 'y', 'z'))
    # class 0: IoU 1; class 1: IoU 0.5; class 2: absent (NaN, skipped)
    metric.results = [(torch.tensor([2., 1., 0.]), torch.tensor([2., 2., 0.]),
                       torch.tensor([2., 2., 0.]), torch.tensor([2., 1., 0.]))]
    out = metric.compute_metrics(metric.results)
    assert out['mIoU_a'] == 100.0
    assert out['mIoU_b'] == 50.0
    assert out['mIoU'] == 75.0


@pytest.mark.parametrize('name', ['had', 'finetune'])
def test_project_configs_build_the_stock_segmentor(name):
    cfg = Config.fromfile(
        osp.join(REPO, 'projects', 'had_in_mmseg', 'configs',
                 f'r18-d8_synthetic-rooms_7-6_{name}.py'))
    assert cfg.custom_imports.imports == [PACKAGE]
    assert (cfg.train_cfg.distill is None) == (name == 'finetune')
    model = MODELS.build(cfg.model)
    assert type(model.segmentor).__name__ == 'EncoderDecoder'
    assert type(model.segmentor.decode_head).__name__ == 'ASPPHead'


def _data_opts(data_root: str) -> list:
    return [
        f'{k}.dataset.data_root={data_root}'
        for k in ('train_dataloader', 'val_dataloader', 'test_dataloader')
    ]


def _run(args: list) -> subprocess.CompletedProcess:
    """Run a script from the repo root with the root on PYTHONPATH."""
    env = dict(os.environ)
    env['PYTHONPATH'] = REPO + os.pathsep + env.get('PYTHONPATH', '')
    env.setdefault('OMP_NUM_THREADS', '1')
    proc = subprocess.run(
        [sys.executable] + args,
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc


def test_two_phase_run_through_tools_train(rooms_root, tmp_path):
    """tools/train.py + custom_imports: phase checkpoints, report, and
    weights that load into the plain stock EncoderDecoder."""
    from projects.had_in_mmseg.had_in_mmseg import segmentor_state_dict
    work = tmp_path / 'had'
    _run(
        ['tools/train.py', TINY_HAD, '--work-dir',
         str(work), '--cfg-options'] + _data_opts(rooms_root))
    ckpts = [work / 'phase_1_old.pth', work / 'phase_2_new.pth']
    assert all(p.is_file() for p in ckpts), os.listdir(work)
    log = open(glob.glob(str(work / '*' / '*.log'))[0]).read()
    assert 'distilling' in log and 'loss_distill' in log
    with open(work / 'lifelong' / 'lifelong_report.json') as f:
        report = json.load(f)
    assert report['tasks'] == ['old', 'new']
    assert report['directions'] == [1, 1]
    matrix = report['matrix']
    assert len(matrix) == 2 and matrix[0][1] is None
    assert all(isinstance(v, float) for v in matrix[1])
    assert 'mIoU_old' in report['final_metrics']

    # tools/test.py reads the checkpoint with the project config
    proc = _run([
        'tools/test.py', TINY_HAD,
        str(ckpts[1]), '--work-dir',
        str(tmp_path / 'test_had'), '--cfg-options'
    ] + _data_opts(rooms_root))
    assert 'mIoU_old' in proc.stdout + proc.stderr

    # the saved weights are the stock segmentor's
    cfg = Config.fromfile(TINY_HAD)
    plain = MODELS.build(copy.deepcopy(cfg.model.segmentor))
    state = torch.load(str(ckpts[1]), map_location='cpu')['state_dict']
    plain.load_state_dict(segmentor_state_dict(state), strict=True)

    # ... and the extracted checkpoint runs in a plain mmseg config
    out = tmp_path / 'segmentor.pth'
    _run([
        'projects/had_in_mmseg/tools/extract_segmentor.py',
        str(ckpts[1]),
        str(out)
    ])
    plain_cfg = osp.join(REPO, 'tests', 'data', 'configs', 'tiny_seg.py')
    proc = _run([
        'tools/test.py', plain_cfg,
        str(out), '--work-dir',
        str(tmp_path / 'test'), '--cfg-options'
    ] + _data_opts(rooms_root))
    assert 'mIoU' in proc.stdout + proc.stderr


def test_distiller_follows_the_teacher_protocol():
    from mmengine.optim import build_optim_wrapper

    from had_mm.models.distill import FrozenTeacherMixin
    model = _tiny_model(Config.fromfile(TINY_HAD))
    assert isinstance(model, FrozenTeacherMixin)
    teacher = copy.deepcopy(model)
    distill = MODELS.build(dict(type='HADLoss', task='semantic'))
    keys = list(model.state_dict())
    # its own arguments are checked first: nothing changes on an error
    with pytest.raises(ValueError, match='old classes'):
        model.attach_teacher(teacher, loss=distill, weight=3.0)
    assert model.teacher is None
    assert all(p.requires_grad for p in teacher.parameters())
    model.attach_teacher(teacher, loss=distill, weight=3.0, old_classes=[0])
    assert not any(p.requires_grad for p in teacher.parameters())
    model.train()
    assert not any(m.training for m in teacher.modules())
    assert list(model.state_dict()) == keys
    assert all(m is not teacher for m in model.modules())
    optim = build_optim_wrapper(
        model, dict(type='OptimWrapper', optimizer=dict(type='SGD', lr=0.1)))
    in_optim = {
        id(p)
        for g in optim.optimizer.param_groups
        for p in g['params']
    }
    assert not in_optim & {id(p) for p in teacher.parameters()}
    # .double() / .to() of the student move the teacher along
    model.double()
    assert {p.dtype for p in teacher.parameters()} == {torch.float64}
    model.to(torch.float32)
    assert {p.dtype for p in teacher.parameters()} == {torch.float32}
    with pytest.raises(ValueError, match='own teacher'):
        model.attach_teacher(model, loss=distill, weight=1.0, old_classes=[0])
    with pytest.raises(ValueError, match='one of its modules'):
        model.attach_teacher(
            model.segmentor, loss=distill, weight=1.0, old_classes=[0])
    assert model.teacher is teacher
    assert model.detach_teacher() is teacher and model.teacher is None
    model.double()
    assert {p.dtype for p in teacher.parameters()} == {torch.float32}
