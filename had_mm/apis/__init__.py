from had_mm.engine import CheckpointLoadError
from .launch import (build_runner, enable_visualization, exit_on_bad_input,
                     load_config, load_tool_config)

__all__ = [
    'CheckpointLoadError', 'build_runner', 'enable_visualization',
    'exit_on_bad_input', 'load_config', 'load_tool_config'
]
