"""A named set of recorders attached to one model."""
from contextlib import contextmanager
from typing import Any, Dict, Iterator, Optional, Union

import torch.nn as nn

from had_mm.registry import TASK_UTILS
from .base_recorder import BaseRecorder


class RecorderManager:
    """Build, attach and query the recorders of one model.

    Args:
        recorders (dict, optional): ``name -> recorder`` (a config such as
            ``dict(type='ModuleOutputsRecorder', source='backbone.layer3')``
            or a built :class:`BaseRecorder`). Defaults to None (none).

    Example:
        >>> manager = RecorderManager(dict(
        ...     stage4=dict(type='ModuleOutputs', source='backbone.layer4')))
        >>> manager.initialize(model, owner='student')
        >>> with manager.recording():
        ...     model(inputs)
        >>> feat = manager.get_record_data('stage4')
    """

    def __init__(self,
                 recorders: Optional[Dict[str, Union[dict,
                                                     BaseRecorder]]] = None):
        self.recorders: Dict[str, BaseRecorder] = {}
        for name, cfg in (recorders or {}).items():
            if isinstance(cfg, BaseRecorder):
                self.recorders[name] = cfg
            else:
                self.recorders[name] = TASK_UTILS.build(cfg)

    def initialize(self, model: nn.Module, owner: str = 'model') -> None:
        """Attach every recorder to ``model``.

        Args:
            model (nn.Module): The model to record.
            owner (str): Its name in error messages ('student', ...).

        Raises:
            ValueError: If a source does not exist in ``model``.
        """
        for recorder in self.recorders.values():
            recorder.initialize(model, owner)

    def remove(self) -> None:
        """Detach every recorder."""
        for recorder in self.recorders.values():
            recorder.remove()

    def reset_data(self) -> None:
        """Drop everything recorded so far."""
        for recorder in self.recorders.values():
            recorder.reset_data()

    @contextmanager
    def recording(self) -> Iterator['RecorderManager']:
        """Record (after a reset) for the duration of the block."""
        self.reset_data()
        for recorder in self.recorders.values():
            recorder.recording = True
        try:
            yield self
        finally:
            for recorder in self.recorders.values():
                recorder.recording = False

    def get_recorder(self, name: str) -> BaseRecorder:
        """Return the recorder called ``name``.

        Raises:
            ValueError: If there is none (the known names are listed).
        """
        if name not in self.recorders:
            raise ValueError(f'no recorder named "{name}"; recorders: '
                             f'{", ".join(self.recorders) or "(none)"}.')
        return self.recorders[name]

    def get_record_data(self,
                        name: str,
                        record_idx: int = 0,
                        data_idx: Optional[int] = None) -> Any:
        """Return what recorder ``name`` recorded.

        Args:
            name (str): Recorder name.
            record_idx (int): Which call of the source. Defaults to 0.
            data_idx (int, optional): Element of a tuple / list output.

        Returns:
            Any: The recorded output.
        """
        return self.get_recorder(name).get_record_data(record_idx, data_idx)

    def __contains__(self, name: str) -> bool:
        return name in self.recorders

    def __len__(self) -> int:
        return len(self.recorders)
