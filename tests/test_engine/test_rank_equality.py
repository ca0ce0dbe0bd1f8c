"""Every rank holds the same model, always (2 gloo ranks, 3 tiny phases).

One pair of ranks trains, in turn, HAD on a ResNet, HAD on a MiT, HAD with
a heterogeneous (MiT) teacher and the HeteroAKD distiller, each with SyncBN
as the GPU configs (BN on these CPUs), and snapshots after every phase's
evaluation every parameter and buffer of the model, of its teacher and of
the adapters. The ranks then re-test each phase checkpoint, and so does
this process alone. Two of the runs are also resumed in the middle of
phase 2.
"""
import json
import math
import os
import os.path as osp
import sys
from typing import Dict

import pytest
import torch
import torch.multiprocessing as mp
from mmengine.hooks import Hook
from tool_runner import REPO, free_port, latest_run_logs

TESTS = osp.join(REPO, 'tests')
CONFIGS = osp.join(TESTS, 'data', 'configs')
TEACHER_CFG = osp.join(CONFIGS, 'tiny_heteroakd_teacher.py')
TASKS = ['semantic', 'depth', 'normal']

#: name -> config, the checkpoint option of its teacher, whether a run is
#: also resumed mid-phase
VARIANTS = {
    'had_r18': ('tiny_lifelong_syncbn.py', None, True),
    'had_mit-b0': ('tiny_lifelong_mit_syncbn.py', None, False),
    'had_hetero-teacher':
    ('tiny_lifelong_hetero_syncbn.py', 'train_cfg.teacher.teacher_ckpt', True),
    'heteroakd': ('tiny_heteroakd_syncbn.py', 'model.teacher_ckpt', False),
}
#: the checkpoint a mid-phase resume starts from (phase 2 of 3 x 3 iters)
RESUME_FROM = 'iter_4.pth'


def _lifelong(name: str) -> bool:
    return name != 'heteroakd'


def _options(name: str, data_root: str, teacher_ckpt: str) -> dict:
    config, ckpt_key, _ = VARIANTS[name]
    options = {
        f'{split}_dataloader.dataset.data_root': data_root
        for split in ('train', 'val', 'test')
    }
    if ckpt_key:
        options[ckpt_key] = teacher_ckpt
    if _lifelong(name):
        options['train_cfg.check_data'] = False  # tests of their own
    return options


def _checkpoints(name: str) -> Dict[int, str]:
    """iteration -> the checkpoint evaluated after it."""
    if _lifelong(name):
        return {
            3 * (t + 1): f'phase_{t + 1}_{task}.pth'
            for t, task in enumerate(TASKS)
        }
    return {k: f'iter_{k}.pth' for k in (1, 2, 3)}


def _named_states(module, prefix: str = '') -> Dict[str, torch.Tensor]:
    """Every parameter and buffer of ``module`` and of the teachers its
    modules hold outside the module tree (``teacher:`` in the name)."""
    from mmengine.model import is_model_wrapper

    from had_mm.models.distill import FrozenTeacherMixin
    if is_model_wrapper(module):
        module = module.module
    out = {}
    for name, tensor in list(module.named_parameters()) + list(
            module.named_buffers()):
        out[prefix + name] = tensor.detach().clone()
    for name, sub in module.named_modules():
        if isinstance(sub, FrozenTeacherMixin) and sub.teacher is not None:
            where = f'{prefix}{name}{"." if name else ""}teacher:'
            out.update(_named_states(sub.teacher, where))
    return out


class SnapshotHook(Hook):
    """After every evaluation in training: the rank's tensors and the
    metrics, to ``<out>/rank<r>_iter<i>.pth``."""

    priority = 'LOWEST'

    def __init__(self, out: str) -> None:
        self.out = out
        os.makedirs(out, exist_ok=True)

    def after_val_epoch(self, runner, metrics=None) -> None:
        from mmengine.dist import get_rank
        states = _named_states(runner.model)
        hetero = getattr(runner.train_loop, 'hetero_teacher', None)
        if hetero is not None:  # attached in phases 2-3 only
            states.update(_named_states(hetero, 'hetero:'))
        torch.save(
            dict(
                states=states,
                metrics={
                    k: float(v)
                    for k, v in (metrics or {}).items()
                }),
            osp.join(self.out, f'rank{get_rank()}_iter{runner.iter}.pth'))


def _runner_cfg(name, options, work_dir, launcher):
    from had_mm.apis import load_tool_config
    cfg = load_tool_config(
        osp.join(CONFIGS, VARIANTS[name][0]),
        options,
        work_dir=str(work_dir),
        launcher=launcher)
    cfg.experiment_name = f'{name}_{osp.basename(str(work_dir))}'
    # speed only: the config dump in every checkpoint unformatted (yapf
    # takes a second a save here)
    object.__setattr__(cfg, '_format_python_code', False)
    return cfg


def _train(name, options, work_dir, snapshots, resume_from=None):
    from had_mm.apis import build_runner
    cfg = _runner_cfg(name, options, work_dir, 'pytorch')
    if resume_from:
        cfg.resume, cfg.load_from = True, resume_from
    runner = build_runner(cfg, for_training=True)
    runner.register_hook(SnapshotHook(snapshots))
    runner.train()


def retest(name,
           options,
           ckpts: Dict[int, str],
           work_dir,
           launcher='none') -> Dict[int, dict]:
    """What ``tools/test.py CONFIG CKPT`` does, for each checkpoint (one
    runner, the weights loaded strictly before each test)."""
    from had_mm.apis import build_runner
    cfg = _runner_cfg(name, options, work_dir, launcher)
    cfg.strict_load = True
    for key in ('train_dataloader', 'train_cfg', 'optim_wrapper',
                'param_scheduler'):
        cfg[key] = None
    runner = build_runner(cfg)
    metrics = {}
    for it, ckpt in ckpts.items():
        runner.load_checkpoint(ckpt, strict=True)
        metrics[it] = {k: float(v) for k, v in runner.test().items()}
    return metrics


def _rank(rank, world_size, port, out, data_root, teacher_ckpt):
    sys.path.insert(0, TESTS)
    os.environ.update(
        MASTER_ADDR='127.0.0.1',
        MASTER_PORT=str(port),
        RANK=str(rank),
        LOCAL_RANK=str(rank),
        WORLD_SIZE=str(world_size))
    torch.set_num_threads(1)
    torch.distributed.init_process_group(
        'gloo', rank=rank, world_size=world_size)
    for name, (_, _, resume) in VARIANTS.items():
        options = _options(name, data_root, teacher_ckpt)
        root = osp.join(out, name)
        _train(name, options, osp.join(root, 'train'),
               osp.join(root, 'snap_train'))
        if resume:
            _train(
                name,
                options,
                osp.join(root, 'resume'),
                osp.join(root, 'snap_resume'),
                resume_from=osp.join(root, 'train', RESUME_FROM))
        metrics = retest(
            name, options, {
                it: osp.join(root, 'train', ckpt)
                for it, ckpt in _checkpoints(name).items()
            }, osp.join(root, 'retest_2ranks'), 'pytorch')
        if rank == 0:
            with open(osp.join(root, 'retest_2ranks.json'), 'w') as f:
                json.dump(metrics, f)
    torch.distributed.destroy_process_group()


@pytest.fixture(scope='module')
def runs(synthetic_rooms_root, tmp_path_factory):
    """Train every variant on 2 gloo ranks (one pair of processes)."""
    from mmengine.config import Config
    from mmengine.registry import init_default_scope

    from had_mm.registry import MODELS
    from had_mm.utils import register_all_modules
    register_all_modules(init_default_scope=False)
    init_default_scope('had_mm')
    out = tmp_path_factory.mktemp('ranks')
    torch.manual_seed(0)
    teacher = MODELS.build(Config.fromfile(TEACHER_CFG).model)
    teacher_ckpt = str(out / 'mit_teacher.pth')
    torch.save({'state_dict': teacher.state_dict(), 'meta': {}}, teacher_ckpt)
    mp.spawn(
        _rank,
        args=(2, free_port(), str(out), synthetic_rooms_root, teacher_ckpt),
        nprocs=2,
        join=True)
    return dict(out=out, data_root=synthetic_rooms_root, teacher=teacher_ckpt)


def _snapshots(root, run: str, rank: int) -> Dict[int, dict]:
    found = {}
    for name in os.listdir(root / f'snap_{run}'):
        if name.startswith(f'rank{rank}_iter'):
            it = int(name[len(f'rank{rank}_iter'):-len('.pth')])
            found[it] = torch.load(root / f'snap_{run}' / name)
    return found


def _kind(key: str) -> str:
    if 'teacher:' in key or key.startswith('hetero:'):
        return 'teacher'
    if 'adapter' in key:
        return 'adapter'
    if 'running_' in key or 'num_batches_tracked' in key:
        return 'BN buffer'
    return 'parameter'


def _differences(a: Dict[str, torch.Tensor],
                 b: Dict[str, torch.Tensor]) -> Dict[str, list]:
    assert sorted(a) == sorted(b), set(a) ^ set(b)
    diff: Dict[str, list] = {}
    for key in a:
        if not torch.equal(a[key], b[key]):
            diff.setdefault(_kind(key), []).append(key)
    return diff


def _report(diff: Dict[str, list]) -> str:
    return '; '.join(f'{len(keys)} {kind} tensors differ (e.g. {keys[0]})'
                     for kind, keys in sorted(diff.items()))


@pytest.mark.parametrize('name', list(VARIANTS))
def test_every_tensor_is_equal_on_every_rank_after_every_phase(runs, name):
    root = runs['out'] / name
    ranks = [_snapshots(root, 'train', r) for r in (0, 1)]
    assert sorted(ranks[0]) == sorted(_checkpoints(name)) == sorted(ranks[1])
    problems = []
    for it in sorted(ranks[0]):
        states = [ranks[r][it]['states'] for r in (0, 1)]
        kinds = {_kind(k) for k in states[0]}
        # the test sees what it must compare
        assert 'BN buffer' in kinds, it
        if it > min(ranks[0]) or not _lifelong(name):
            assert 'teacher' in kinds, it
        if name in ('had_hetero-teacher', 'heteroakd'):
            assert 'adapter' in kinds or any('adapters' in k
                                             for k in states[0]), it
        diff = _differences(*states)
        if diff:
            problems.append(f'after iteration {it}: {_report(diff)}')
    assert not problems, f'{name}, rank 0 vs rank 1: ' + ' | '.join(problems)


def _recorded(runs, name) -> Dict[int, Dict[str, float]]:
    """Per checkpoint: the metrics written during training."""
    root = runs['out'] / name
    if _lifelong(name):
        with open(root / 'train' / 'lifelong' / 'lifelong_report.json') as f:
            matrix = json.load(f)['matrix']
        from had_mm.tasks import get_task
        return {
            3 * (t + 1): {
                get_task(task).primary_key(): row[j]
                for j, task in enumerate(TASKS) if j <= t
            }
            for t, row in enumerate(matrix)
        }
    return {
        it: {
            'mIoU': snap['metrics']['mIoU']
        }
        for it, snap in _snapshots(root, 'train', 0).items()
    }


def _same(a: float, b: float) -> bool:
    return a == b or (math.isnan(a) and math.isnan(b))


def _compare(recorded, retested) -> list:
    problems = []
    for it, metrics in recorded.items():
        for key, value in metrics.items():
            if not _same(retested[it][key], value):
                problems.append(f'after iteration {it}: {key} recorded '
                                f'{value}, re-test {retested[it][key]}')
    return problems


@pytest.mark.parametrize('name', list(VARIANTS))
def test_recorded_metrics_equal_a_retest_on_2_ranks(runs, name):
    root = runs['out'] / name
    with open(root / 'retest_2ranks.json') as f:
        retested = {int(k): v for k, v in json.load(f).items()}
    recorded = _recorded(runs, name)
    assert sorted(recorded) == sorted(_checkpoints(name))
    assert not _compare(recorded, retested), _compare(recorded, retested)


@pytest.mark.parametrize('name', list(VARIANTS))
def test_recorded_metrics_equal_a_retest_on_1_process(runs, name, tmp_path):
    root = runs['out'] / name
    options = _options(name, runs['data_root'], runs['teacher'])
    retested = retest(name, options, {
        it: str(root / 'train' / ckpt)
        for it, ckpt in _checkpoints(name).items()
    }, tmp_path / 'retest_1process')
    problems = _compare(_recorded(runs, name), retested)
    assert not problems, problems


@pytest.mark.parametrize(
    'name', [name for name, (_, _, resume) in VARIANTS.items() if resume])
def test_resume_mid_phase_restores_one_teacher_on_every_rank(runs, name):
    """Resumed at iteration 4 (phase 2, its teacher from the checkpoint),
    every rank ends every later phase as the uninterrupted run did."""
    root = runs['out'] / name
    problems = []
    for rank in (0, 1):
        full = _snapshots(root, 'train', rank)
        resumed = _snapshots(root, 'resume', rank)
        assert sorted(resumed) == [6, 9]
        for it, snap in resumed.items():
            assert any(_kind(k) == 'teacher' for k in snap['states'])
            diff = _differences(full[it]['states'], snap['states'])
            if diff:
                problems.append(f'rank {rank} after iteration {it}: '
                                f'{_report(diff)}')
            assert not _compare({it: full[it]['metrics']},
                                {it: snap['metrics']})
    assert not problems, f'{name}, resumed vs uninterrupted: ' + \
        ' | '.join(problems)


def test_syncbn_becomes_bn_on_cpu_ranks_with_one_line(runs):
    for name in VARIANTS:
        logs = latest_run_logs(runs['out'] / name / 'train')
        text = ''.join(open(p).read() for p in logs)
        lines = [ln for ln in text.splitlines() if 'SyncBN -> BN' in ln]
        assert len(lines) == 1, (name, lines)
        assert 'gloo' in lines[0]
