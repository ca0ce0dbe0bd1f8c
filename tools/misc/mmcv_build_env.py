"""How tools/setup_env.sh builds mmcv: CPU ops unless CUDA ops are asked for.

mmcv's setup.py compiles its 58 ``.cu`` files whenever torch sees a GPU, and
that needs an nvcc of torch's CUDA major version. No had_mm config uses an
mmcv CUDA op (mmseg only needs ``mmcv.ops`` to import), so the default hides
the GPU from the build. ``HAD_MM_MMCV_CUDA=1`` builds the CUDA ops.

Prints ``KEY=VALUE`` lines for the build's environment on stdout and one
line saying which build it is on stderr; exits 2 with one line when CUDA
ops are asked for but cannot be built here.
"""
import os
import re
import shutil
import subprocess
import sys
from typing import Dict, Optional, Tuple


def nvcc_version() -> Optional[str]:
    """The CUDA version of the ``nvcc`` on PATH (or in CUDA_HOME), or None."""
    home = os.environ.get('CUDA_HOME')
    nvcc = shutil.which('nvcc') or (home and shutil.which(
        os.path.join(home, 'bin', 'nvcc')))
    if not nvcc:
        return None
    try:
        out = subprocess.run([nvcc, '--version'],
                             capture_output=True,
                             text=True,
                             timeout=30).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    found = re.search(r'release (\d+\.\d+)', out)
    return found.group(1) if found else None


def build_env(gpu_visible: bool, want_cuda: bool, torch_cuda: Optional[str],
              nvcc: Optional[str]) -> Tuple[Dict[str, str], str]:
    """The environment of the mmcv build and a one-line description.

    Args:
        gpu_visible (bool): Whether torch sees a GPU here.
        want_cuda (bool): ``HAD_MM_MMCV_CUDA=1``.
        torch_cuda (str, optional): ``torch.version.cuda``.
        nvcc (str, optional): The nvcc's CUDA version.

    Returns:
        tuple[dict, str]: Environment variables and the line to print.

    Raises:
        RuntimeError: CUDA ops asked for without a GPU, a CUDA torch or an
            nvcc of torch's CUDA major version.
    """
    env = {'MMCV_WITH_OPS': '1'}
    if not want_cuda:
        # mmcv's setup.py compiles CUDA whenever torch sees a GPU (or
        # FORCE_CUDA=1): hide it, so no nvcc is needed
        env.update(CUDA_VISIBLE_DEVICES='', FORCE_CUDA='0')
        where = ('this machine has a GPU; HAD_MM_MMCV_CUDA=1 builds the '
                 'CUDA ops' if gpu_visible else 'no GPU here')
        return env, f'mmcv: building the CPU ops only ({where})'
    if not torch_cuda:
        raise RuntimeError('HAD_MM_MMCV_CUDA=1 but this torch has no CUDA; '
                           'install a CUDA build of torch or unset it.')
    if nvcc is None:
        raise RuntimeError(
            f'HAD_MM_MMCV_CUDA=1 needs nvcc {torch_cuda.split(".")[0]}.x '
            f'(torch is built with CUDA {torch_cuda}) on PATH or in '
            f'CUDA_HOME; none found. Unset HAD_MM_MMCV_CUDA for the CPU ops.')
    if nvcc.split('.')[0] != torch_cuda.split('.')[0]:
        raise RuntimeError(
            f'HAD_MM_MMCV_CUDA=1: nvcc is CUDA {nvcc} but torch is built '
            f'with CUDA {torch_cuda}; use an nvcc '
            f'{torch_cuda.split(".")[0]}.x or unset HAD_MM_MMCV_CUDA.')
    env.update(FORCE_CUDA='1')
    return env, (f'mmcv: building the CPU and CUDA ops (nvcc {nvcc}, torch '
                 f'CUDA {torch_cuda})')


def main() -> None:
    import torch
    want_cuda = os.environ.get('HAD_MM_MMCV_CUDA', '0') not in ('', '0')
    try:
        env, line = build_env(torch.cuda.is_available(), want_cuda,
                              torch.version.cuda,
                              nvcc_version() if want_cuda else None)
    except RuntimeError as err:
        sys.exit(f'[setup_env] error: {err}')
    for key, value in env.items():
        print(f'{key}={value}')
    print(f'[setup_env] {line}', file=sys.stderr)


if __name__ == '__main__':
    main()
