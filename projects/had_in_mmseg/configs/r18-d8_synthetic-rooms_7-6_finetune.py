# The same class-incremental run without distillation (fine-tuning): the
# lower bound that HAD is compared with.
_base_ = ['./r18-d8_synthetic-rooms_7-6_had.py']
train_cfg = dict(distill=None)
