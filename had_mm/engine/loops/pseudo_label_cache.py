"""Teacher outputs computed once per lifelong phase and reused.

In phase ``t`` the frozen teacher (eval mode: no dropout, BN with running
statistics) gives each image the same outputs at every visit, so when the
phase's train pipeline is deterministic, or random only in ways that can be
undone on the outputs, the teacher can run once over the phase's images and
the cached outputs replace its forward pass in every iteration.

Handled pipelines: loading, ``MultiTaskResize`` (a fixed size),
``PackMultiTaskInputs`` and ``MultiTaskRandomFlip``, whose flip is applied
to the cached maps (mirrored along the width; the x component of a normal
map changes sign). Any other transform (random scale-crop, photometric
distortion, ...) changes what the teacher sees in a way the cache cannot
reproduce and is refused by name.

The cache stores the raw head outputs at the heads' decode resolution (1/8
of the input for the HAD reference model), not at input size:
``N x sum_j C_j x (H/8) x (W/8)`` float32 for ``N`` images and the old
heads' channels ``C_j`` (e.g. 288x384 inputs, semantic 13 + depth 1 +
normal 3 channels: 117 KiB per image, 23 MiB for a 199-image NYUv2 chunk).
"""
import time
from typing import Dict, Iterable, List, Optional, Sequence, Tuple

import torch
from mmengine.dataset import pseudo_collate
from mmengine.logging import print_log
from torch import Tensor
from torch.utils.data import DataLoader

from had_mm.datasets.transforms import (LoadMultiTaskAnnotations,
                                        LoadMultiTaskImage,
                                        MultiTaskRandomFlip, MultiTaskResize,
                                        PackMultiTaskInputs)

#: Transforms whose output the teacher sees identically at every visit.
DETERMINISTIC_TRANSFORMS = (LoadMultiTaskImage, LoadMultiTaskAnnotations,
                            MultiTaskResize, PackMultiTaskInputs)
#: Random transforms the cache undoes on the outputs.
INVERTIBLE_TRANSFORMS = (MultiTaskRandomFlip, )
#: Raw output channel holding the x component of a vector-valued task.
FLIP_NEGATED_CHANNEL = dict(normal=0)


def cacheable_pipeline(transforms: Sequence) -> Tuple[List, bool]:
    """The deterministic part of a train pipeline, for the cache pass.

    Args:
        transforms (Sequence): The built transforms of the phase's
            dataset (``dataset.pipeline.transforms``).

    Returns:
        tuple[list, bool]: The transforms that load and pack an image
        without any random flip (label loading dropped: the teacher only
        needs the image), and whether the pipeline flips images (then the
        cached maps are flipped per sample at look-up).

    Raises:
        ValueError: Naming the first transform the cache cannot handle.
    """
    kept, flips = [], False
    for transform in transforms:
        if isinstance(transform, INVERTIBLE_TRANSFORMS):
            flips = flips or transform.prob > 0
        elif isinstance(transform, LoadMultiTaskAnnotations):
            continue
        elif isinstance(transform, DETERMINISTIC_TRANSFORMS):
            kept.append(transform)
        else:
            raise ValueError(
                f'pseudo_label_cache: the train pipeline has '
                f'{type(transform).__name__}, which changes the images at '
                f'random in a way the cached teacher outputs cannot follow '
                f'(handled: '
                f'{", ".join(t.__name__ for t in DETERMINISTIC_TRANSFORMS)}'
                f', MultiTaskRandomFlip); remove it from the pipeline or set '
                f'train_cfg.pseudo_label_cache=False')
    return kept, flips


def check_cacheable_teacher(teacher) -> None:
    """Refuse a teacher without raw (decode-resolution) head outputs.

    Args:
        teacher (nn.Module): The phase's teacher.

    Raises:
        TypeError: When ``teacher`` lacks ``raw_head_outputs`` /
            ``outputs_from_raw`` (e.g. a heterogeneous teacher).
    """
    missing = [
        name
        for name in ('extract_feat', 'raw_head_outputs', 'outputs_from_raw')
        if not callable(getattr(teacher, name, None))
    ]
    if missing:
        raise TypeError(
            f'pseudo_label_cache needs a teacher with {missing} (a '
            f'HeterogeneousDensePredictor, the model\'s own copy); '
            f'{type(teacher).__name__} has not: set '
            f'train_cfg.pseudo_label_cache=False')


class PseudoLabelCache:
    """Raw teacher head outputs of a phase's images, looked up per batch.

    Images are keyed by ``img_path`` (any unique metainfo key works, see
    ``key``); a sample whose metainfo has ``flip=True`` gets its cached maps
    mirrored along the width, with the x channel of the normal negated.

    Args:
        tasks (Sequence[str]): The old tasks whose outputs are cached.
        input_size (tuple[int, int]): The padded input size the outputs
            belong to; a look-up for another size is refused.
        key (str): Metainfo key naming an image. Defaults to 'img_path'.
    """

    def __init__(self,
                 tasks: Sequence[str],
                 input_size: Tuple[int, int],
                 key: str = 'img_path') -> None:
        self.tasks = list(tasks)
        self.input_size = tuple(input_size)
        self.key = key
        self.index: Dict[str, int] = {}
        self._parts: Dict[str, List[Tensor]] = {t: [] for t in self.tasks}
        self.outputs: Dict[str, Tensor] = {}

    def _keys(self, data_samples: Sequence) -> List[str]:
        keys = []
        for sample in data_samples:
            value = sample.metainfo.get(self.key)
            if value is None:
                raise KeyError(f'pseudo-label cache: a data sample has no '
                               f'{self.key!r} in its metainfo')
            keys.append(value)
        return keys

    def add(self, data_samples: Sequence, raw: Dict[str, Tensor],
            input_size: Tuple[int, int]) -> None:
        """Store the raw outputs of one batch of unflipped images.

        Args:
            data_samples (Sequence[SegDataSample]): The batch's samples.
            raw (dict[str, Tensor]): ``{task: B x C x h x w}`` raw teacher
                outputs (decode resolution).
            input_size (tuple[int, int]): The batch's padded input size.
        """
        if tuple(input_size) != self.input_size:
            raise ValueError(
                f'pseudo-label cache: images of one phase must share one '
                f'input size, got {tuple(input_size)} and {self.input_size}; '
                f'add MultiTaskResize to the train pipeline')
        for key in self._keys(data_samples):
            self.index[key] = len(self.index)
        for task in self.tasks:
            self._parts[task].append(raw[task].detach().float())

    def finalize(self) -> 'PseudoLabelCache':
        """Stack the stored batches (call once, after the last ``add``).

        Returns:
            PseudoLabelCache: self.
        """
        for task in self.tasks:
            parts = self._parts.pop(task)
            if parts:
                self.outputs[task] = torch.cat(parts)
        return self

    @property
    def nbytes(self) -> int:
        """int: Bytes held by the cached outputs."""
        return sum(t.numel() * t.element_size() for t in self.outputs.values())

    def __len__(self) -> int:
        return len(self.index)

    def describe(self) -> str:
        """str: One line: images, channels, resolution and memory."""
        if not self.outputs:
            return 'pseudo-label cache: empty'
        first = next(iter(self.outputs.values()))
        channels = ', '.join(f'{t} {o.shape[1]}'
                             for t, o in self.outputs.items())
        return (f'pseudo-label cache: {len(self)} images x ({channels} '
                f'channels) at {first.shape[2]}x{first.shape[3]}, '
                f'{self.nbytes / 2**20:.1f} MiB on {first.device}')

    def lookup(self, data_samples: Sequence, tasks: Sequence[str],
               input_size: Tuple[int, int]) -> Dict[str, Tensor]:
        """Raw teacher outputs of a batch, flipped as its images are.

        Args:
            data_samples (Sequence[SegDataSample]): The batch's samples.
            tasks (Sequence[str]): Tasks to return (all cached).
            input_size (tuple[int, int]): The batch's padded input size.

        Returns:
            dict[str, Tensor]: ``{task: B x C x h x w}`` raw outputs.

        Raises:
            KeyError: For an image or task that is not cached.
            ValueError: For another input size than the cached one.
        """
        if data_samples is None:
            raise ValueError('pseudo-label cache: the look-up needs the '
                             'batch data samples')
        if tuple(input_size) != self.input_size:
            raise ValueError(f'pseudo-label cache: the batch has input size '
                             f'{tuple(input_size)}, the cache '
                             f'{self.input_size}')
        keys = self._keys(data_samples)
        try:
            rows = [self.index[k] for k in keys]
        except KeyError as err:
            raise KeyError(f'pseudo-label cache: image {err} is not in the '
                           f'phase cache') from None
        flips = [bool(s.metainfo.get('flip', False)) for s in data_samples]
        out = {}
        for task in tasks:
            if task not in self.outputs:
                raise KeyError(f'pseudo-label cache: no outputs of task '
                               f'{task!r} (cached: {list(self.outputs)})')
            cached = self.outputs[task]
            raw = cached[torch.as_tensor(rows, device=cached.device)]
            if any(flips):
                raw = _flip_rows(raw, flips, FLIP_NEGATED_CHANNEL.get(task))
            out[task] = raw
        return out


def _flip_rows(raw: Tensor, flips: List[bool],
               negate_channel: Optional[int]) -> Tensor:
    """Mirror the flagged rows of a ``B x C x h x w`` batch along ``w``.

    Args:
        raw (Tensor): The batch (a fresh tensor, changed in place).
        flips (list[bool]): Which rows to mirror.
        negate_channel (int, optional): Channel whose sign flips with the
            image (the normal's x component).

    Returns:
        Tensor: The batch.
    """
    mask = torch.as_tensor(flips, device=raw.device)
    flipped = raw[mask].flip(-1)
    if negate_channel is not None:
        flipped[:, negate_channel] = -flipped[:, negate_channel]
    raw[mask] = flipped
    return raw


@torch.no_grad()
def compute_pseudo_label_cache(teacher,
                               tasks: Sequence[str],
                               batches: Iterable[dict],
                               data_preprocessor=None,
                               key: str = 'img_path') -> PseudoLabelCache:
    """Run the teacher once over ``batches`` and cache its raw outputs.

    Args:
        teacher (HeterogeneousDensePredictor): The frozen teacher (eval
            mode is set here).
        tasks (Sequence[str]): Old tasks to cache.
        batches (Iterable[dict]): Collated batches (``inputs``,
            ``data_samples``) of unflipped images.
        data_preprocessor (nn.Module, optional): Normalises and pads a
            batch as in training. Defaults to the teacher's.
        key (str): Metainfo key naming an image. Defaults to 'img_path'.

    Returns:
        PseudoLabelCache: The finished cache.
    """
    check_cacheable_teacher(teacher)
    preprocess = data_preprocessor or teacher.data_preprocessor
    teacher.eval()
    cache = None
    for batch in batches:
        data = preprocess(batch, True)
        inputs = data['inputs']
        size = tuple(inputs.shape[2:])
        if cache is None:
            cache = PseudoLabelCache(tasks, size, key=key)
        raw = teacher.raw_head_outputs(teacher.extract_feat(inputs), tasks)
        cache.add(data['data_samples'], raw, size)
    if cache is None:
        raise ValueError('pseudo-label cache: the phase has no images')
    return cache.finalize()


def build_phase_cache(teacher,
                      tasks: Sequence[str],
                      dataset,
                      data_preprocessor=None,
                      batch_size: int = 8,
                      num_workers: int = 0) -> PseudoLabelCache:
    """The pseudo-label cache of one phase's dataset.

    Args:
        teacher (HeterogeneousDensePredictor): The frozen teacher.
        tasks (Sequence[str]): Old tasks to cache.
        dataset (BaseDataset): The phase's train dataset; its pipeline is
            checked with :func:`cacheable_pipeline` and run without flips.
        data_preprocessor (nn.Module, optional): Defaults to the
            teacher's.
        batch_size (int): Batch size of the cache pass.
        num_workers (int): Loader workers of the cache pass.

    Returns:
        PseudoLabelCache: The cache, logged with its memory.
    """
    import copy

    from mmengine.dataset import Compose
    kept, flips = cacheable_pipeline(dataset.pipeline.transforms)
    plain = copy.copy(dataset)
    plain.pipeline = Compose(kept)
    loader = DataLoader(
        plain,
        batch_size=batch_size,
        shuffle=False,
        num_workers=num_workers,
        collate_fn=pseudo_collate)
    start = time.perf_counter()
    cache = compute_pseudo_label_cache(teacher, tasks, loader,
                                       data_preprocessor)
    if flips:
        _check_flip_without_padding(plain, cache)
    print_log(
        f'{cache.describe()}, computed in '
        f'{time.perf_counter() - start:.1f} s' +
        (' (flips applied to the cached maps)' if flips else ''),
        logger='current')
    return cache


def _check_flip_without_padding(dataset, cache: PseudoLabelCache) -> None:
    """A flipped image padded on the right is not the mirror of the
    unflipped padded one: refuse width padding with flips."""
    img_w = dataset[0]['inputs'].shape[-1]
    if img_w != cache.input_size[1]:
        raise ValueError(
            f'pseudo_label_cache: images {img_w} px wide are padded to '
            f'{cache.input_size[1]} (size_divisor), so a flipped image is '
            f'not the mirror of the cached one; resize to a multiple of '
            f'the size divisor (MultiTaskResize) or drop the flip')
