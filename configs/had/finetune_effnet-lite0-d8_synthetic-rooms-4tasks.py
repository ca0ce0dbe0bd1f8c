# Baseline: fine-tuning (no distillation of old heads), ImageNet
# EfficientNet-Lite0-d8 encoder.
_base_ = ['./had_effnet-lite0-d8_synthetic-rooms-4tasks.py']
train_cfg = dict(distill=None, distill_weight=0.0)
