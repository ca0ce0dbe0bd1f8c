"""Build a frozen teacher from its own config file and checkpoint."""
import copy
import os.path as osp
from typing import Callable, Optional, Tuple, Union

import torch.nn as nn
from mmengine.config import Config, ConfigDict
from mmseg.utils import ConfigType

from had_mm.checkpoint import (check_checkpoint_path, load_state_dict_strictly,
                               load_weights)
from had_mm.registry import MODELS


def check_teacher_ckpt_path(teacher_ckpt: Optional[str],
                            key: str = 'model.teacher_ckpt') -> None:
    """Raise early, naming ``key``, if the checkpoint is not given or
    missing (URLs are left to the loader)."""
    if not teacher_ckpt:
        raise ValueError(
            f'{key} is required: train the teacher with tools/train.py on '
            f'its config and pass its checkpoint (--cfg-options {key}=PATH).')
    if '://' not in teacher_ckpt and osp.isdir(teacher_ckpt):
        check_checkpoint_path(teacher_ckpt, f'teacher checkpoint ({key})')
    if '://' not in teacher_ckpt and not osp.isfile(teacher_ckpt):
        raise FileNotFoundError(
            f'teacher checkpoint "{teacher_ckpt}" does not exist; train the '
            f'teacher first (python tools/train.py TEACHER_CONFIG) or pass '
            f'--cfg-options {key}=PATH.')


def teacher_model_cfg(teacher_cfg: Union[str, ConfigType]) -> tuple:
    """The teacher's model config and a name for messages.

    Args:
        teacher_cfg (str | dict): A config file with a ``model`` or a model
            config dict.

    Returns:
        tuple[ConfigDict, str]: The model config and its name.
    """
    if isinstance(teacher_cfg, str):
        if not osp.isfile(teacher_cfg):
            raise FileNotFoundError(
                f'teacher config "{teacher_cfg}" does not exist.')
        cfg = Config.fromfile(teacher_cfg)
        if 'model' not in cfg:
            raise ValueError(f'teacher config "{teacher_cfg}" has no model')
        return copy.deepcopy(cfg.model), teacher_cfg
    if isinstance(teacher_cfg, (dict, ConfigDict)):
        cfg = ConfigDict(copy.deepcopy(teacher_cfg))
        return cfg, f'<dict {cfg.get("type", "?")}>'
    raise TypeError(f'teacher_cfg must be a config path or a model dict, '
                    f'got {type(teacher_cfg).__name__}')


def build_frozen_teacher(
    teacher_cfg: Union[str, ConfigType],
    teacher_ckpt: Optional[str],
    ckpt_key: str = 'model.teacher_ckpt',
    before_load: Optional[Callable[[nn.Module, str], None]] = None
) -> Tuple[nn.Module, ConfigDict, str]:
    """Build a teacher, load its checkpoint strictly and freeze it.

    The checkpoint is checked against the model before loading, so a
    checkpoint of another config fails naming the first mismatching key.

    Args:
        teacher_cfg (str | dict): Teacher config file or model dict.
        teacher_ckpt (str): Its checkpoint.
        ckpt_key (str): The config key of the checkpoint, for messages.
        before_load (callable, optional): ``(teacher, name)`` checks run on
            the built teacher before its weights are loaded (their error
            then comes first, e.g. a class count that differs).

    Returns:
        tuple: The teacher (eval mode, no gradients), its model config and
        its name.
    """
    check_teacher_ckpt_path(teacher_ckpt, ckpt_key)
    model_cfg, name = teacher_model_cfg(teacher_cfg)
    teacher = MODELS.build(model_cfg)
    if before_load is not None:
        before_load(teacher, name)
    weights = load_weights(teacher_ckpt)
    load_state_dict_strictly(
        teacher, weights,
        f'teacher checkpoint "{teacher_ckpt}" for teacher config "{name}"')
    del weights
    teacher.requires_grad_(False)
    teacher.eval()
    return teacher, model_cfg, name
