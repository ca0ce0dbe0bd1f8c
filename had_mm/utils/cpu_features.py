"""What the CPU offers for mixed precision, read from its feature flags."""
from typing import Optional

import torch

# Flags of x86 CPUs whose bfloat16 matrix / vector instructions oneDNN
# uses, fastest first (Intel Sapphire Rapids+: AMX; Intel Cooper Lake+,
# AMD Zen 4+: avx512_bf16).
BF16_FLAGS = ('amx_bf16', 'avx512_bf16')


def cpu_bf16_flag(cpuinfo_path: str = '/proc/cpuinfo') -> Optional[str]:
    """The CPU feature flag that makes bfloat16 autocast pay off, if any.

    Reads the ``flags`` lines of ``/proc/cpuinfo`` (Linux). Where that file
    cannot be read, asks torch's own CPU feature detection
    (``torch.cpu.get_capabilities``), or answers None without it. torch
    must be built with oneDNN, which runs the bfloat16 convolutions.

    Args:
        cpuinfo_path (str): The cpuinfo file. Defaults to '/proc/cpuinfo'.

    Returns:
        str | None: ``'amx_bf16'`` or ``'avx512_bf16'``; None when the CPU
        has neither (bfloat16 would then be emulated, slower than fp32).
    """
    if not torch.backends.mkldnn.is_available():
        return None
    try:
        with open(cpuinfo_path) as f:
            text = f.read()
    except OSError:
        return _torch_bf16_flag()
    flags = set()
    for line in text.splitlines():
        key, _, value = line.partition(':')
        if key.strip() == 'flags':
            flags.update(value.split())
    return next((flag for flag in BF16_FLAGS if flag in flags), None)


# Why channels_last is not applied on a CPU (one line, for the logs).
CPU_CHANNELS_LAST_SKIPPED = (
    'channels_last skipped on the CPU: with torch 2.14 oneDNN\'s NHWC '
    'convolution backward corrupts the heap on some x86 CPUs (glibc '
    '"free(): invalid next size", or a silent wrong result); it still '
    'applies on a GPU')


def channels_last_refusal(device: torch.device) -> Optional[str]:
    """Why channels_last must not be used on ``device``, or None.

    Args:
        device (torch.device): Where the model trains.

    Returns:
        str | None: A one-line reason on a CPU; None on a GPU.
    """
    return CPU_CHANNELS_LAST_SKIPPED if device.type == 'cpu' else None


def _torch_bf16_flag() -> Optional[str]:
    """The bf16 flag as torch's cpuinfo library sees it (no /proc)."""
    capabilities = getattr(torch.cpu, 'get_capabilities', None)
    if capabilities is None:  # an older torch: nothing to ask
        return None
    found = capabilities()
    return next((flag for flag in BF16_FLAGS if found.get(flag)), None)


if __name__ == '__main__':
    # `python -m had_mm.utils.cpu_features`: the flag when training would
    # run on this CPU with bfloat16 (nothing on a GPU machine), for make
    print('' if torch.cuda.is_available() else (cpu_bf16_flag() or ''))
