# Baseline/ablation: HAD, SG-HAD only.
_base_ = ['./nyuv2_4tasks.py']
train_cfg = dict(distill=dict(use_db=False))
