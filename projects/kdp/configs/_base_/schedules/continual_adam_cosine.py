# The KDP optimisation: per task and per stage (teacher, then
# student) a new Adam (lr 1e-3, betas (0.9, 0.999), no weight decay) over
# the stage's trainable parameters, and a cosine schedule over the stage;
# 20 epochs per stage (CIFAR-100; 35 for ImageNet-R).
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='Adam', lr=1e-3, betas=(0.9, 0.999), weight_decay=0.0))
# restarted and stretched over each stage by ContinualDistillLoop
param_scheduler = [dict(type='CosineAnnealingLR', eta_min=0.0)]
train_cfg = dict(type='ContinualDistillLoop', max_epochs=20)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
val_evaluator = dict(type='TaskAccuracy')
test_evaluator = val_evaluator
