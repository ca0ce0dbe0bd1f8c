"""Record the return value of a method of one module instance."""
import difflib
import functools
from typing import Any, Optional

import torch.nn as nn

from had_mm.registry import TASK_UTILS
from .base_recorder import BaseRecorder, get_module_or_raise


@TASK_UTILS.register_module(name=['MethodOutputsRecorder', 'MethodOutputs'])
class MethodOutputsRecorder(BaseRecorder):
    """Record what a method of one module instance returns.

    The method is wrapped on the instance only (an instance attribute
    shadows the class method), so another model of the same class (the
    teacher when the student shares its architecture) is not affected, and
    no source file is edited.

    Args:
        source (str): ``'<module path>.<method>'``, e.g.
            ``'decode_head.forward'`` or ``'decode_head.cls_seg'``; a name
            without a dot is a method of the model itself
            (``'extract_feat'``).
    """

    def __init__(self, source: str) -> None:
        super().__init__(source)
        self._module: Optional[nn.Module] = None
        self._method = source.rpartition('.')[2]

    def initialize(self, model: nn.Module, owner: str = 'model') -> None:
        """Wrap the method on its module instance.

        Args:
            model (nn.Module): The model that holds the source.
            owner (str): Name of the model for error messages.

        Raises:
            ValueError: If the module or the method does not exist.
        """
        path, _, method = self.source.rpartition('.')
        module = get_module_or_raise(model, path, owner)
        original = getattr(module, method, None)
        if not callable(original):
            methods = [
                n for n in dir(module)
                if not n.startswith('__') and callable(getattr(module, n))
            ]
            close = difflib.get_close_matches(method, methods, n=5)
            raise ValueError(
                f'recorder source "{self.source}": {type(module).__name__} '
                f'at "{path or "<root>"}" of the {owner} has no method '
                f'"{method}"; nearest: {", ".join(close) or "(none)"}.')
        self.remove()

        @functools.wraps(original)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            outputs = original(*args, **kwargs)
            if self.recording:
                self.data_buffer.append(outputs)
            return outputs

        module.__dict__[method] = wrapper
        self._module = module
        self._initialized = True

    def remove(self) -> None:
        """Restore the original method."""
        if self._module is not None:
            self._module.__dict__.pop(self._method, None)
            self._module = None
        self._initialized = False
