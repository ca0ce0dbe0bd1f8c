# The paper's NYUv2 setting (semantic -> depth -> normal) with the authors'
# released loss reductions (HADLoss preset='reference'): the numbers to
# compare with the paper. had_r18-d8_nyuv2-3tasks.py is the default
# (corrected) preset.
_base_ = ['./had_r18-d8_nyuv2-3tasks.py']
train_cfg = dict(distill=dict(type='HADLoss', preset='reference'))
