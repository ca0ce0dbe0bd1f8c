"""Teacher outputs computed once per lifelong phase and reused.

In phase ``t`` the frozen teacher (eval mode: no dropout, BN with running
statistics) gives each image the same outputs at every visit, so when the
phase's train pipeline is deterministic, or random only in ways that can be
undone on the outputs, the teacher can run once over the phase's images and
the cached outputs replace its forward pass in every iteration.

Handled pipelines: loading, ``MultiTaskResize`` (a fixed size),
``PackMultiTaskInputs``, ``MultiTaskRandomFlip``, whose flip is applied to
the cached maps (mirrored along the width; the x component of a normal map
changes sign), and ``MultiTaskRandomScaleCrop`` (the NYUv2 configs' zoom):
the teacher's outputs are cached on the un-augmented image, and a sample's
crop window is cut out of the cached maps and resized back (bilinear, at
the decode resolution), with depth divided by the zoom as the transform
does for the labels, before the flip. This is approximate, since a CNN is
not scale-equivariant: :func:`build_phase_cache` measures and logs how far
the cached pseudo-labels are from the online teacher's on a few augmented
images. Any other transform (photometric distortion, ...) changes what the
teacher sees in a way the cache cannot reproduce and is refused by name.

The cache stores the raw head outputs at the heads' decode resolution (1/8
of the input for the HAD reference model), not at input size:
``N x sum_j C_j x (H/8) x (W/8)`` float32 for ``N`` images and the old
heads' channels ``C_j`` (e.g. 288x384 inputs, semantic 13 + depth 1 +
normal 3 channels: 117 KiB per image, 23 MiB for a 199-image NYUv2 chunk).
"""
import random
import time
from typing import Dict, Iterable, List, Optional, Sequence, Tuple

import numpy as np
import torch
import torch.nn.functional as F
from mmengine.dataset import pseudo_collate
from mmengine.dist import all_gather_object, get_dist_info
from mmengine.logging import print_log
from torch import Tensor
from torch.utils.data import DataLoader, Subset

from had_mm.datasets.transforms import (LoadMultiTaskAnnotations,
                                        LoadMultiTaskImage,
                                        MultiTaskRandomFlip,
                                        MultiTaskRandomScaleCrop,
                                        MultiTaskResize, PackMultiTaskInputs)
from had_mm.datasets.transforms.geometric import scale_crop_size
from had_mm.models.distill.teacher_source import TeacherRaw
from had_mm.tasks import get_task

#: Transforms whose output the teacher sees identically at every visit.
DETERMINISTIC_TRANSFORMS = (LoadMultiTaskImage, LoadMultiTaskAnnotations,
                            MultiTaskResize, PackMultiTaskInputs)
#: Random transforms the cache undoes on the outputs.
INVERTIBLE_TRANSFORMS = (MultiTaskRandomFlip, )
#: Random transforms the cache follows approximately (crop and zoom of the
#: cached maps).
FOLLOWED_TRANSFORMS = (MultiTaskRandomScaleCrop, )


def cacheable_pipeline(transforms: Sequence) -> Tuple[List, bool]:
    """The deterministic part of a train pipeline, for the cache pass.

    Args:
        transforms (Sequence): The built transforms of the phase's
            dataset (``dataset.pipeline.transforms``).

    Returns:
        tuple[list, bool]: The transforms that load and pack an image
        without any random flip or scale-crop (label loading dropped: the
        teacher only needs the image), and whether the pipeline flips
        images (then the cached maps are flipped per sample at look-up;
        scale-crops are followed per sample too, see
        :func:`pipeline_scale_crops`).

    Raises:
        ValueError: Naming the first transform the cache cannot handle.
    """
    kept, flips = [], False
    for transform in transforms:
        if isinstance(transform, INVERTIBLE_TRANSFORMS):
            flips = flips or transform.prob > 0
        elif isinstance(transform, FOLLOWED_TRANSFORMS):
            continue
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
                f', MultiTaskRandomFlip, MultiTaskRandomScaleCrop); remove '
                f'it from the pipeline or set '
                f'train_cfg.pseudo_label_cache=False')
    return kept, flips


def pipeline_scale_crops(transforms: Sequence) -> bool:
    """Whether a train pipeline zooms images at random.

    Args:
        transforms (Sequence): The built transforms.

    Returns:
        bool: True when it holds a ``MultiTaskRandomScaleCrop`` with a
        scale other than 1.
    """
    return any(
        isinstance(t, FOLLOWED_TRANSFORMS) and max(t.scales) > 1
        for t in transforms)


def check_cacheable_teacher(teacher) -> None:
    """Refuse a teacher without raw (decode-resolution) head outputs.

    Args:
        teacher (nn.Module): The phase's teacher.

    Raises:
        TypeError: When ``teacher`` lacks ``extract_feat`` /
            ``raw_head_outputs``.
    """
    missing = [
        name for name in ('extract_feat', 'raw_head_outputs')
        if not callable(getattr(teacher, name, None))
    ]
    if missing:
        raise TypeError(
            f'pseudo_label_cache needs a teacher with {missing} (a '
            f'HeterogeneousDensePredictor or a HeteroLifelongTeacher); '
            f'{type(teacher).__name__} has not: set '
            f'train_cfg.pseudo_label_cache=False')


class PseudoLabelCache:
    """Raw teacher head outputs of a phase's images, looked up per batch.

    Images are keyed by ``img_path`` (any unique metainfo key works, see
    ``key``). A sample whose metainfo has ``scale_crop=(s, y0, x0)`` with
    ``s > 1`` (``MultiTaskRandomScaleCrop``) gets that window of its cached
    maps, resized back; one with ``flip=True`` gets them mirrored along the
    width, with the x channel of the normal negated.

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
        """Raw teacher outputs of a batch, cropped, zoomed and flipped as
        its images are (depth is not rescaled here: see
        :meth:`raw_outputs`).

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
        crops = _zoomed_crops(data_samples)
        out = {}
        for task in tasks:
            if task not in self.outputs:
                raise KeyError(f'pseudo-label cache: no outputs of task '
                               f'{task!r} (cached: {list(self.outputs)})')
            cached = self.outputs[task]
            raw = cached[torch.as_tensor(rows, device=cached.device)]
            if crops:
                raw = _zoom_rows(raw, crops, self.input_size)
            if any(flips):
                # e.g. the x channel of a normal, from the task table
                raw = _flip_rows(raw, flips,
                                 get_task(task).flip_negate_channel)
            out[task] = raw
        return out

    def raw_outputs(self, inputs: Tensor, data_samples: Sequence,
                    tasks: Sequence[str]) -> TeacherRaw:
        """The teacher's raw outputs of a batch, from the cache (a teacher
        source, :mod:`~had_mm.models.distill.teacher_source`).

        :meth:`lookup`, and per sample the zoom of its scale-crop: the
        student's heads divide the depth of a zoomed sample by it, as the
        transform does for the depth labels.

        Args:
            inputs (Tensor): The batch's images (only their padded size is
                read).
            data_samples (Sequence[SegDataSample]): The batch's samples.
            tasks (Sequence[str]): Tasks to return.

        Returns:
            TeacherRaw: ``{task: B x C x h x w}`` raw outputs and the zoom
            (None when no sample is zoomed).
        """
        size = tuple(inputs.shape[2:])
        raw = self.lookup(data_samples, tasks, size)
        crops = _zoomed_crops(data_samples)
        if not crops:
            return TeacherRaw(raw)
        first = next(iter(raw.values()))
        zoom = first.new_ones(len(data_samples))
        for i, (s, _, _) in crops.items():
            zoom[i] = s
        return TeacherRaw(raw, zoom)


def _zoomed_crops(data_samples: Sequence) -> Dict[int, Tuple[float, int, int]]:
    """``{row: (s, y0, x0)}`` of the samples a scale-crop zoomed in."""
    crops = {}
    for i, sample in enumerate(data_samples):
        crop = sample.metainfo.get('scale_crop')
        if crop is not None and float(crop[0]) != 1.0:
            crops[i] = (float(crop[0]), int(crop[1]), int(crop[2]))
    return crops


def _zoom_rows(raw: Tensor, crops: Dict[int, Tuple[float, int, int]],
               image_size: Tuple[int, int]) -> Tensor:
    """Cut each zoomed row's crop window out of its map and resize it back.

    The window ``[y0, y0 + h/s) x [x0, x0 + w/s)`` of the ``h x w`` image
    (in input pixels, :func:`scale_crop_size`) is resampled bilinearly at
    the map's own (decode) resolution, pixel centres as the transform's
    resize; an affine grid per row does all rows in one call.

    Args:
        raw (Tensor): ``B x C x h' x w'`` maps of un-augmented images.
        crops (dict[int, tuple]): ``{row: (s, y0, x0)}``, s > 1.
        image_size (tuple[int, int]): The image size the crops are in.

    Returns:
        Tensor: ``raw`` with the zoomed rows replaced.
    """
    height, width = image_size
    rows = sorted(crops)
    theta = raw.new_zeros(len(rows), 2, 3)
    for k, i in enumerate(rows):
        s, y0, x0 = crops[i]
        ch, cw = scale_crop_size(height, width, s)
        # normalised output coords [-1, 1] -> the window, in the source's
        theta[k, 0, 0] = cw / width
        theta[k, 0, 2] = (2 * x0 + cw) / width - 1
        theta[k, 1, 1] = ch / height
        theta[k, 1, 2] = (2 * y0 + ch) / height - 1
    index = torch.as_tensor(rows, device=raw.device)
    src = raw[index]
    grid = F.affine_grid(theta, list(src.shape), align_corners=False)
    raw = raw.clone()
    raw[index] = F.grid_sample(
        src, grid, mode='bilinear', padding_mode='border', align_corners=False)
    return raw


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
        raw = teacher.raw_head_outputs(
            teacher.extract_feat(inputs), tasks, input_size=size)
        cache.add(data['data_samples'], raw, size)
    if cache is None:
        raise ValueError('pseudo-label cache: the phase has no images')
    return cache.finalize()


def build_phase_cache(teacher,
                      tasks: Sequence[str],
                      dataset,
                      data_preprocessor=None,
                      batch_size: int = 8,
                      num_workers: int = 0,
                      student=None) -> PseudoLabelCache:
    """The pseudo-label cache of one phase's dataset.

    Args:
        teacher (HeterogeneousDensePredictor | HeteroLifelongTeacher): The
            frozen teacher.
        tasks (Sequence[str]): Old tasks to cache.
        dataset (BaseDataset): The phase's train dataset; its pipeline is
            checked with :func:`cacheable_pipeline` and run without flips
            and scale-crops.
        data_preprocessor (nn.Module, optional): Defaults to the
            teacher's.
        batch_size (int): Batch size of the cache pass.
        num_workers (int): Loader workers of the cache pass.
        student (nn.Module, optional): The model whose heads post-process
            the raw outputs when the cache error is measured (a
            HeteroLifelongTeacher has no heads of its own). Defaults to
            the teacher.

    Returns:
        PseudoLabelCache: The cache, logged with its memory (and, when the
        pipeline zooms, with its distance to the online teacher). Under
        DDP each rank runs the teacher on every ``world_size``-th image
        only and the shards are gathered, so every rank holds the same,
        whole cache.
    """
    import copy

    from mmengine.dataset import Compose
    kept, flips = cacheable_pipeline(dataset.pipeline.transforms)
    zooms = pipeline_scale_crops(dataset.pipeline.transforms)
    plain = copy.copy(dataset)
    plain.pipeline = Compose(kept)
    # under DDP each rank runs the teacher on its shard only, and the
    # shards are then shared: the sampler may give a rank any image
    rank, world_size = get_dist_info()
    shard = plain if world_size == 1 else Subset(
        plain, range(rank, len(plain), world_size))
    loader = DataLoader(
        shard,
        batch_size=batch_size,
        shuffle=False,
        num_workers=num_workers,
        collate_fn=pseudo_collate)
    start = time.perf_counter()
    cache = compute_pseudo_label_cache(
        teacher, tasks, loader, data_preprocessor) if len(shard) else None
    if world_size > 1:
        cache = share_cache_shards(cache, tasks, _device_of(teacher))
    if flips or zooms:
        _check_no_padding(plain, cache, flips, zooms)
    followed = [
        name for name, on in (('flips', flips), ('scale-crops', zooms)) if on
    ]
    print_log(
        f'{cache.describe()}, computed in '
        f'{time.perf_counter() - start:.1f} s' +
        (f' (this rank ran the teacher on {len(shard)} of them)'
         if world_size > 1 else '') +
        (f' ({" and ".join(followed)} applied to the cached maps)'
         if followed else ''),
        logger='current')
    if zooms:
        errors = measure_cache_error(
            teacher,
            tasks,
            dataset,
            cache,
            data_preprocessor,
            batch_size,
            student=student)
        print_log(format_cache_error(errors), logger='current')
    return cache


def _device_of(module) -> torch.device:
    param = next(module.parameters(), None)
    return param.device if param is not None else torch.device('cpu')


def share_cache_shards(cache: Optional[PseudoLabelCache],
                       tasks: Sequence[str],
                       device: torch.device,
                       key: str = 'img_path') -> PseudoLabelCache:
    """Give every rank the whole cache from each rank's shard of it.

    Args:
        cache (PseudoLabelCache | None): This rank's shard (None when the
            rank had no image).
        tasks (Sequence[str]): The cached tasks.
        device (torch.device): Where this rank keeps the outputs.
        key (str): Metainfo key naming an image. Defaults to 'img_path'.

    Returns:
        PseudoLabelCache: The cache of all ranks' images, the same on
        every rank.

    Raises:
        ValueError: If the shards have different input sizes or no rank
            had an image.
    """
    local = None
    if cache is not None:
        keys = sorted(cache.index, key=cache.index.get)
        # CPU tensors: a pickled CUDA tensor would land on the sender's GPU
        local = (cache.input_size, keys, {
            t: o.cpu()
            for t, o in cache.outputs.items()
        })
    shards = [s for s in all_gather_object(local) if s is not None]
    if not shards:
        raise ValueError('pseudo-label cache: the phase has no images')
    full = PseudoLabelCache(tasks, shards[0][0], key=key)
    for size, keys, outputs in shards:
        if tuple(size) != full.input_size:
            raise ValueError(
                f'pseudo-label cache: images of one phase must share one '
                f'input size, got {tuple(size)} and {full.input_size}; add '
                f'MultiTaskResize to the train pipeline')
        for key in keys:
            full.index[key] = len(full.index)
        for task in tasks:
            full._parts[task].append(outputs[task].to(device))
    return full.finalize()


def _check_no_padding(dataset, cache: PseudoLabelCache, flips: bool,
                      zooms: bool) -> None:
    """A flipped (or zoomed) padded image is not the mirror (zoom) of the
    cached padded one: refuse padding with flips and scale-crops."""
    img_h, img_w = dataset[0]['inputs'].shape[-2:]
    pad_h, pad_w = cache.input_size
    if flips and img_w != pad_w:
        raise ValueError(
            f'pseudo_label_cache: images {img_w} px wide are padded to '
            f'{pad_w} (size_divisor), so a flipped image is not the mirror '
            f'of the cached one; resize to a multiple of the size divisor '
            f'(MultiTaskResize) or drop the flip')
    if zooms and (img_h, img_w) != (pad_h, pad_w):
        raise ValueError(
            f'pseudo_label_cache: {img_h}x{img_w} images are padded to '
            f'{pad_h}x{pad_w} (size_divisor), so a scale-crop of an image '
            f'is not the zoom of the cached maps; resize to a multiple of '
            f'the size divisor (MultiTaskResize) or drop the scale-crop')


@torch.no_grad()
def measure_cache_error(teacher,
                        tasks: Sequence[str],
                        dataset,
                        cache: PseudoLabelCache,
                        data_preprocessor=None,
                        batch_size: int = 8,
                        num_images: int = 16,
                        seed: int = 0,
                        student=None) -> Dict[str, float]:
    """How far the cached pseudo-labels are from the online teacher's.

    Runs the phase's full train pipeline (random scale-crops and flips,
    drawn from ``seed``; the global random states are restored after) over
    the first ``num_images`` images, and compares the teacher on the
    augmented images with :meth:`PseudoLabelCache.teacher_outputs`.

    Args:
        teacher (nn.Module): The teacher the cache was computed with.
        tasks (Sequence[str]): The cached tasks.
        dataset (BaseDataset): The phase's dataset (full pipeline).
        cache (PseudoLabelCache): The cache.
        data_preprocessor (nn.Module, optional): Defaults to the
            teacher's.
        batch_size (int): Images per teacher pass. Defaults to 8.
        num_images (int): Images compared. Defaults to 16.
        seed (int): Seed of the augmentations. Defaults to 0.
        student (nn.Module, optional): The model whose heads post-process
            the raw outputs. Defaults to the teacher.

    Returns:
        dict[str, float]: ``images`` and ``zoomed`` (counts), and per task:
        ``semantic`` / ``saliency`` pixel agreement (fraction of pixels
        with the same pseudo-label), ``depth`` mean absolute error (m),
        ``normal`` mean angle (degrees).
    """
    preprocess = data_preprocessor or teacher.data_preprocessor
    post = teacher if student is None else student
    if not callable(getattr(post, 'outputs_from_raw', None)):
        raise TypeError(f'measuring the pseudo-label cache of a '
                        f'{type(teacher).__name__} needs the student '
                        f'(student=model) to post-process its outputs')
    states = random.getstate(), np.random.get_state(), torch.get_rng_state()
    random.seed(seed)
    np.random.seed(seed)
    try:
        items = [dataset[i] for i in range(min(num_images, len(dataset)))]
    finally:
        random.setstate(states[0])
        np.random.set_state(states[1])
        torch.set_rng_state(states[2])
    sums = {task: 0.0 for task in tasks}
    zoomed, pixels = 0, 0
    for start in range(0, len(items), batch_size):
        data = preprocess(
            pseudo_collate(items[start:start + batch_size]), True)
        inputs, samples = data['inputs'], data['data_samples']
        size = tuple(inputs.shape[2:])
        raw = teacher.raw_head_outputs(
            teacher.extract_feat(inputs), tasks, size)
        online = post.outputs_from_raw(raw, tasks, size)
        from_cache = cache.raw_outputs(inputs, samples, tasks)
        cached = post.outputs_from_raw(from_cache.raw, tasks, size,
                                       from_cache.zoom)
        zoomed += len(_zoomed_crops(samples))
        pixels += inputs.shape[0] * size[0] * size[1]
        for task in tasks:
            sums[task] += float(
                _pixel_error(task, online[task], cached[task]).sum())
    errors = {task: sums[task] / pixels for task in tasks}
    errors.update(images=len(items), zoomed=zoomed)
    return errors


def _pixel_error(task: str, online: Tensor, cached: Tensor) -> Tensor:
    """Per-pixel agreement (semantic, saliency) or error (depth: m;
    normal: degrees) of two ``B x C x H x W`` outputs."""
    online, cached = online.float(), cached.float()
    kind = get_task(task).distill_kind
    if kind == 'classification':
        return (online.argmax(1) == cached.argmax(1)).float()
    if kind == 'binary':
        return ((online > 0) == (cached > 0)).float()
    if kind == 'regression':
        return (online - cached).abs()
    cos = (online * cached).sum(1).clamp(-1.0, 1.0)
    return torch.rad2deg(torch.arccos(cos))


def format_cache_error(errors: Dict[str, float]) -> str:
    """One log line of :func:`measure_cache_error`'s figures."""
    parts = []
    for task, value in errors.items():
        if task in ('images', 'zoomed'):
            continue
        kind = get_task(task).distill_kind
        if kind in ('classification', 'binary'):
            parts.append(f'{task} agreement {100 * value:.1f} %')
        elif kind == 'regression':
            parts.append(f'{task} abs error {value:.3f} m')
        elif kind == 'normal':
            parts.append(f'{task} angle {value:.2f} deg')
    return (f'pseudo-label cache vs online teacher under scale-crop '
            f'({errors["images"]} augmented images, {errors["zoomed"]} '
            f'zoomed): ' + ', '.join(parts))
