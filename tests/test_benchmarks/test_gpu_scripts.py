"""benchmarks/gpu/: prepare.sh, run_on_device.sh (its CPU dry run) and the
Python helpers it runs (gpu_bench.py, gpu_bench_hooks.py)."""
import csv
import hashlib
import json
import os
import os.path as osp
import re
import sys
import zipfile

import pytest
from tool_runner import REPO, run_tool

GPU = osp.join(REPO, 'benchmarks', 'gpu')
sys.path.insert(0, GPU)
import gpu_bench  # noqa: E402


def _requirements():
    reqs = []
    with open(osp.join(GPU, 'requirements-device.txt')) as f:
        for line in f:
            line = line.split('#')[0].strip()
            if line:
                name, version = line.split('==')
                reqs.append((name, version))
    return reqs


def _fake_wheel(folder, name, version):
    """A minimal valid (empty) wheel."""
    norm = re.sub(r'[-.]+', '_', name).lower()
    filename = f'{norm}-{version}-py3-none-any.whl'
    info = f'{norm}-{version}.dist-info'
    with zipfile.ZipFile(folder / filename, 'w') as whl:
        whl.writestr(
            f'{info}/METADATA', f'Metadata-Version: 2.1\nName: '
            f'{name}\nVersion: {version}\n')
        whl.writestr(
            f'{info}/WHEEL', 'Wheel-Version: 1.0\nGenerator: test\n'
            'Root-Is-Purelib: true\nTag: py3-none-any\n')
        whl.writestr(f'{info}/RECORD', '')
    return filename


def _fake_wheels(tmp_path, drop=None):
    """What prepare.sh leaves: wheels, the mmcv archive, MANIFEST."""
    folder = tmp_path / 'wheels'
    folder.mkdir()
    names = [
        _fake_wheel(folder, name, version)
        for name, version in _requirements() if name != drop
    ]
    (folder / 'mmcv-2.1.0.tar.gz').write_bytes(b'not really mmcv')
    names.append('mmcv-2.1.0.tar.gz')
    lines = [
        f'{hashlib.sha256((folder / n).read_bytes()).hexdigest()}  {n}'
        for n in names
    ]
    (folder / 'MANIFEST').write_text('\n'.join(lines) + '\n')
    return folder


def _device(tmp_path, wheels, *args, timeout=600, **env):
    env = dict(
        HAD_MM_WHEELS=str(wheels),
        PYTHON=sys.executable,
        HAD_MM_GPU_WORK=str(tmp_path / 'work'),
        **env)
    return run_tool([
        'bash', 'benchmarks/gpu/run_on_device.sh',
        str(tmp_path / 'out'), *args
    ],
                    env=env,
                    timeout=timeout)


# ------------------------------------------------------------ prepare.sh
def test_prepare_dry_run_fetches_py312_wheels_and_the_mmcv_source(tmp_path):
    target = tmp_path / 'wheels'
    proc = run_tool(
        ['bash', 'benchmarks/gpu/prepare.sh',
         str(target), '--dry-run'],
        env=dict(PYTHON=sys.executable))
    assert proc.returncode == 0, proc.stderr
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith('+ ')]
    assert len(lines) == 2, proc.stdout
    assert '--python-version 3.12' in lines[0]
    assert '--only-binary=:all:' in lines[0]
    assert 'requirements-device.txt' in lines[0]
    # the source archive is downloaded, never built (no pip sdist step)
    assert 'mmcv-2.1.0.tar.gz' in lines[1] and '(no build)' in lines[1]
    assert '--no-binary' not in proc.stdout
    # the size of what travels, against the 64 MiB
    assert re.search(
        r'size: tree [\d.]+ MiB \+ wheels 0\.0 MiB = [\d.]+ '
        r'MiB \(limit 64 MiB\)', proc.stdout), proc.stdout
    assert not target.exists()


def test_requirements_pin_a_setuptools_with_pkg_resources():
    reqs = dict(_requirements())
    major = int(reqs['setuptools'].split('.')[0])
    assert major < 70  # mmcv 2.1.0's setup.py imports pkg_resources
    assert tuple(map(int, reqs['wheel'].split('.')[:2])) < (0, 46)
    assert reqs['mmsegmentation'] == '1.2.2'


# ------------------------------------------------- run_on_device.sh refusals
def test_device_run_without_prepared_wheels(tmp_path):
    proc = _device(tmp_path, tmp_path / 'none')
    assert proc.returncode == 2
    assert 'run bash benchmarks/gpu/prepare.sh' in proc.stdout
    assert not (tmp_path / 'work').exists()


def test_device_run_refuses_incomplete_wheels_in_one_line(tmp_path):
    wheels = _fake_wheels(tmp_path, drop='mmsegmentation')
    proc = _device(tmp_path, wheels, '--dry-run')
    assert proc.returncode == 2
    assert 'no wheel of mmsegmentation==1.2.2' in proc.stdout
    assert 'Traceback' not in proc.stdout + proc.stderr


def test_device_run_refuses_a_file_unlike_its_manifest(tmp_path):
    wheels = _fake_wheels(tmp_path)
    (wheels / 'mmcv-2.1.0.tar.gz').write_bytes(b'changed')
    proc = _device(tmp_path, wheels, '--dry-run')
    assert proc.returncode == 2
    assert 'do not match its MANIFEST' in proc.stdout


# ------------------------------------------------------------ gpu_bench.py
def test_fake_nyuv2_has_the_layout_and_split_sizes_the_loader_reads(tmp_path):
    import numpy as np
    from mmengine.registry import init_default_scope

    from had_mm.datasets import NYUv2MultiTaskDataset
    init_default_scope('had_mm')
    load = [
        dict(type='LoadMultiTaskImage'),
        dict(type='LoadMultiTaskAnnotations')
    ]
    for layout, test_dir in (('toolkit', 'image/test'), ('numpy',
                                                         'val/image')):
        out = tmp_path / layout
        summary = gpu_bench.fake_nyuv2(
            str(out),
            size=(16, 24),
            train=7,
            test=5,
            distinct=3,
            layout=layout)
        assert summary['distinct'] == 3 and summary['links'] == 5 * 12
        assert len(os.listdir(out / test_dir)) == 5
        for split, n in (('train', 7), ('test', 5)):
            ds = NYUv2MultiTaskDataset(
                data_root=str(out), split=split, num_classes=13, pipeline=load)
            assert ds.layout == layout and len(ds) == n
            assert osp.islink(ds.get_data_info(n - 1)['img_path'])
            sample = ds[n - 1]
            assert sample['img'].shape == (16, 24, 3)
            assert sample['gt_seg_map'].shape == (16, 24)
            assert set(np.unique(sample['gt_saliency'])) <= {0, 1, 255}
            assert (sample['gt_depth_map'] >= 0).all()


def test_generated_config_inherits_the_entry_config_and_adds_the_hooks(
        tmp_path):
    from mmengine.config import Config
    base = osp.join(REPO, 'configs', 'had', 'finetune_r18-d8_nyuv2-4tasks.py')
    path = gpu_bench.write_config(
        base,
        str(tmp_path / 'ft.py'),
        '/data/fake',
        iters=3,
        scale=(32, 48),
        batch=2,
        workers=0)
    text = open(path).read()
    assert f'_base_ = [{base!r}]' in text
    cfg = Config.fromfile(path, import_custom_modules=False)
    ref = Config.fromfile(base)
    assert [p['task'] for p in cfg.train_cfg.phases
            ] == [p['task'] for p in ref.train_cfg.phases]
    assert all(p == dict(task=p['task'], max_iters=3)
               for p in cfg.train_cfg.phases)
    # everything else is the entry config's
    assert cfg.train_cfg.distill == ref.train_cfg.distill
    assert cfg.model == ref.model
    assert cfg.optim_wrapper == ref.optim_wrapper
    assert cfg.train_dataloader.dataset.data_root == '/data/fake'
    assert cfg.test_dataloader.dataset.data_root == '/data/fake'
    assert cfg.train_dataloader.batch_size == 2
    resize = [
        s for s in cfg.train_dataloader.dataset.pipeline
        if s['type'] == 'MultiTaskResize'
    ]
    assert resize and resize[0]['scale'] == (32, 48)
    assert [h['type'] for h in cfg.custom_hooks
            ] == ['StepProfileHook', 'RankEqualityHook']
    assert cfg.custom_imports.imports == ['gpu_bench_hooks']


def _profile(step_s, peak=None):
    return dict(
        device='cpu',
        world_size=1,
        optim_wrapper='OptimWrapper',
        amp_dtype=None,
        total_train_s=1.0,
        phases=[
            dict(
                phase=t + 1,
                task=task,
                step_s=[9.0] + [s * (t + 1)] * 4,
                wait_s=[0.001] * 4,
                peak_alloc_mib=[peak or 0.0] * 5 if peak else [],
                reserved_mib=[],
                train_s=1.0,
                eval_s=0.5)
            for t, (task, s) in enumerate([('semantic',
                                            step_s), ('depth', step_s)])
        ])


def test_summarize_writes_overhead_precision_and_rank_equality(tmp_path):
    work = tmp_path / 'work'
    for run, step, peak in (('had_fp32', 0.2, 900.0), ('ft_fp32', 0.1, 800.),
                            ('had_bf16', 0.1, 500.0), ('dist2_fp32', 0.2,
                                                       None)):
        (work / 'runs' / run).mkdir(parents=True)
        (work / 'runs' / run / 'gpu_profile.json').write_text(
            json.dumps(_profile(step, peak)))
    check = dict(
        world_size=2,
        backend='gloo',
        equal=False,
        checks=[
            dict(
                phase=1,
                task='semantic',
                when='end',
                groups=dict(
                    model=dict(tensors=10, unequal=2, names=['a', 'b'])))
        ])
    (work / 'runs' / 'dist2_fp32' / 'rank_equality.json').write_text(
        json.dumps(check))
    steps = tmp_path / 'steps.tsv'
    steps.write_text('had_fp32\tok\t12\ttrain_run had_fp32\n'
                     'had_fp16\tskipped\t0\ttrain_run had_fp16\n')
    out = tmp_path / 'out'
    runs = ['had_fp32', 'ft_fp32', 'had_bf16', 'had_fp16', 'dist2_fp32']
    results = gpu_bench.summarize(
        str(work), str(out), 'bash benchmarks/gpu/run_on_device.sh X', runs, 1,
        str(steps), dict(iters_per_phase=5))
    had = results['runs']['had_fp32']['phases']
    # the first step is left out of the median
    assert [p['step_ms_median'] for p in had] == [200.0, 400.0]
    assert had[0]['peak_step_mib'] == 900.0 and had[0]['timed'] == 4
    assert [o['ratio'] for o in results['had_overhead']['fp32']] == [2., 2.]
    bf16 = results['precision']['had']['bf16']
    assert bf16['vs_fp32'] == [0.5, 0.5] and bf16['peak_step_mib'] == 500.0
    assert results['runs']['had_fp16']['step']['status'] == 'skipped'
    assert results['rank_equality']['dist2_fp32']['equal'] is False
    saved = json.loads((out / 'results.json').read_text())
    assert saved['command'] == 'bash benchmarks/gpu/run_on_device.sh X'
    lines = (out / 'results.csv').read_text().splitlines()
    assert lines[0] == '# command: bash benchmarks/gpu/run_on_device.sh X'
    rows = list(csv.DictReader(ln for ln in lines if not ln.startswith('#')))
    assert len(rows) == 8
    assert rows[0]['run'] == 'had_fp32' and rows[0]['had_over_finetune']
    text = gpu_bench.format_summary(results)
    assert 'HAD / fine-tuning step time, fp32, per phase: 1:2.0, 2:2.0' in text
    assert 'UNEQUAL' in text and 'had_fp16: no figures (skipped)' in text


def test_equality_check_is_empty_on_one_process():
    import torch
    from gpu_bench_hooks import unequal_across_ranks
    assert unequal_across_ranks(dict(w=torch.ones(2))) == []


# ----------------------------------------------------- the hooks, in a run
def test_hooks_profile_every_phase_and_compare_ranks(tmp_path,
                                                     synthetic_rooms_root):
    """The measuring hooks in a tiny 3-phase HAD run (one process)."""
    from had_mm.apis import build_runner, load_tool_config
    base = osp.join(REPO, 'tests', 'data', 'configs', 'tiny_lifelong.py')
    path = gpu_bench.write_config(base, str(tmp_path / 'tiny.py'),
                                  synthetic_rooms_root, 2)
    cfg = load_tool_config(path, None, str(tmp_path / 'work'), 'none')
    build_runner(cfg, amp=False, for_training=True).train()
    profile = json.loads((tmp_path / 'work' / 'gpu_profile.json').read_text())
    assert profile['device'] == 'cpu' and profile['world_size'] == 1
    assert [p['task']
            for p in profile['phases']] == ['semantic', 'depth', 'normal']
    for p in profile['phases']:
        assert len(p['step_s']) == 2 and len(p['wait_s']) == 1
        assert min(p['step_s']) > 0
        assert p['setup_s'] >= 0 and p['train_s'] >= sum(p['step_s'])
        assert p['eval_s'] > 0
    # no periodic checkpoint, only the loop's one per phase
    assert sorted(
        f for f in os.listdir(tmp_path / 'work') if f.endswith('.pth')) == [
            'phase_1_semantic.pth', 'phase_2_depth.pth', 'phase_3_normal.pth'
        ]
    check = json.loads((tmp_path / 'work' / 'rank_equality.json').read_text())
    assert check['world_size'] == 1 and check['equal'] is True
    assert all(c['seconds'] >= 0 for c in check['checks'])
    assert [(c['phase'], c['when'], sorted(c['groups']))
            for c in check['checks']] == [(1, 'start', ['model']),
                                          (1, 'end', ['model']),
                                          (2, 'start', ['model', 'teacher']),
                                          (2, 'end', ['model', 'teacher']),
                                          (3, 'start', ['model', 'teacher']),
                                          (3, 'end', ['model', 'teacher'])]


# ------------------------------------------------------------- the dry run
def _check_dry_run(tmp_path, proc, runs):
    out = tmp_path / 'out'
    assert proc.returncode == 0, proc.stdout + proc.stderr
    summary = (out / 'summary.txt').read_text()
    for name in ('venv', 'install', 'build_mmcv', 'environment', 'fake_data',
                 'configs', *runs):
        assert f'{name}: ok' in summary, summary
    # what travels back: at most 8 files, the install log apart from the
    # environment report
    files = sorted(os.listdir(out))
    assert files == [
        'env.txt', 'install.log', 'results.csv', 'results.json', 'runs.log',
        'summary.txt'
    ]
    install = (out / 'install.log').read_text()
    assert re.search(
        r'pip .*install --no-index --find-links \S+ '
        r'--no-build-isolation setuptools<70 wheel', install)
    assert re.search(r'--no-deps -r \S+requirements-device.txt', install)
    assert re.search(
        r'env CUDA_VISIBLE_DEVICES= FORCE_CUDA=0 MMCV_WITH_OPS=1 .*'
        r'--no-build-isolation --no-deps -v \S+mmcv-src', install)
    env = (out / 'env.txt').read_text()
    assert 'torch ' in env and 'mmcv 2.1.0 (ops loaded)' in env
    assert 'pip' not in env and 'mmcv-src' not in env
    # the venv: nothing installed into it in a dry run
    venv = tmp_path / 'work' / 'venv'
    site = list(venv.glob('lib/python*/site-packages'))[0]
    assert (site / 'zz_had_mm_device_site.pth').is_file()
    assert not list(site.glob('mmcv*')) and not list(site.glob('mmseg*'))
    # the fake data: the toolkit layout, tiny
    data = tmp_path / 'work' / 'nyuv2'
    assert len(os.listdir(data / 'image' / 'train')) == 8
    assert len(os.listdir(data / 'seg13' / 'test')) == 4
    # the amp runs, as the GPU runs them
    assert re.search(r'had_bf16: not run on a CPU: .*--amp bf16', summary)
    assert re.search(r'had_fp16: not run on a CPU: .*--amp fp16', summary)
    assert 'model.backbone.init_cfg=None' in summary
    results = json.loads((out / 'results.json').read_text())
    assert results['command'] == (
        f'bash benchmarks/gpu/run_on_device.sh {out} --dry-run')
    assert results['settings']['config'] in (
        'configs/had/nyuv2_4tasks.py',
        'configs/had/had_r18-d8_nyuv2-4tasks.py')
    assert (out / 'results.csv'
            ).read_text().startswith(f'# command: {results["command"]}\n')
    return results


def _fake_config_env():
    """The entry config, if this checkout has it; else the HAD NYUv2
    4-task config it inherits."""
    if osp.isfile(osp.join(REPO, 'configs', 'had', 'nyuv2_4tasks.py')):
        return {}
    return dict(HAD_MM_GPU_CONFIG='configs/had/had_r18-d8_nyuv2-4tasks.py')


def test_device_dry_run_of_every_step_but_the_trainings(tmp_path):
    """The whole script on the CPU, with no training run (these are in the
    slow test below)."""
    proc = _device(
        tmp_path,
        _fake_wheels(tmp_path),
        '--dry-run',
        HAD_MM_GPU_RUNS='none',
        **_fake_config_env())
    results = _check_dry_run(tmp_path, proc, [])
    assert results['runs'] == {}
    for name in ('had', 'ft'):
        text = (tmp_path / 'work' / 'configs' / f'{name}.py').read_text()
        assert "'max_iters': 1" in text and 'StepProfileHook' in text


@pytest.mark.slow
def test_device_dry_run_trains_and_checks_the_ranks(tmp_path):
    """HAD and fine-tuning end to end, and 2 gloo ranks with the equality
    check (minutes on a loaded 2-core machine)."""
    proc = _device(
        tmp_path,
        _fake_wheels(tmp_path),
        '--dry-run',
        timeout=3000,
        **_fake_config_env())
    results = _check_dry_run(tmp_path, proc,
                             ['had_fp32', 'ft_fp32', 'dist2_fp32'])
    had = results['runs']['had_fp32']
    assert [p['task'] for p in had['phases']
            ] == ['semantic', 'depth', 'normal', 'saliency']
    for p in had['phases']:
        assert p['steps'] == 1 and p['step_ms_median'] > 0
        assert p['eval_s'] is not None and p['train_s'] is not None
    overhead = results['had_overhead']['fp32']
    assert [o['task']
            for o in overhead] == ['semantic', 'depth', 'normal', 'saliency']
    assert all(o['ratio'] > 0 for o in overhead)
    check = results['rank_equality']['dist2_fp32']
    assert check['world_size'] == 2 and check['backend'] == 'gloo'
    # the start and the end of every phase; the teacher from phase 2 on
    assert [(c['phase'], c['when']) for c in check['checks']
            ] == [(t, w) for t in range(1, 5) for w in ('start', 'end')]
    for c in check['checks']:
        assert c['groups']['model']['tensors'] > 0
        assert ('teacher' in c['groups']) == (c['phase'] > 1)
    assert results['runs']['dist2_fp32']['world_size'] == 2
