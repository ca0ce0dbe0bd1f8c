from .multi_task_local_visualizer import MultiTaskLocalVisualizer

__all__ = ['MultiTaskLocalVisualizer']
