from .dkd_loss import DKDLoss
from .hcl_loss import HCLLoss
from .hint_loss import HintLoss

__all__ = ['DKDLoss', 'HCLLoss', 'HintLoss']
