# Baseline/ablation: HAD, SG-HAD only.
_base_ = ['./had_r18-d8_nyuv2-4tasks.py']
train_cfg = dict(distill=dict(use_db=False))
