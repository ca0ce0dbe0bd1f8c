from .config_check import (check_config, check_train_cfg, find_unknown_types,
                           unknown_kwargs)
from .dist_env import (check_gpus_usable, check_launcher_env,
                       prepare_distributed, run_on_rank0)
from .set_env import register_all_modules

__all__ = [
    'check_config', 'check_gpus_usable', 'check_launcher_env',
    'check_train_cfg', 'find_unknown_types', 'prepare_distributed',
    'register_all_modules', 'run_on_rank0', 'unknown_kwargs'
]
