"""What every recorder shares: a source, a buffer and a recording switch."""
import difflib
from abc import ABCMeta, abstractmethod
from typing import Any, List, Optional

import torch.nn as nn


def get_module_or_raise(model: nn.Module,
                        path: str,
                        owner: str = 'model') -> nn.Module:
    """Return the submodule of ``model`` at the dotted ``path``.

    Args:
        model (nn.Module): The model to search.
        path (str): Dotted module path, as in ``named_modules()``
            (``''`` is the model itself).
        owner (str): How to call ``model`` in the error message (e.g.
            ``'student'``). Defaults to 'model'.

    Returns:
        nn.Module: The submodule.

    Raises:
        ValueError: If no module has this path; the message lists the
            nearest valid names (``difflib`` over ``named_modules()``).
    """
    modules = dict(model.named_modules())
    if path in modules:
        return modules[path]
    names = [name for name in modules if name]
    close = difflib.get_close_matches(path, names, n=5, cutoff=0.5)
    if not close:
        # fall back to the siblings of the deepest existing parent
        parent = path.rpartition('.')[0]
        while parent and parent not in modules:
            parent = parent.rpartition('.')[0]
        prefix = f'{parent}.' if parent else ''
        close = [
            n for n in names
            if n.startswith(prefix) and '.' not in n[len(prefix):]
        ][:8]
    raise ValueError(f'recorder source "{path}" does not exist in the {owner} '
                     f'({type(model).__name__}); nearest valid module names: '
                     f'{", ".join(close) if close else "(none)"}.')


class BaseRecorder(metaclass=ABCMeta):
    """Base class of the recorders: capture what a source produces.

    A recorder is attached to a model once (:meth:`initialize`) and then
    stores what its source produces while :attr:`recording` is on, one
    entry per call. Nothing is stored while it is off, so validation and
    inference keep no references.

    Args:
        source (str): What to record, as a dotted path into the model.
    """

    def __init__(self, source: str) -> None:
        if not isinstance(source, str):
            raise TypeError(f'recorder source must be a str, got '
                            f'{type(source).__name__}')
        self.source = source
        self.recording = False
        self.data_buffer: List[Any] = []
        self._initialized = False

    @abstractmethod
    def initialize(self, model: nn.Module, owner: str = 'model') -> None:
        """Attach the recorder to ``model``.

        Args:
            model (nn.Module): The model that holds the source.
            owner (str): Name of the model for error messages.
        """

    @abstractmethod
    def remove(self) -> None:
        """Detach the recorder from its model."""

    def reset_data(self) -> None:
        """Drop everything recorded so far."""
        self.data_buffer = []

    def get_record_data(self,
                        record_idx: int = 0,
                        data_idx: Optional[int] = None) -> Any:
        """Return one recorded output.

        Args:
            record_idx (int): Which call of the source (0 = the first of
                this forward). Defaults to 0.
            data_idx (int, optional): Index into the output when the
                source returns a tuple or list (e.g. the stages of a
                backbone). Defaults to None (the whole output).

        Returns:
            Any: The recorded output (or its ``data_idx`` element).

        Raises:
            RuntimeError: If nothing was recorded at ``record_idx``.
            ValueError: If ``data_idx`` does not fit the output.
        """
        if record_idx >= len(self.data_buffer):
            raise RuntimeError(
                f'recorder "{self.source}" holds {len(self.data_buffer)} '
                f'record(s), not record {record_idx}: the source was not '
                f'called in this forward (is it used by the model?).')
        data = self.data_buffer[record_idx]
        if data_idx is None:
            return data
        if not isinstance(data, (tuple, list)):
            raise ValueError(f'recorder "{self.source}" recorded a '
                             f'{type(data).__name__}, which has no data_idx '
                             f'{data_idx}; drop data_idx.')
        if not -len(data) <= data_idx < len(data):
            raise ValueError(
                f'recorder "{self.source}" recorded {len(data)} outputs; '
                f'data_idx {data_idx} is out of range.')
        return data[data_idx]
