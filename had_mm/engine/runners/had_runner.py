import pickle
from typing import Optional, Union

import torch
from mmengine.runner import Runner

from had_mm.registry import RUNNERS
from ..checkpoint import explain_unpickling_error


class CheckpointLoadError(RuntimeError):
    """A checkpoint exists but cannot be loaded safely or is incompatible."""


@RUNNERS.register_module()
class HADRunner(Runner):
    """mmengine's Runner with early, readable checkpoint errors.

    Everything else is mmengine's behaviour. Loading goes through torch's
    ``weights_only`` unpickler with mmengine's own types allow-listed (see
    :mod:`had_mm.engine.checkpoint`); a checkpoint that needs more is refused
    with a message that names what it contains and how to proceed.
    """

    def load_checkpoint(self,
                        filename: str,
                        map_location: Union[str, torch.device] = 'cpu',
                        strict: bool = False,
                        revise_keys: list = [(r'^module.', '')]):
        with _readable_errors(filename):
            return super().load_checkpoint(filename, map_location, strict,
                                           revise_keys)

    def resume(self,
               filename: str,
               resume_optimizer: bool = True,
               resume_param_scheduler: bool = True,
               map_location: Union[str, torch.device] = 'default') -> None:
        with _readable_errors(filename):
            super().resume(filename, resume_optimizer, resume_param_scheduler,
                           map_location)


class _readable_errors:
    """Turn torch's unpickling refusals into :class:`CheckpointLoadError`."""

    def __init__(self, filename: str) -> None:
        self.filename = filename

    def __enter__(self) -> None:
        return None

    def __exit__(self, exc_type, exc, tb) -> Optional[bool]:
        if exc is None or not isinstance(
                exc, (pickle.UnpicklingError, RuntimeError)):
            return None
        msg = explain_unpickling_error(self.filename, exc)
        if msg is not None:
            raise CheckpointLoadError(msg) from None
        return None
