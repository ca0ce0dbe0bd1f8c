# Baseline: fine-tuning (no distillation of old heads).
_base_ = ['./synthetic_4tasks.py']
train_cfg = dict(distill=None, distill_weight=0.0)
