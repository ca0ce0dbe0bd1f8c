# Ablation: HAD with salience-guided distillation only.
_base_ = ['./synthetic_4tasks.py']
train_cfg = dict(distill=dict(use_db=False))
