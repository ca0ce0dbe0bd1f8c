from .lifelong_state_hook import LifelongStateHook

__all__ = ['LifelongStateHook']
