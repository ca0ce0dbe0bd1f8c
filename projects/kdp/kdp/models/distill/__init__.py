from .base_distill import BaseDistill, soft_kl
from .base_feature_distill import BaseFeatureDistill
from .dist_token_kd import DistTokenKD
from .distill_inputs import DistillInputs
from .dkd_distill import DKDDistill
from .fitnets_distill import FitNetsDistill
from .kdp_capacity_control import KDPCapacityControl
from .kdp_distill import KDPDistill
from .logit_kd import LogitKD
from .review_kd_distill import AttentionFusion, ReviewKDDistill, tokens_to_map

__all__ = [
    'AttentionFusion', 'BaseDistill', 'BaseFeatureDistill', 'DistillInputs',
    'DKDDistill', 'DistTokenKD', 'FitNetsDistill', 'KDPCapacityControl',
    'KDPDistill', 'LogitKD', 'ReviewKDDistill', 'soft_kl', 'tokens_to_map'
]
