# Baseline/ablation: HAD, DB-HAD only.
_base_ = ['./nyuv2_3tasks.py']
train_cfg = dict(distill=dict(use_sg=False))
