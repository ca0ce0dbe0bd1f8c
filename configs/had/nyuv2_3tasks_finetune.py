# Baseline/ablation: fine-tuning.
_base_ = ['./nyuv2_3tasks.py']
train_cfg = dict(distill=None, distill_weight=0.0)
