# HAD with the authors' released reductions (HADLoss preset='reference'),
# otherwise the 4-task synthetic run of
# had_r18-d8-c64_synthetic-rooms-4tasks.py (the default, corrected preset).
# docs/en/methods/had_presets.md lists the differences.
_base_ = ['./had_r18-d8-c64_synthetic-rooms-4tasks.py']
train_cfg = dict(distill=dict(type='HADLoss', preset='reference'))
