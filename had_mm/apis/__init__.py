from .launch import build_runner, enable_visualization, load_config

__all__ = ['build_runner', 'enable_visualization', 'load_config']
