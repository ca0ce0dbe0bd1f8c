import pytest


@pytest.fixture(scope='session')
def synthetic_rooms_root(tmp_path_factory) -> str:
    """A small synthetic-rooms set on disk (toolkit layout), made once."""
    from had_mm.datasets.synthetic_rooms import generate_synthetic_rooms
    root = str(tmp_path_factory.mktemp('synthetic_rooms'))
    generate_synthetic_rooms(root, num=32, size=(32, 40), seed=0)
    return root
