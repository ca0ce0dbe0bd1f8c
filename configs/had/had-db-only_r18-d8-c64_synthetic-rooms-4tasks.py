# Ablation: HAD with distribution-balanced distillation only.
_base_ = ['./had_r18-d8-c64_synthetic-rooms-4tasks.py']
train_cfg = dict(distill=dict(use_sg=False))
