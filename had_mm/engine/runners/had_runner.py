import glob
import logging
import os.path as osp
from typing import Callable, Dict, List, Optional, Union

import torch
import torch.nn as nn
from mmengine.device import get_device
from mmengine.logging import print_log
from mmengine.model import is_model_wrapper
from mmengine.runner import Runner, find_latest_checkpoint

from had_mm.checkpoint import (CheckpointLoadError, UnreadableCheckpointError,
                               load_into_model, load_model_checkpoint,
                               read_checkpoint)
from had_mm.registry import RUNNERS
from had_mm.utils.cpu_features import channels_last_refusal
from had_mm.utils.dist_sync import revert_sync_bn_on_cpu
from ..hooks import RankSyncHook


@RUNNERS.register_module()
class HADRunner(Runner):
    """mmengine's Runner with early, readable checkpoint errors.

    Everything else is mmengine's behaviour, except:

    - Checkpoints are read through :func:`~had_mm.checkpoint.
      read_checkpoint` (``weights_only`` with mmengine's own types
      allow-listed): a missing, truncated, corrupt or foreign file fails
      with one line naming it.
    - ``cfg.strict_load``: None (default) loads ``load_from`` as mmengine
      does; True refuses a checkpoint whose weights do not fit the model
      (what ``tools/test.py`` sets); False loads the weights that fit and
      warns loudly (``tools/test.py --partial-load``).
    - ``--resume`` without a checkpoint named falls back to the newest
      intact checkpoint of the work dir, with a warning, when the latest
      one cannot be read (e.g. a save that was killed).
    - The environment and config dump is logged when training, testing or
      validation starts, so that set-up errors (a bad train loop, a
      checkpoint that does not fit) come first.
    - ``train_cfg.channels_last`` converts the model before the DDP wrap
      (DDP's gradient buckets take the parameters' strides when built).
    - Every rank holds the same model: in a distributed run
      :class:`~had_mm.engine.hooks.RankSyncHook` is registered (rank 0's
      BN statistics after every iteration, its whole state before every
      validation), unless the config lists it; SyncBN layers become BN,
      with one log line, when the ranks run on CPUs (gloo), where torch's
      SyncBatchNorm cannot train.
    """

    def wrap_model(self, model_wrapper_cfg: Optional[Dict],
                   model: nn.Module) -> nn.Module:
        if not is_model_wrapper(model):
            model = revert_sync_bn_on_cpu(model, self.distributed,
                                          get_device())
            train_cfg = self.cfg.get('train_cfg') or {}
            if train_cfg.get('channels_last'):
                model = model.to(get_device())
                device = next(model.parameters()).device
                if channels_last_refusal(device) is None:
                    model = model.to(memory_format=torch.channels_last)
        return super().wrap_model(model_wrapper_cfg, model)

    def register_hooks(self, default_hooks=None, custom_hooks=None) -> None:
        super().register_hooks(default_hooks, custom_hooks)
        if self.distributed and not any(
                type(h).__name__ == 'RankSyncHook' for h in self._hooks):
            self.register_hook(RankSyncHook())

    def _log_env(self, env_cfg: dict) -> None:
        # mmengine logs it in __init__, before the loops and checkpoints
        # are checked; kept until a loop starts (see call_hook)
        self._pending_env_cfg = env_cfg

    def log_env(self) -> None:
        """Log the environment and config dump now, if not yet done."""
        env_cfg = getattr(self, '_pending_env_cfg', None)
        if env_cfg is not None:
            self._pending_env_cfg = None
            super()._log_env(env_cfg)

    def call_hook(self, fn_name: str, **kwargs) -> None:
        if fn_name in ('before_train', 'before_val', 'before_test'):
            self.log_env()
        super().call_hook(fn_name, **kwargs)

    def load_checkpoint(self,
                        filename: str,
                        map_location: Union[str, Callable] = 'cpu',
                        strict: bool = False,
                        revise_keys: list = [(r'^module.', '')]):
        checkpoint = read_checkpoint(filename, map_location)
        self.call_hook('after_load_checkpoint', checkpoint=checkpoint)
        mode = None if strict else self.cfg.get('strict_load')
        if strict or mode is not None:
            load_model_checkpoint(
                self.model,
                filename,
                strict=bool(strict or mode),
                revise_keys=revise_keys,
                checkpoint=checkpoint)
        else:  # mmengine's load_from: warns about what does not fit
            model = self.model.module if is_model_wrapper(
                self.model) else self.model
            load_into_model(model, checkpoint, revise_keys)
        self._has_loaded = True
        self.logger.info(f'Load checkpoint from {filename}')
        return checkpoint

    def load_or_resume(self) -> None:
        # _has_loaded, _resume, _load_from: the Runner's own state, which
        # it exposes to no public API
        if self._has_loaded or not (self._resume and self._load_from is None):
            return super().load_or_resume()
        # auto resume: the latest checkpoint of the work dir, or the newest
        # one that can be read
        latest = find_latest_checkpoint(self.work_dir)
        if latest is None:
            return super().load_or_resume()
        tried: List[str] = []
        for path in [latest] + self._checkpoints_newest_first():
            if path in tried:
                continue
            tried.append(path)
            try:
                self.resume(path)
            except (UnreadableCheckpointError, FileNotFoundError) as err:
                print_log(
                    f'{err} Trying an older checkpoint of the work dir.',
                    logger='current',
                    level=logging.WARNING)
                continue
            if path != latest:
                print_log(
                    f'resumed from "{path}", the newest intact checkpoint '
                    f'of {self.work_dir}, because "{latest}" cannot be '
                    f'read.',
                    logger='current',
                    level=logging.WARNING)
            self._has_loaded = True
            return None
        raise CheckpointLoadError(
            f'--resume: no checkpoint in "{self.work_dir}" can be read '
            f'(tried {len(tried)}); train without --resume or use another '
            f'work_dir.')

    def _checkpoints_newest_first(self) -> List[str]:
        paths = glob.glob(osp.join(self.work_dir, '*.pth'))
        return sorted(paths, key=lambda p: (osp.getmtime(p), p), reverse=True)
