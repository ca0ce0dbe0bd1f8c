from .heterogeneous_dense_predictor import HeterogeneousDensePredictor

__all__ = ['HeterogeneousDensePredictor']
