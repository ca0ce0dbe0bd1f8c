# Baseline: LwF-style plain self-distillation (masked mean of the
# per-pixel distillation loss map), same lambda as HAD.
_base_ = ['./had_r18-d8-c64_synthetic-rooms-4tasks.py']
train_cfg = dict(distill=dict(_delete_=True, type='PixelDistillLoss'))
