# A tiny 4-phase lifelong run over all four task types, one iteration a
# phase (tools/analysis/distill_diagnostics.py tests; data_root set by
# tests).
_base_ = ['./tiny_lifelong.py']
tasks = ['semantic', 'saliency', 'normal', 'depth']
model = dict(
    heads=dict(saliency=dict(type='SaliencyHead', body={{_base_.body}})))
train_dataloader = dict(dataset=dict(tasks=tasks))
val_dataloader = dict(dataset=dict(tasks=tasks))
test_dataloader = val_dataloader
val_evaluator = dict(tasks=tasks)
test_evaluator = val_evaluator
train_cfg = dict(phases=[dict(task=t, max_iters=1) for t in tasks])
default_hooks = dict(checkpoint=dict(interval=100))
