# HAD with the authors' released reductions (HADLoss preset='reference'),
# ImageNet EfficientNet-Lite0-d8 encoder.
_base_ = ['./had_effnet-lite0-d8_synthetic-rooms-4tasks.py']
train_cfg = dict(distill=dict(type='HADLoss', preset='reference'))
