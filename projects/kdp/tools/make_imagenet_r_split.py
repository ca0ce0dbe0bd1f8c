"""Write ImageNet-R ``train.txt`` / ``test.txt`` split lists.

ImageNet-R ships without a train/test split; prompt-based continual
learning papers (DualPrompt, CODA-Prompt, KDP) use a random 80 / 20 split.
This tool draws one per class from a seed and writes one
``<wnid>/<image>`` line per image, the format :class:`ImageNetR` reads::

    PYTHONPATH=. python projects/kdp/tools/make_imagenet_r_split.py \
        data/imagenet-r [--train-ratio 0.8] [--seed 0]

expects ``data/imagenet-r/imagenet-r/<wnid>/*.jpg`` (the extracted
``imagenet-r.tar``) and writes ``data/imagenet-r/{train,test}.txt``.
"""
import argparse
import os
import os.path as osp
import sys
from typing import Dict, List

import numpy as np

IMAGE_EXTS = ('.jpg', '.jpeg', '.png', '.bmp', '.webp')


def make_split(img_root: str, train_ratio: float,
               seed: int) -> Dict[str, List[str]]:
    """Split the images of every class folder.

    Args:
        img_root (str): The folder of class folders.
        train_ratio (float): Fraction of each class for training.
        seed (int): Seed of the split.

    Returns:
        dict[str, list[str]]: ``train`` and ``test`` relative paths.
    """
    rng = np.random.RandomState(seed)
    out = dict(train=[], test=[])
    classes = sorted(
        d for d in os.listdir(img_root) if osp.isdir(osp.join(img_root, d)))
    if not classes:
        raise FileNotFoundError(f'"{img_root}" has no class folders')
    for wnid in classes:
        files = sorted(
            f for f in os.listdir(osp.join(img_root, wnid))
            if f.lower().endswith(IMAGE_EXTS))
        order = rng.permutation(len(files))
        n_train = int(round(train_ratio * len(files)))
        for rank, i in enumerate(order):
            key = 'train' if rank < n_train else 'test'
            out[key].append(f'{wnid}/{files[i]}')
    return {k: sorted(v) for k, v in out.items()}


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('data_root')
    parser.add_argument('--img-dir', default='imagenet-r')
    parser.add_argument('--train-ratio', type=float, default=0.8)
    parser.add_argument('--seed', type=int, default=0)
    args = parser.parse_args(argv)
    img_root = osp.join(args.data_root, args.img_dir)
    if not osp.isdir(img_root):
        sys.exit(f'error: "{img_root}" does not exist; extract '
                 f'imagenet-r.tar into {args.data_root}')
    split = make_split(img_root, args.train_ratio, args.seed)
    for name, lines in split.items():
        path = osp.join(args.data_root, f'{name}.txt')
        with open(path, 'w') as f:
            f.write('\n'.join(lines) + '\n')
        print(f'{path}: {len(lines)} images')


if __name__ == '__main__':
    main()
