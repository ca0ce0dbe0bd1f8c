# The HAD reference optimisation per phase: Adam, weight decay 1e-5, a new
# optimizer state each phase, constant learning rate. Phases are set in
# train_cfg.phases by each config.
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='Adam', lr=1e-4, weight_decay=1e-5))
param_scheduler = []
train_cfg = dict(
    type='LifelongTrainLoop',
    phases=[],
    distill=dict(type='HADLoss'),
    distill_weight=3.0,
    split='contiguous')
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
# heads of tasks not yet (or no longer) trained get no gradient
find_unused_parameters = True
default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=50, log_metric_by_epoch=False),
    param_scheduler=dict(type='ParamSchedulerHook'),
    checkpoint=dict(
        type='CheckpointHook', by_epoch=False, interval=200, max_keep_ckpts=2),
    sampler_seed=dict(type='DistSamplerSeedHook'),
    visualization=dict(type='SegVisualizationHook'))
