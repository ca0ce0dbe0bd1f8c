from .config_check import find_unknown_types
from .dist_env import check_launcher_env, prepare_distributed
from .set_env import register_all_modules

__all__ = [
    'check_launcher_env', 'find_unknown_types', 'prepare_distributed',
    'register_all_modules'
]
