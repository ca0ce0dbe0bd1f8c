from .base_prompt_pool import BasePromptPool
from .coda_prompt import CODAPrompt
from .dual_prompt import DualPrompt
from .kdp_prompt import KDPPrompt
from .l2p_prompt import L2PPrompt

__all__ = [
    'BasePromptPool', 'CODAPrompt', 'DualPrompt', 'KDPPrompt', 'L2PPrompt'
]
