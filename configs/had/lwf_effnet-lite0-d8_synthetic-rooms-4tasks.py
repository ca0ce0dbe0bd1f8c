# Baseline: LwF-style plain self-distillation (masked mean of the per-pixel
# distillation loss map), same lambda as HAD, ImageNet EfficientNet-Lite0-d8
# encoder.
_base_ = ['./had_effnet-lite0-d8_synthetic-rooms-4tasks.py']
train_cfg = dict(distill=dict(_delete_=True, type='PixelDistillLoss'))
