# The same class-incremental run without distillation (fine-tuning): the
# lower bound that HAD is compared with.
_base_ = ['./had_r18-d8_synthetic-rooms-7-6.py']
train_cfg = dict(distill=None)
