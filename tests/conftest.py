import os

import pytest


def pytest_configure(config) -> None:
    """Under pytest-xdist, give each worker its share of the cores, so N
    workers do not each start a thread per core (and so do the tools they
    run in subprocesses, through OMP_NUM_THREADS)."""
    workers = os.environ.get('PYTEST_XDIST_WORKER_COUNT')
    if not workers or 'OMP_NUM_THREADS' in os.environ:
        return
    threads = max(1, (os.cpu_count() or 1) // int(workers))
    os.environ['OMP_NUM_THREADS'] = str(threads)
    import torch
    torch.set_num_threads(threads)


@pytest.fixture(scope='session')
def synthetic_rooms_root(tmp_path_factory) -> str:
    """A small synthetic-rooms set on disk (toolkit layout), made once."""
    from had_mm.datasets.synthetic_rooms import generate_synthetic_rooms
    root = str(tmp_path_factory.mktemp('synthetic_rooms'))
    generate_synthetic_rooms(root, num=32, size=(32, 40), seed=0)
    return root
