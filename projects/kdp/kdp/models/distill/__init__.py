from .base_distill import BaseDistill, soft_kl
from .dist_token_kd import DistTokenKD
from .kdp_distill import KDPDistill
from .logit_kd import LogitKD

__all__ = ['BaseDistill', 'DistTokenKD', 'KDPDistill', 'LogitKD', 'soft_kl']
