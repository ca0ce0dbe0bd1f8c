# Ablation: HAD with distribution-balanced distillation only.
_base_ = ['./synthetic_4tasks.py']
train_cfg = dict(distill=dict(use_sg=False))
