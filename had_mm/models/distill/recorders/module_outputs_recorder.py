"""Record the outputs of a module with a forward hook."""
from typing import Any, Optional

import torch.nn as nn

from had_mm.registry import TASK_UTILS
from .base_recorder import BaseRecorder, get_module_or_raise


@TASK_UTILS.register_module(name=['ModuleOutputsRecorder', 'ModuleOutputs'])
class ModuleOutputsRecorder(BaseRecorder):
    """Record the output of the module at a dotted path (forward hook).

    The model's code is not touched: a forward hook on the module stores
    its output on every call made through ``module(...)`` while recording
    is on. A method called directly (e.g. ``decode_head.forward`` inside
    ``decode_head.loss``) does not run hooks; record it with
    :class:`MethodOutputsRecorder` instead.

    Args:
        source (str): Dotted module path as in ``named_modules()``, e.g.
            ``'backbone.layer3'`` or ``'decode_head.conv_seg'``.

    Example:
        >>> recorder = ModuleOutputsRecorder('backbone.layer4')
        >>> recorder.initialize(segmentor)
    """

    def __init__(self, source: str) -> None:
        super().__init__(source)
        self._handle: Optional[Any] = None

    def initialize(self, model: nn.Module, owner: str = 'model') -> None:
        """Register the forward hook on the source module.

        Args:
            model (nn.Module): The model that holds the source.
            owner (str): Name of the model for error messages.

        Raises:
            ValueError: If the module does not exist (nearest names given).
        """
        module = get_module_or_raise(model, self.source, owner)
        self.remove()
        self._handle = module.register_forward_hook(self._hook)
        self._initialized = True

    def _hook(self, module: nn.Module, inputs: Any, outputs: Any) -> None:
        if self.recording:
            self.data_buffer.append(outputs)

    def remove(self) -> None:
        """Remove the forward hook."""
        if self._handle is not None:
            self._handle.remove()
            self._handle = None
        self._initialized = False
