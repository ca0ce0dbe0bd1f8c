# Baseline/ablation: LwF-style self-distillation.
_base_ = ['./had_r18-d8_nyuv2-3tasks.py']
train_cfg = dict(distill=dict(_delete_=True, type='PixelDistillLoss'))
