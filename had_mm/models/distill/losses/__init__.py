"""Cross-architecture distillation losses (registered in ``MODELS``)."""
from .base_paired_map_loss import BasePairedMapLoss
from .cwd_loss import ChannelWiseDivergenceLoss
from .heteroakd_loss import HeteroAKDLoss
from .kem import KEM
from .kmm import KMM
from .logit_kd_loss import LogitKDLoss
from .utils import kl_div_map, pixel_reliability

__all__ = [
    'BasePairedMapLoss', 'ChannelWiseDivergenceLoss', 'HeteroAKDLoss', 'KEM',
    'KMM', 'LogitKDLoss', 'kl_div_map', 'pixel_reliability'
]
