"""tools/setup_env.sh's mmcv build: CPU ops unless CUDA ops are asked for,
whatever GPU the machine has (the GPU is faked here)."""
import importlib.util
import os.path as osp

import pytest
from tool_runner import REPO

spec = importlib.util.spec_from_file_location(
    'mmcv_build_env', osp.join(REPO, 'tools', 'misc', 'mmcv_build_env.py'))
build = importlib.util.module_from_spec(spec)
spec.loader.exec_module(build)


@pytest.mark.parametrize('gpu', [True, False])
def test_the_default_build_hides_the_gpu_and_needs_no_nvcc(gpu):
    env, line = build.build_env(
        gpu_visible=gpu, want_cuda=False, torch_cuda='13.0', nvcc=None)
    assert env == dict(
        MMCV_WITH_OPS='1', CUDA_VISIBLE_DEVICES='', FORCE_CUDA='0')
    assert line.startswith('mmcv: building the CPU ops only')
    assert ('HAD_MM_MMCV_CUDA=1' in line) == gpu


def test_cuda_ops_need_an_nvcc_of_torchs_cuda_major():
    env, line = build.build_env(True, True, '13.0', '13.0')
    assert env == dict(MMCV_WITH_OPS='1', FORCE_CUDA='1')
    assert 'CUDA ops' in line
    with pytest.raises(RuntimeError, match='needs nvcc 13.x'):
        build.build_env(True, True, '13.0', None)
    with pytest.raises(RuntimeError, match='nvcc is CUDA 12.4 but torch'):
        build.build_env(True, True, '13.0', '12.4')
    with pytest.raises(RuntimeError, match='this torch has no CUDA'):
        build.build_env(True, True, None, '13.0')


def test_the_environment_can_resolve_mmseg_base_configs():
    """mmengine resolves ``_base_ = ['mmseg::...']`` with pkg_resources,
    which setuptools 82 removed; setup.cfg pins below it."""
    import setuptools

    import pkg_resources  # noqa: F401
    major = int(setuptools.__version__.split('.')[0])
    assert 77 <= major < 82, setuptools.__version__
