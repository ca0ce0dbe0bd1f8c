# Baseline/ablation: fine-tuning.
_base_ = ['./had_r18-d8_nyuv2-4tasks.py']
train_cfg = dict(distill=None, distill_weight=0.0)
