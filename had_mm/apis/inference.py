"""Inference on images outside a data set: build a model from a config and
a checkpoint, predict, convert and save the predictions.

MMSegmentation's ``init_model`` / ``inference_model`` for had_mm's
multi-task models (and any mmseg segmentor, as a semantic-only model).
"""
import copy
import logging
import os
import os.path as osp
import warnings
from typing import Dict, List, Optional, Sequence, Union

import mmcv
import numpy as np
import torch
import torch.nn as nn
from mmcv.transforms import Compose
from mmengine.config import Config
from mmengine.dataset import pseudo_collate
from mmengine.logging import print_log
from mmengine.model import revert_sync_batchnorm
from mmengine.registry import init_default_scope
from mmseg.structures import SegDataSample
from PIL import Image

from had_mm.checkpoint import (CheckpointLoadError, load_model_checkpoint,
                               read_checkpoint)
from had_mm.datasets.nyuv2_classes import (NYUV2_13_CLASSES, NYUV2_13_PALETTE,
                                           nyuv2_palette)
from had_mm.datasets.transforms.inferencer_loading import check_channel_order
from had_mm.evaluation.metrics.base_dense_metric import get_pixel_data
from had_mm.registry import MODELS
from had_mm.tasks import BUILTIN_TASKS, check_tasks, get_task, task_names
from had_mm.utils import register_all_modules
from .launch import load_config

#: The prediction field of each built-in task in a ``SegDataSample`` (a
#: view of the task table; :func:`sample_to_numpy` reads the table itself).
PRED_FIELDS = {t: get_task(t).pred_field for t in BUILTIN_TASKS}

# Transforms that read labels: an inference input has none.
_LABEL_LOADERS = ('LoadMultiTaskAnnotations', 'LoadAnnotations',
                  'LoadDepthAnnotation')
_IMAGE_LOADERS = ('LoadMultiTaskImage', 'LoadImageFromFile')

ImageType = Union[str, np.ndarray]


def load_checkpoint_file(path: str) -> dict:
    """Read a checkpoint with had_mm's safe reader.

    ``weights_only`` with mmengine's types allow-listed (see
    :func:`~had_mm.checkpoint.read_checkpoint`): never full unpickling.

    Args:
        path (str): A ``.pth`` file written by mmengine (``tools/train.py``,
            e.g. a lifelong run's ``phase_<t>_<task>.pth``).

    Returns:
        dict: The checkpoint (``state_dict``, ``meta``, ``lifelong``, ...).

    Raises:
        FileNotFoundError: If the file does not exist.
        CheckpointLoadError: If it cannot be read safely or holds no
            weights.
    """
    ckpt = read_checkpoint(path)
    state = ckpt.get('state_dict', ckpt) if isinstance(ckpt, dict) else None
    if not isinstance(state, dict) or not state or not all(
            isinstance(v, torch.Tensor) for v in state.values()):
        raise CheckpointLoadError(
            f'checkpoint "{path}" holds no state_dict of tensors; pass a '
            f'.pth file written by tools/train.py')
    return ckpt


def model_tasks(model: nn.Module) -> List[str]:
    """Tasks a model has a head for (a plain segmentor: semantic only)."""
    heads = getattr(model, 'heads', None)
    return list(heads.keys()) if heads is not None else ['semantic']


def learnt_tasks(checkpoint: Optional[dict],
                 tasks: Sequence[str],
                 phases: Optional[Sequence[dict]] = None) -> List[str]:
    """The tasks a checkpoint has learnt, in head order.

    A lifelong checkpoint (with the ``lifelong`` state of
    :class:`~had_mm.engine.LifelongTrainLoop`) has learnt the tasks of its
    finished phases and, when written in the middle of a phase, that
    phase's task. Any other checkpoint has learnt every head.

    Args:
        checkpoint (dict, optional): From :func:`load_checkpoint_file`.
        tasks (Sequence[str]): The model's heads.
        phases (Sequence[dict], optional): The config's
            ``train_cfg.phases``, to tell a mid-phase checkpoint from a
            phase-end one.

    Returns:
        list[str]: The learnt tasks.
    """
    state = (checkpoint or {}).get('lifelong')
    order = list(state.get('tasks') or []) if isinstance(state, dict) else []
    if not order or any(t not in task_names() for t in order):
        return list(tasks)  # not a task-incremental run
    meta = checkpoint.get('meta') or {}
    done = min(int(meta.get('epoch', len(order))), len(order))
    num = max(done, 1)
    it = meta.get('iter')
    starts = _phase_starts(phases, order, state)
    if done < len(order) and it is not None and starts is not None and \
            int(it) > starts[done]:
        num = done + 1  # written while phase done + 1 was training
    seen = set(order[:num])
    return [t for t in tasks if t in seen]


def _phase_starts(phases: Optional[Sequence[dict]],
                  order: List[str],
                  state: Optional[dict] = None) -> Optional[List[int]]:
    # the loop's own schedule, as the checkpoint recorded it
    iters = (state or {}).get('phase_iters')
    if isinstance(iters, (list, tuple)) and len(iters) == len(order):
        return np.cumsum([0] + [int(n) for n in iters]).tolist()
    if not phases or [p.get('task') for p in phases] != order or \
            any('max_iters' not in p for p in phases):
        return None
    return np.cumsum([0] + [int(p['max_iters']) for p in phases]).tolist()


def _dataset_meta(checkpoint: Optional[dict], model: nn.Module) -> dict:
    meta = ((checkpoint or {}).get('meta') or {}).get('dataset_meta') or {}
    if meta.get('classes') and meta.get('palette'):
        return dict(classes=meta['classes'], palette=meta['palette'])
    # a checkpoint without data set information: had_mm's defaults
    heads = getattr(model, 'heads', None)
    if heads is not None:
        head = heads['semantic'] if 'semantic' in heads else None
    else:
        head = getattr(model, 'decode_head', None)
    num = getattr(head, 'num_classes', 13)
    if num == 13:
        return dict(
            classes=NYUV2_13_CLASSES,
            palette=[list(c) for c in NYUV2_13_PALETTE])
    return dict(
        classes=tuple(f'class {i}' for i in range(num)),
        palette=nyuv2_palette(num))


def _resolve_device(device: Optional[str]) -> str:
    if device is None:
        return 'cuda' if torch.cuda.is_available() else 'cpu'
    if str(device).startswith('cuda') and not torch.cuda.is_available():
        raise ValueError(f'device "{device}" was asked for but torch sees no '
                         f'GPU; use device "cpu"')
    return str(device)


def init_model(config: Union[str, Config],
               checkpoint: Optional[str] = None,
               device: Optional[str] = None,
               cfg_options: Optional[dict] = None) -> nn.Module:
    """Build a model from a config and load a checkpoint strictly.

    The checkpoint is loaded with ``weights_only`` (mmengine's types
    allow-listed) and checked against the model first, so a checkpoint of
    another config fails with one line naming the first mismatching key.

    Args:
        config (str | Config): Config file or loaded config.
        checkpoint (str, optional): Checkpoint file; None leaves the
            weights random (with a warning).
        device (str, optional): ``'cpu'``, ``'cuda'``, ``'cuda:1'``...;
            default: a GPU if there is one.
        cfg_options (dict, optional): Overrides of the config.

    Returns:
        nn.Module: The model in eval mode, with ``cfg``, ``dataset_meta``
        (classes and palette) and ``learnt_tasks`` attributes.

    Raises:
        FileNotFoundError: For a missing config or checkpoint.
        CheckpointLoadError: For a checkpoint of another config or one
            that cannot be read safely.
        ValueError: For an unusable device.
    """
    device = _resolve_device(device)
    if isinstance(config, (str, os.PathLike)):
        name = str(config)
        cfg = load_config(name, cfg_options)
    elif isinstance(config, Config):
        name = config.filename or '<Config>'
        cfg = copy.deepcopy(config)
        if cfg_options:
            cfg.merge_from_dict(cfg_options)
    else:
        raise TypeError(f'config must be a file path or a Config, got '
                        f'{type(config).__name__}')
    if 'model' not in cfg:
        raise ValueError(f'config "{name}" has no model')
    register_all_modules(init_default_scope=False)
    init_default_scope(cfg.get('default_scope', 'had_mm'))
    model_cfg = copy.deepcopy(cfg.model)
    model_cfg.pop('pretrained', None)  # the checkpoint has the weights
    model = MODELS.build(model_cfg)
    ckpt = None
    if checkpoint is not None:
        ckpt = load_checkpoint_file(checkpoint)
        # strict: a checkpoint of another config fails with one line
        load_model_checkpoint(model, checkpoint, strict=True, checkpoint=ckpt)
    else:
        print_log(
            'no checkpoint given: the model has random weights',
            logger='current',
            level=logging.WARNING)
    phases = (cfg.get('train_cfg') or {}).get('phases')
    model.cfg = cfg
    model.dataset_meta = _dataset_meta(ckpt, model)
    model.learnt_tasks = learnt_tasks(ckpt, model_tasks(model), phases)
    if device == 'cpu':
        model = revert_sync_batchnorm(model)  # SyncBN needs a process group
    model.to(device)
    model.eval()
    return model


def check_inference_tasks(model: nn.Module,
                          tasks: Optional[Sequence[str]] = None,
                          allow_untrained: bool = False) -> List[str]:
    """The tasks to predict: ``tasks``, checked, or every learnt task.

    A task whose head the checkpoint has not trained (e.g. ``depth`` of a
    lifelong run's ``phase_1_semantic.pth``) would be predicted by random
    weights: it is refused unless ``allow_untrained``, and then warned
    about.

    Args:
        model (nn.Module): From :func:`init_model`.
        tasks (Sequence[str], optional): Requested tasks.
        allow_untrained (bool): Accept (with a warning) tasks whose heads
            the checkpoint has not trained. Defaults to False.

    Returns:
        list[str]: The tasks, in head order.

    Raises:
        ValueError: For an unknown task, a task the model has no head for,
            or one the checkpoint has not trained (without
            ``allow_untrained``).
    """
    heads = model_tasks(model)
    learnt = list(getattr(model, 'learnt_tasks', None) or heads)
    if tasks is None:
        return learnt
    tasks = check_tasks(list(tasks))
    missing = [t for t in tasks if t not in heads]
    if missing:
        raise ValueError(
            f'the model has no head for task(s) {", ".join(missing)} (its '
            f'heads: {", ".join(heads)}); ask for those tasks only, or use '
            f'a config with these heads')
    untrained = [t for t in tasks if t not in learnt]
    if untrained:
        what = (f'task(s) {", ".join(untrained)} not learnt yet by this '
                f'checkpoint (learnt: {", ".join(learnt)}): their heads are '
                f'untrained')
        if not allow_untrained:
            raise ValueError(
                f'{what}; ask for learnt tasks only, use a later checkpoint, '
                f'or pass allow_untrained=True (image_demo.py: '
                f'--allow-untrained) to predict them anyway')
        warnings.warn(f'{what}; predicting them anyway', stacklevel=2)
    return [t for t in heads if t in tasks]


def build_inference_pipeline(cfg: Config,
                             channel_order: str = 'rgb') -> Compose:
    """The config's test pipeline for images without labels.

    The label loaders are dropped and the image loader becomes
    :class:`~had_mm.datasets.MultiTaskInferencerLoader` (paths and arrays),
    so resizing and packing are the ones ``tools/test.py`` applies.

    Args:
        cfg (Config): A config with ``test_dataloader.dataset.pipeline``.
        channel_order (str): Channel order of array inputs: ``'rgb'``
            (default; numpy, scikit-image, PIL) or ``'bgr'``
            (``mmcv.imread``, ``cv2.imread``).

    Returns:
        Compose: The pipeline; call it with ``dict(img=path_or_array)``.

    Raises:
        ValueError: If the config has no test pipeline with an image
            loader.
    """
    try:
        pipeline = copy.deepcopy(cfg.test_dataloader.dataset.pipeline)
    except AttributeError:
        raise ValueError('the config has no test_dataloader.dataset.pipeline '
                         'to prepare images with') from None

    def name(transform):  # without a scope prefix ('had_mm.X')
        return str(transform['type']).split('.')[-1]

    pipeline = [t for t in pipeline if name(t) not in _LABEL_LOADERS]
    loaders = [i for i, t in enumerate(pipeline) if name(t) in _IMAGE_LOADERS]
    if not loaders:
        raise ValueError(f'the test pipeline has no image loader (one of '
                         f'{", ".join(_IMAGE_LOADERS)})')
    # scoped, so that a config whose default scope is mmseg finds it
    pipeline[loaders[0]] = dict(
        type='had_mm.MultiTaskInferencerLoader',
        channel_order=check_channel_order(channel_order))
    init_default_scope(cfg.get('default_scope', 'had_mm'))
    return Compose(pipeline)


@torch.no_grad()
def predict_batch(model: nn.Module, data: dict,
                  tasks: Sequence[str]) -> List[SegDataSample]:
    """Predict ``tasks`` for a collated batch of pipeline outputs.

    Args:
        model (nn.Module): From :func:`init_model`.
        data (dict): ``pseudo_collate`` of the pipeline outputs.
        tasks (Sequence[str]): Checked tasks.

    Returns:
        list[SegDataSample]: One sample per image, with the prediction
        fields of ``tasks`` at the image's size.
    """
    if not hasattr(model, 'heads'):
        return model.test_step(data)  # a plain mmseg segmentor
    data = model.data_preprocessor(data, False)
    return model.predict(data['inputs'], data['data_samples'], tasks=tasks)


def inference_model(
    model: nn.Module,
    img: Union[ImageType, Sequence[ImageType]],
    tasks: Optional[Sequence[str]] = None,
    channel_order: str = 'rgb',
    allow_untrained: bool = False
) -> Union[SegDataSample, List[SegDataSample]]:
    """Predict images with a model from :func:`init_model`.

    Args:
        model (nn.Module): The model.
        img (str | np.ndarray | list): An image file, an ``HxWx3`` array
            (uint8 0-255 or float in [0, 1]) in ``channel_order``, or a
            list of them.
        tasks (Sequence[str], optional): Tasks to predict; default: every
            task the checkpoint has learnt.
        channel_order (str): Channel order of array inputs: ``'rgb'``
            (default: numpy, scikit-image, PIL) or ``'bgr'``
            (``mmcv.imread``, ``cv2.imread``). Files are read as they are.
        allow_untrained (bool): Predict a task the checkpoint has not
            learnt (with a warning) instead of refusing it.

    Returns:
        SegDataSample | list[SegDataSample]: Per image, the prediction
        fields (``pred_sem_seg``, ``pred_depth_map``, ``pred_normal``,
        ``pred_saliency``) at the image's own size; a list for a list.
    """
    tasks = check_inference_tasks(model, tasks, allow_untrained)
    pipelines = model.__dict__.setdefault('_inference_pipelines', {})
    pipeline = pipelines.get(check_channel_order(channel_order))
    if pipeline is None:
        pipeline = build_inference_pipeline(model.cfg, channel_order)
        pipelines[channel_order] = pipeline
    imgs = list(img) if isinstance(img, (list, tuple)) else [img]
    # one image per forward: no padding to a batch size, so the result
    # does not depend on the other images
    samples = [
        predict_batch(model, pseudo_collate([pipeline(dict(img=x))]), tasks)[0]
        for x in imgs
    ]
    return samples if isinstance(img, (list, tuple)) else samples[0]


def sample_to_numpy(
        sample: Union[SegDataSample, dict]) -> Dict[str, np.ndarray]:
    """The predictions of a sample as NumPy arrays.

    Args:
        sample (SegDataSample | dict): A predicted sample, or its
            ``to_dict()`` (what an evaluator's metrics receive).

    Returns:
        dict[str, np.ndarray]: Per predicted task: ``semantic`` HxW int64
        class indices, ``depth`` HxW float32 metres, ``normal`` HxWx3
        float32 unit vectors (camera frame: x right, y down, z forward),
        ``saliency`` HxW float32 probability.
    """
    out = {}
    for task in task_names():
        spec = get_task(task)
        data = get_pixel_data(sample, spec.pred_field)
        if data is None:
            continue
        data = data.detach().cpu().numpy()
        if spec.out_channels is None:  # one channel per class: indices
            out[task] = data[0].astype(np.int64)
        elif data.shape[0] > 1:  # a vector per pixel
            out[task] = data.transpose(1, 2, 0).astype(np.float32)
        else:
            out[task] = data[0].astype(np.float32)
    return out


def save_predictions(
        preds: Dict[str, np.ndarray],
        out_dir: str,
        stem: str,
        palette: Optional[Sequence[Sequence[int]]] = None) -> List[str]:
    """Write the predictions of one image as files.

    - ``<stem>_semantic.png``: palette PNG, pixel value = class index;
    - ``<stem>_depth.png``: 16-bit PNG in millimetres (as NYUv2 stores
      depth; clipped to 65.535 m), and ``<stem>_depth.npy``: float32
      metres;
    - ``<stem>_normal.png``: RGB = (n + 1) / 2 * 255, the encoding the
      NYUv2 loader reads back;
    - ``<stem>_saliency.png``: 8-bit probability (255 = 1);
    - ``<stem>_<task>.npy`` for a task type registered from another
      package.

    Args:
        preds (dict[str, np.ndarray]): From :func:`sample_to_numpy`.
        out_dir (str): Output folder (created).
        stem (str): File name stem, e.g. the image's.
        palette (Sequence, optional): RGB per class for the semantic PNG.

    Returns:
        list[str]: The written files.
    """
    os.makedirs(out_dir, exist_ok=True)
    base = osp.join(out_dir, stem)
    written = []
    if 'semantic' in preds:
        seg = preds['semantic'].astype(np.uint8)
        png = Image.fromarray(seg, mode='P')
        colours = np.zeros((256, 3), np.uint8)
        if palette:
            pal = np.asarray(palette, np.uint8)[:256]
            colours[:len(pal)] = pal
        png.putpalette(colours.reshape(-1).tolist())
        written.append(f'{base}_semantic.png')
        png.save(written[-1])
    if 'depth' in preds:
        depth = preds['depth']
        mm = np.clip(np.round(depth * 1000.0), 0, 65535).astype(np.uint16)
        written.append(f'{base}_depth.png')
        mmcv.imwrite(mm, written[-1])
        written.append(f'{base}_depth.npy')
        np.save(written[-1], depth.astype(np.float32))
    if 'normal' in preds:
        rgb = np.clip(np.round((preds['normal'] + 1) / 2 * 255), 0,
                      255).astype(np.uint8)
        written.append(f'{base}_normal.png')
        mmcv.imwrite(mmcv.rgb2bgr(rgb), written[-1])
    if 'saliency' in preds:
        sal = np.clip(np.round(preds['saliency'] * 255), 0,
                      255).astype(np.uint8)
        written.append(f'{base}_saliency.png')
        mmcv.imwrite(sal, written[-1])
    for task in preds:
        if task not in PRED_FIELDS:  # a task type registered elsewhere
            written.append(f'{base}_{task}.npy')
            np.save(written[-1], preds[task])
    return written
