"""A procedural class-incremental image data set for demos and tests.

Each class is one combination of a foreground shape (8), a foreground hue
(8) and a background texture (6): 384 possible classes. A fixed shuffle of
the combinations (independent of any seed) lists them; a data set takes
``num_classes`` consecutive entries from ``class_offset``, so two data sets
with disjoint ranges (e.g. offset 0 for the continual classes and 200 for
pre-training) share no class but share the visual vocabulary, the way
ImageNet pre-training shares it with CIFAR-100.

Every image is drawn with random jitter: position, size, hue, saturation,
brightness, background grey level, texture frequency and phase, and
pixel noise. Everything is deterministic from ``seed`` and ``split``; the
images are generated in memory (about 3,000 32x32 images a second).
"""
import colorsys
import itertools
from typing import List, Optional, Sequence, Tuple

import numpy as np

from had_mm.registry import DATASETS
from .class_incremental_dataset import ClassIncrementalDataset

SHAPES = ('circle', 'square', 'diamond', 'ring', 'cross', 'triangle', 'hbar',
          'vbar')
HUES = tuple(i / 8 for i in range(8))
HUE_NAMES = ('red', 'orange', 'green', 'teal', 'cyan', 'blue', 'purple',
             'pink')
TEXTURES = ('plain', 'hstripes', 'vstripes', 'checker', 'diagonal', 'dots')
_COMBOS = list(
    itertools.product(
        range(len(SHAPES)), range(len(HUES)), range(len(TEXTURES))))
np.random.RandomState(20240718).shuffle(_COMBOS)
NUM_COMBINATIONS = len(_COMBOS)
SPLIT_SEEDS = dict(train=0, test=1, val=2)


def procedural_classes(num_classes: int,
                       class_offset: int = 0) -> List[Tuple[int, int, int]]:
    """The (shape, hue, texture) index triples of a class range.

    Args:
        num_classes (int): Number of classes.
        class_offset (int): First entry of the fixed class list.

    Returns:
        list[tuple[int, int, int]]: One triple per class.

    Raises:
        ValueError: If the range exceeds the 384 combinations.
    """
    if num_classes < 1 or class_offset < 0 or \
            class_offset + num_classes > NUM_COMBINATIONS:
        raise ValueError(f'classes [{class_offset}, '
                         f'{class_offset + num_classes}) are out of the '
                         f'{NUM_COMBINATIONS} procedural classes')
    return [
        tuple(int(v) for v in c)
        for c in _COMBOS[class_offset:class_offset + num_classes]
    ]


def class_name(combo: Sequence[int]) -> str:
    """Readable name of a class, e.g. ``'red_circle_on_checker'``."""
    shape, hue, texture = combo
    return f'{HUE_NAMES[hue]}_{SHAPES[shape]}_on_{TEXTURES[texture]}'


def _shape_mask(shape: int, x: np.ndarray, y: np.ndarray,
                s: float) -> np.ndarray:
    """Boolean mask of a shape of half-size ``s`` centred at the origin."""
    ax, ay = np.abs(x), np.abs(y)
    name = SHAPES[shape]
    if name == 'circle':
        return x * x + y * y < s * s
    if name == 'square':
        return np.maximum(ax, ay) < s * 0.85
    if name == 'diamond':
        return ax + ay < s * 1.15
    if name == 'ring':
        r2 = x * x + y * y
        return (r2 < s * s) & (r2 > (0.55 * s)**2)
    if name == 'cross':
        w = s * 0.33
        return ((ax < w) & (ay < s)) | ((ay < w) & (ax < s))
    if name == 'triangle':
        return (y < s * 0.8) & (y > -s) & (ax < (y + s) * 0.6)
    if name == 'hbar':
        return (ay < s * 0.35) & (ax < s * 1.1)
    return (ax < s * 0.35) & (ay < s * 1.1)  # vbar


def _texture(texture: int, x: np.ndarray, y: np.ndarray, freq: float,
             phase: float) -> np.ndarray:
    """Texture pattern in [0, 1] over the grid (pixel coordinates)."""
    name = TEXTURES[texture]
    if name == 'plain':
        return np.full_like(x, 0.5)
    if name == 'hstripes':
        return (np.sin(y * freq + phase) > 0).astype(np.float32)
    if name == 'vstripes':
        return (np.sin(x * freq + phase) > 0).astype(np.float32)
    if name == 'checker':
        return ((np.sin(x * freq + phase) > 0) ^
                (np.sin(y * freq + phase) > 0)).astype(np.float32)
    if name == 'diagonal':
        return (np.sin((x + y) * freq * 0.7 + phase) > 0).astype(np.float32)
    # dots
    return ((np.sin(x * freq + phase) > 0.5) &
            (np.sin(y * freq + phase) > 0.5)).astype(np.float32)


def render_image(combo: Sequence[int],
                 rng: np.random.RandomState,
                 size: int = 32) -> np.ndarray:
    """Draw one image of a class with random jitter.

    Args:
        combo (Sequence[int]): (shape, hue, texture) indices.
        rng (np.random.RandomState): Source of the jitter.
        size (int): Image side. Defaults to 32.

    Returns:
        np.ndarray: A ``size x size x 3`` uint8 RGB image.
    """
    shape, hue, texture = combo
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32)
    # background: random grey level times the class texture
    grey = rng.uniform(0.25, 0.65)
    tint = rng.uniform(-0.05, 0.05, size=3)
    freq = rng.uniform(0.7, 1.1) * 16.0 / size * np.pi / 2
    pattern = _texture(texture, xx, yy, freq, rng.uniform(0, 2 * np.pi))
    bg = (grey * (0.55 + 0.9 * (pattern[..., None] - 0.5)) + tint)
    # foreground: the class shape in the class hue
    s = size * rng.uniform(0.22, 0.34)
    cx = size / 2 + rng.uniform(-0.15, 0.15) * size
    cy = size / 2 + rng.uniform(-0.15, 0.15) * size
    mask = _shape_mask(shape, xx - cx, yy - cy, s)
    h = (HUES[hue] + rng.uniform(-0.03, 0.03)) % 1.0
    rgb = colorsys.hsv_to_rgb(h, rng.uniform(0.65, 1.0), rng.uniform(0.7, 1.0))
    img = np.where(mask[..., None], np.asarray(rgb, np.float32), bg)
    img = img + rng.normal(0, 0.04, size=img.shape)
    return (np.clip(img, 0, 1) * 255).astype(np.uint8)


def generate_procedural(
        num_classes: int = 20,
        num_per_class: int = 100,
        size: int = 32,
        seed: int = 0,
        split: str = 'train',
        class_offset: int = 0) -> Tuple[np.ndarray, np.ndarray, List[str]]:
    """Generate a procedural split in memory.

    Args:
        num_classes (int): Number of classes. Defaults to 20.
        num_per_class (int): Images per class. Defaults to 100.
        size (int): Image side. Defaults to 32.
        seed (int): Seed of the images (not of the classes). Defaults to 0.
        split (str): ``'train'``, ``'val'`` or ``'test'``: each draws other
            images from the same classes. Defaults to ``'train'``.
        class_offset (int): First class of the fixed class list. Defaults
            to 0.

    Returns:
        tuple[np.ndarray, np.ndarray, list[str]]: Images ``(N, size, size,
        3)`` uint8, class indices ``(N,)`` (class-major order) and class
        names.
    """
    if split not in SPLIT_SEEDS:
        raise ValueError(f'split must be one of {tuple(SPLIT_SEEDS)}, got '
                         f'{split!r}')
    combos = procedural_classes(num_classes, class_offset)
    images = np.empty((num_classes * num_per_class, size, size, 3), np.uint8)
    labels = np.repeat(np.arange(num_classes), num_per_class)
    for c, combo in enumerate(combos):
        rng = np.random.RandomState(
            (int(seed) * 7919 + SPLIT_SEEDS[split] * 104729 +
             (class_offset + c) * 31) % (2**31))
        for i in range(num_per_class):
            images[c * num_per_class + i] = render_image(combo, rng, size)
    return images, labels, [class_name(c) for c in combos]


@DATASETS.register_module()
class ProceduralShapes(ClassIncrementalDataset):
    """Procedural class-incremental data: coloured shapes on textures.

    ``num_classes`` classes (shape x hue x texture combinations, see
    :func:`generate_procedural`) of ``size x size`` RGB images, generated
    in memory and split into ``num_tasks`` tasks. Pipelines start with the
    image already loaded (no ``LoadImageFromFile``).

    Args:
        split (str): ``'train'``, ``'val'`` or ``'test'``. Defaults to
            ``'train'``.
        num_classes (int): Number of classes. Defaults to 20.
        num_per_class (int): Images per class in this split. Defaults to
            100.
        size (int): Image side. Defaults to 32.
        seed (int): Seed of the images. Defaults to 0.
        class_offset (int): First class of the fixed list (0: the continual
            classes; the pre-training tool uses a disjoint range). Defaults
            to 0.
        num_tasks (int): Number of tasks. Defaults to 5.
        class_order (Sequence[int], optional): Explicit class order.
        class_order_seed (int, optional): Seed of the class order.
        tasks (int | Sequence[int], optional): Tasks to keep.
        **kwargs: Other :class:`ClassIncrementalDataset` arguments.
    """

    def __init__(self,
                 split: str = 'train',
                 num_classes: int = 20,
                 num_per_class: int = 100,
                 size: int = 32,
                 seed: int = 0,
                 class_offset: int = 0,
                 num_tasks: int = 5,
                 class_order: Optional[Sequence[int]] = None,
                 class_order_seed: Optional[int] = None,
                 tasks=None,
                 **kwargs) -> None:
        if split not in SPLIT_SEEDS:
            raise ValueError(f'split must be one of {tuple(SPLIT_SEEDS)}, '
                             f'got {split!r}')
        self.split = split
        self._num_classes = int(num_classes)
        self.num_per_class = int(num_per_class)
        self.size = int(size)
        self.seed = int(seed)
        self.class_offset = int(class_offset)
        super().__init__(
            num_tasks=num_tasks,
            class_order=class_order,
            class_order_seed=class_order_seed,
            tasks=tasks,
            **kwargs)

    def class_names(self) -> Sequence[str]:
        """Names of the classes, e.g. ``'red_circle_on_checker'``.

        Returns:
            Sequence[str]: The names.
        """
        return [
            class_name(c)
            for c in procedural_classes(self._num_classes, self.class_offset)
        ]

    def load_samples(self) -> Tuple[List[dict], np.ndarray]:
        """Generate the images of the selected tasks' classes.

        Returns:
            tuple[list[dict], np.ndarray]: ``img`` dicts and class indices.
        """
        k = self.classes_per_task
        wanted = sorted(c for t in self.tasks
                        for c in self.class_order[t * k:(t + 1) * k])
        samples, labels = [], []
        shape = (self.size, self.size)
        # classes are generated one by one, so only the wanted ones are
        # drawn; each class's images depend on its index only
        for c in wanted:
            images, _, _ = generate_procedural(
                1,
                self.num_per_class,
                self.size,
                self.seed,
                self.split,
                class_offset=self.class_offset + c)
            for img in images:
                samples.append(dict(img=img, img_shape=shape, ori_shape=shape))
                labels.append(c)
        return samples, np.asarray(labels, dtype=np.int64)
