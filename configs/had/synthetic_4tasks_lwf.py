# Baseline: LwF-style plain self-distillation (masked mean of the
# per-pixel distillation loss map), same lambda as HAD.
_base_ = ['./synthetic_4tasks.py']
train_cfg = dict(distill=dict(_delete_=True, type='PixelDistillLoss'))
