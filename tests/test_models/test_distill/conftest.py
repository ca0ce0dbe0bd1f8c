"""Fixtures of the distillation tests: tiny configs, a teacher checkpoint."""
import pytest
import torch
from distill_helpers import TINY_DISTILL, TINY_SEG, TINY_TEACHER, build
from mmengine.config import Config
from mmengine.registry import init_default_scope


@pytest.fixture(autouse=True)
def _had_mm_scope():
    import had_mm  # noqa: F401
    init_default_scope('had_mm')


@pytest.fixture
def student_cfg():
    """The tiny ResNet-18 (8 base channels, GN) + FCN segmentor config."""
    return Config.fromfile(TINY_SEG).model


@pytest.fixture
def teacher_model_cfg():
    """The tiny MiT + SegformerHead segmentor config."""
    return Config.fromfile(TINY_TEACHER).model


@pytest.fixture(scope='session')
def teacher_ckpt(tmp_path_factory) -> str:
    """A checkpoint of the tiny teacher (random init), made once."""
    import had_mm  # noqa: F401
    init_default_scope('had_mm')
    torch.manual_seed(0)
    teacher = build(Config.fromfile(TINY_TEACHER).model)
    path = str(tmp_path_factory.mktemp('teacher') / 'teacher.pth')
    torch.save({'state_dict': teacher.state_dict(), 'meta': {}}, path)
    return path


@pytest.fixture
def distill_cfg(teacher_ckpt):
    """The tiny HeteroAKD distiller config with the teacher checkpoint."""
    cfg = Config.fromfile(TINY_DISTILL).model
    cfg.teacher_ckpt = teacher_ckpt
    return cfg
