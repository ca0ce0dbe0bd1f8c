"""What the inference tests share: the tiny lifelong config and its data."""
import os.path as osp

from tool_runner import REPO

TINY_LIFELONG = osp.join(REPO, 'tests', 'data', 'configs', 'tiny_lifelong.py')


def data_root_options(data_root: str) -> list:
    """``--cfg-options`` pointing every dataloader at ``data_root``."""
    return [
        f'{split}_dataloader.dataset.data_root={data_root}'
        for split in ('train', 'val', 'test')
    ]
