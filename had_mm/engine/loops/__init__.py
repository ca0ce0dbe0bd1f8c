from .lifelong_train_loop import LifelongTrainLoop

__all__ = ['LifelongTrainLoop']
