"""had_mm models: backbones, predictors, heads, losses and distillers."""
from .backbones import *  # noqa: F401,F403
from .data_preprocessors import *  # noqa: F401,F403
from .distill import *  # noqa: F401,F403
from .heads import *  # noqa: F401,F403
from .losses import *  # noqa: F401,F403
from .predictors import *  # noqa: F401,F403
