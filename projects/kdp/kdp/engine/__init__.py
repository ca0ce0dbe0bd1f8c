"""KDP engine: the continual distillation loop."""
from .continual_distill_loop import ContinualDistillLoop

__all__ = ['ContinualDistillLoop']
