# Baseline: fine-tuning (no distillation of old heads).
_base_ = ['./had_r18-d8-c64_synthetic-rooms-4tasks.py']
train_cfg = dict(distill=None, distill_weight=0.0)
