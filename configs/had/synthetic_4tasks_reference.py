# HAD with the authors' released reductions (HADLoss preset='reference'),
# otherwise the 4-task synthetic run of synthetic_4tasks.py (the default,
# corrected preset). docs/had_presets.md lists the differences.
_base_ = ['./synthetic_4tasks.py']
train_cfg = dict(distill=dict(type='HADLoss', preset='reference'))
