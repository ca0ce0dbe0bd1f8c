from contextlib import contextmanager

import torch
import torch.nn as nn
from mmengine.optim import OptimWrapper

from had_mm.registry import OPTIM_WRAPPERS


@OPTIM_WRAPPERS.register_module()
class CPUAmpOptimWrapper(OptimWrapper):
    """Mixed precision on a CPU: bfloat16 autocast, no loss scaling.

    mmengine's ``AmpOptimWrapper`` refuses to be built without a GPU. This
    wrapper runs the forward pass and the losses of ``train_step`` under
    ``torch.autocast('cpu', dtype=torch.bfloat16)``: convolutions and
    matrix products run in bfloat16 (oneDNN, fast on CPUs with AMX or
    avx512_bf16), while autocast keeps the reductions it lists (cross
    entropy, BCE, L1...) in float32, and had_mm's losses upcast their
    inputs (``upcast_half``), so every loss is float32 as on the GPU path.
    bfloat16 has float32's exponent range, so no gradient scaler is
    needed. ``tools/train.py --amp`` picks this wrapper on such CPUs.

    Args:
        **kwargs: Keyword arguments of ``OptimWrapper`` (``optimizer``,
            ``accumulative_counts``, ``clip_grad``).
    """

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.cast_dtype = torch.bfloat16

    @contextmanager
    def optim_context(self, model: nn.Module):
        """The base context (gradient accumulation) under CPU autocast.

        Args:
            model (nn.Module): The trained model.
        """
        with super().optim_context(model), torch.autocast(
                'cpu', dtype=self.cast_dtype):
            yield

    def load_state_dict(self, state_dict: dict) -> None:
        """Load the optimizer state; a GPU AMP run's loss scaler is
        dropped, so such a checkpoint resumes on a CPU.

        Args:
            state_dict (dict): State of :meth:`state_dict`, or of an
                ``AmpOptimWrapper``.
        """
        state_dict = dict(state_dict)
        state_dict.pop('loss_scaler', None)
        super().load_state_dict(state_dict)
