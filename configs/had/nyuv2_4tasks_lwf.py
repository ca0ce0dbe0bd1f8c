# Baseline/ablation: LwF-style self-distillation.
_base_ = ['./nyuv2_4tasks.py']
train_cfg = dict(distill=dict(_delete_=True, type='PixelDistillLoss'))
