"""mmseg's own shipped configs, shrunk to tiny data, and what a 2-iteration
run learnt from.

The configs are read from the installed mmseg package
(``mmseg/.mim/configs``), as a user's ``_base_`` would; nothing of them is
copied here. :func:`tiny_stock` keeps their structure (model types,
pipelines, schedules, runtime, ``default_scope='mmseg'``) and shrinks only
sizes: channels, the crop (32 x 40, the stock resize scale at twice the
crop, as in the stock configs), the data (the synthetic-rooms fixture read
by mmseg's ``BaseSegDataset``) and the run (2 iterations, no validation).
The stock top-level ``data_preprocessor`` (``size=crop_size`` of the stock
crop) is left as it is, as a user shrinking ``model`` leaves it.
"""
import copy
import os.path as osp
import sys
from typing import Dict, List, Optional

import pytest
import torch
from mmengine.config import Config
from mmengine.hooks import Hook
from mmengine.model.utils import revert_sync_batchnorm
from mmengine.registry import init_default_scope

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
if REPO not in sys.path:  # projects.* are imported from the repo root
    sys.path.insert(0, REPO)

DEEPLABV3 = 'deeplabv3/deeplabv3_r18-d8_4xb2-80k_cityscapes-512x1024.py'
SEGFORMER = 'segformer/segformer_mit-b0_8xb2-160k_ade20k-512x512.py'
CROP = (32, 40)  # H x W of the synthetic-rooms fixture
CLASSES = ('bed', 'books', 'ceiling', 'chair', 'floor', 'furniture', 'objects',
           'picture', 'sofa', 'table', 'tv', 'wall', 'window')
NUM_CLASSES = len(CLASSES)


def stock_config_dir() -> str:
    """``configs/`` of the installed mmseg (its ``.mim`` copy)."""
    import mmseg
    path = osp.join(osp.dirname(mmseg.__file__), '.mim', 'configs')
    if not osp.isdir(path):
        pytest.skip(f'the installed mmseg ships no configs ({path})')
    return path


def stock_config(name: str) -> Config:
    """A stock config of the installed mmseg, by its path under configs/."""
    return Config.fromfile(osp.join(stock_config_dir(), name))


def _shrink_pipeline(pipeline: List[dict]) -> List[dict]:
    """The stock pipeline at tiny sizes: each resize scale keeps its ratio
    to the stock crop (2x: (2048, 1024) for a 512 x 1024 crop), crops are
    the tiny crop."""
    scale = (2 * CROP[1], 2 * CROP[0])  # mmcv scales are (w, h)
    out = []
    for step in pipeline:
        step = copy.deepcopy(step)
        if 'scale' in step and step['type'] in ('RandomResize', 'Resize'):
            step['scale'] = scale
        if 'crop_size' in step:
            step['crop_size'] = CROP
        out.append(step)
    return out


def _rooms_dataset(root: str, split: str, pipeline: List[dict],
                   seg_dir: str) -> dict:
    return dict(
        type='BaseSegDataset',
        data_root=root,
        metainfo=dict(classes=CLASSES),
        img_suffix='.png',
        seg_map_suffix='.png',
        reduce_zero_label=seg_dir == 'seg13',
        data_prefix=dict(
            img_path=f'image/{split}', seg_map_path=f'{seg_dir}/{split}'),
        pipeline=_shrink_pipeline(pipeline))


def _shrink_model(model: dict) -> None:
    """Tiny channels, no pretrained weights, no dropout, 13 classes."""
    model['pretrained'] = None
    model['data_preprocessor']['size'] = CROP
    backbone = model['backbone']
    backbone['init_cfg'] = None
    if backbone['type'] == 'ResNetV1c':
        backbone.update(stem_channels=8, base_channels=8)
        widths = [8, 16, 32, 64]  # layer1..4 of a ResNet-18 at 8
    else:  # MixVisionTransformer: stage i has embed_dims * num_heads[i]
        backbone.update(embed_dims=8, drop_path_rate=0.0)
        widths = [8 * h for h in backbone['num_heads']]
    for key, channels in (('decode_head', 16), ('auxiliary_head', 8)):
        head = model.get(key)
        if not head:
            continue
        index = head['in_index']
        head.update(
            in_channels=[widths[i] for i in index] if isinstance(
                index, (list, tuple)) else widths[index],
            channels=channels,
            dropout_ratio=0.0,
            num_classes=NUM_CLASSES)


def tiny_stock(name: str,
               data_root: str,
               seg_dir: str = 'seg13',
               imports: Optional[List[str]] = None) -> Config:
    """A stock config shrunk to the synthetic-rooms fixture.

    Args:
        name (str): Path under mmseg's ``configs/``.
        data_root (str): The synthetic rooms (toolkit layout).
        seg_dir (str): The label folder (``seg13``: classes 1..13, 0 =
            unlabelled, read with ``reduce_zero_label``).
        imports (list[str], optional): ``custom_imports``; defaults to
            ``['had_mm']``.
    """
    cfg = stock_config(name)
    assert cfg.default_scope == 'mmseg'
    cfg.custom_imports = dict(
        imports=imports or ['had_mm'], allow_failed_imports=False)
    _shrink_model(cfg.model)
    cfg.train_dataloader = dict(
        batch_size=2,
        num_workers=0,
        persistent_workers=False,
        sampler=dict(type='InfiniteSampler', shuffle=True),
        dataset=_rooms_dataset(data_root, 'train', cfg.train_pipeline,
                               seg_dir))
    cfg.val_dataloader = dict(
        batch_size=4,
        num_workers=0,
        persistent_workers=False,
        sampler=dict(type='DefaultSampler', shuffle=False),
        dataset=_rooms_dataset(data_root, 'test', cfg.test_pipeline, seg_dir))
    cfg.test_dataloader = cfg.val_dataloader
    cfg.train_cfg = dict(type='IterBasedTrainLoop', max_iters=2)
    for key in ('val_dataloader', 'val_evaluator', 'val_cfg',
                'test_dataloader', 'test_evaluator', 'test_cfg'):
        cfg[key] = None
    cfg.default_hooks.logger.interval = 1
    cfg.default_hooks.checkpoint = None
    cfg.randomness = dict(seed=0)
    cfg.log_level = 'WARNING'
    return cfg


def with_validation(cfg: Config,
                    data_root: str,
                    name: str,
                    seg_dir: str = 'seg13') -> Config:
    """Give a tiny stock config back its (shrunk) validation."""
    stock = stock_config(name)
    cfg.val_dataloader = dict(
        batch_size=4,
        num_workers=0,
        persistent_workers=False,
        sampler=dict(type='DefaultSampler', shuffle=False),
        dataset=_rooms_dataset(data_root, 'test', stock.test_pipeline,
                               seg_dir))
    cfg.val_evaluator = stock.val_evaluator
    cfg.val_cfg = dict(type='ValLoop')
    return cfg


class Record(Hook):
    """What a run learnt from: the inputs of every ``loss`` forward, the
    first batch and the weights before the first step, the logged losses.
    """

    priority = 'VERY_LOW'

    def __init__(self) -> None:
        self.input_shapes: List[tuple] = []
        self.padding: List[float] = []
        self.labels: List[torch.Tensor] = []
        self.first_batch = None
        self.first_state: Optional[Dict[str, torch.Tensor]] = None
        self.losses: List[Dict[str, float]] = []

    def _on_forward(self, module, args, kwargs) -> None:
        if kwargs.get('mode') != 'loss':
            return
        inputs = kwargs.get('inputs', args[0] if args else None)
        samples = kwargs.get('data_samples') or []
        height, width = inputs.shape[-2:]
        real = sum(int(s.img_shape[0]) * int(s.img_shape[1]) for s in samples)
        self.input_shapes.append(tuple(inputs.shape))
        self.padding.append(1 - real / (len(samples) * height * width))
        if samples and all('gt_sem_seg' in s for s in samples):
            self.labels.append(
                torch.stack([s.gt_sem_seg.data for s in samples]).clone())

    def before_run(self, runner) -> None:
        runner.model.register_forward_pre_hook(
            self._on_forward, with_kwargs=True)

    def before_train_iter(self, runner, batch_idx, data_batch=None) -> None:
        if self.first_batch is None:
            self.first_batch = copy.deepcopy(data_batch)
            self.first_state = copy.deepcopy(runner.model.state_dict())

    def after_train_iter(self,
                         runner,
                         batch_idx,
                         data_batch=None,
                         outputs=None) -> None:
        self.losses.append({k: float(v) for k, v in outputs.items()})


def train(cfg: Config, work_dir) -> Record:
    """Train ``cfg`` with mmengine's stock Runner, recording the run.

    ``custom_imports`` are imported first, as ``Config.fromfile`` does when
    it reads a config file."""
    from mmengine.runner import Runner
    from mmengine.utils import import_modules_from_strings
    cfg = copy.deepcopy(cfg)
    import_modules_from_strings(**cfg.get('custom_imports', {}))
    cfg.work_dir = str(work_dir)
    runner = Runner.from_cfg(cfg)
    record = Record()
    runner.register_hook(record)
    runner.train()
    return record


def losses_alone(model_cfg: dict,
                 record: Record,
                 prefix: str = '',
                 scope: str = 'mmseg') -> Dict[str, float]:
    """The losses of ``model_cfg`` built alone, with the recorded run's
    weights under ``prefix`` (e.g. the distiller's ``student.``), on the
    run's first batch through its own data preprocessor: the same model
    trained alone, at step 0."""
    from mmseg.registry import MODELS
    init_default_scope(scope)
    model = revert_sync_batchnorm(MODELS.build(copy.deepcopy(model_cfg)))
    state = {
        k[len(prefix):]: v
        for k, v in record.first_state.items() if k.startswith(prefix)
    }
    own = model.state_dict()
    missing = sorted(set(own) - set(state))
    assert not missing, f'the run has no weights for {missing[:3]}'
    model.load_state_dict({k: state[k] for k in own}, strict=True)
    model.train()
    with torch.no_grad():
        data = model.data_preprocessor(copy.deepcopy(record.first_batch), True)
        losses = model(**data, mode='loss')
    return {k: float(v) for k, v in losses.items()}


def one_line(err: BaseException) -> str:
    """The message of an error, checked to be one line."""
    text = str(err)
    assert '\n' not in text.strip(), text
    return text
