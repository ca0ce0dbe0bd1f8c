"""KDP: continual distillation with prompts on mmpretrain ViTs.

Import it as ``projects.kdp.kdp`` with the repository root on
``PYTHONPATH`` (``custom_imports`` in the configs): every module registers
itself in had_mm's registries (scope ``had_mm``).
"""
from . import datasets, engine, evaluation, models  # noqa: F401
from .datasets import *  # noqa: F401,F403
from .engine import *  # noqa: F401,F403
from .evaluation import *  # noqa: F401,F403
from .models import *  # noqa: F401,F403
