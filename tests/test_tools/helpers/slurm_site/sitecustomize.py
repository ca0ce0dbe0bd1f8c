"""Loaded at interpreter start-up when this folder is on PYTHONPATH.

With ``HAD_MM_FAKE_SLURM_INIT=FILE`` it pretends to be a GPU machine and
replaces mmengine's Slurm initialisation by a recorder: the first call
writes its backend and the Slurm variables it reads to FILE (JSON) and ends
the process with status 0. So a test sees whether ``--launcher slurm``
reaches mmengine's ``_init_dist_slurm``, without a cluster or a GPU.
"""
import os

if os.environ.get('HAD_MM_FAKE_SLURM_INIT'):
    import json

    import mmengine.dist.utils as dist_utils
    import torch

    torch.cuda.is_available = lambda: True
    # mmengine's logger names the GPU of the process from this list
    os.environ.setdefault('CUDA_VISIBLE_DEVICES', '0')

    def _record_slurm_init(backend, port=None, init_backend='torch', **kw):
        keys = ('SLURM_PROCID', 'SLURM_NTASKS', 'SLURM_NODELIST')
        with open(os.environ['HAD_MM_FAKE_SLURM_INIT'], 'w') as f:
            json.dump(
                dict(backend=backend, **{k: os.environ[k]
                                         for k in keys}), f)
        os._exit(0)

    dist_utils._init_dist_slurm = _record_slurm_init
