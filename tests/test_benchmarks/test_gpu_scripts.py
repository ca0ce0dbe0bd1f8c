"""benchmarks/gpu/: prepare.sh and run_on_device.sh in their dry runs."""
import os.path as osp
import re
import sys
import zipfile

import pytest
from tool_runner import REPO, run_tool

GPU = osp.join(REPO, 'benchmarks', 'gpu')


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
    """A minimal valid (empty) wheel, enough for pip's metadata checks."""
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
    folder = tmp_path / 'wheels'
    folder.mkdir()
    names = [
        _fake_wheel(folder, name, version)
        for name, version in _requirements() if name != drop
    ]
    (folder / 'mmcv-2.1.0.tar.gz').write_bytes(b'')
    names.append('mmcv-2.1.0.tar.gz')
    (folder / 'MANIFEST').write_text('\n'.join(names) + '\n')
    return folder


def _device(tmp_path, wheels, *args):
    env = dict(
        HAD_MM_WHEELS=str(wheels),
        PYTHON=sys.executable,
        HAD_MM_GPU_WORK=str(tmp_path / 'work'))
    return run_tool([
        'bash', 'benchmarks/gpu/run_on_device.sh',
        str(tmp_path / 'out'), *args
    ],
                    env=env)


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
    assert 'requirements-device.txt' in lines[0]
    assert '--no-binary :all:' in lines[1] and 'mmcv==2.1.0' in lines[1]
    assert not target.exists()


def test_device_dry_run_checks_the_wheels_and_lists_every_step(tmp_path):
    wheels = _fake_wheels(tmp_path)
    proc = _device(tmp_path, wheels, '--dry-run')
    assert proc.returncode == 0, proc.stdout + proc.stderr
    out = proc.stdout
    assert 'carried files complete' in out
    for name in ('install', 'build_mmcv', 'environment', 'step_cost',
                 'lifelong_smoke', 'dist_train_1gpu'):
        assert f'[dry-run] {name} ' in out, out
    cost = [ln for ln in out.splitlines() if 'step_cost' in ln][0]
    for flag in ('--reference', '--device cuda', '--amp', '--channels-last'):
        assert flag in cost
    summary = (tmp_path / 'out' / 'summary.txt').read_text()
    assert 'total:' in summary
    assert not (tmp_path / 'work').exists()  # a dry run installs nothing


def test_device_run_refuses_incomplete_wheels_in_one_line(tmp_path):
    wheels = _fake_wheels(tmp_path, drop='mmsegmentation')
    proc = _device(tmp_path, wheels, '--dry-run')
    assert proc.returncode == 2
    assert 'no wheel of mmsegmentation==1.2.2' in proc.stdout
    assert 'Traceback' not in proc.stdout + proc.stderr


def test_device_run_without_prepared_wheels(tmp_path):
    proc = _device(tmp_path, tmp_path / 'none')
    assert proc.returncode == 2
    assert 'run bash benchmarks/gpu/prepare.sh' in proc.stdout


@pytest.mark.skipif(
    not osp.isfile(osp.join(GPU, 'wheels', 'MANIFEST')),
    reason='benchmarks/gpu/prepare.sh has not been run here')
def test_device_dry_run_on_the_prepared_wheels(tmp_path):
    proc = _device(tmp_path, osp.join(GPU, 'wheels'), '--dry-run')
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert 'carried files complete' in proc.stdout
