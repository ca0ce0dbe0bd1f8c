from .lifelong_train_loop import LifelongTrainLoop
from .phased_train_loop import PhasedTrainLoop

__all__ = ['LifelongTrainLoop', 'PhasedTrainLoop']
