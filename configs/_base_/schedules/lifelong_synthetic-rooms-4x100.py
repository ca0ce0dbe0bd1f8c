# The 4-task sequence of synthetic rooms on a CPU: semantic -> depth ->
# normal -> saliency, 100 iterations (batch 8) per phase, Adam at 1e-3
# (from scratch, small images).
_base_ = ['./lifelong_adam.py']
optim_wrapper = dict(optimizer=dict(lr=1e-3))
train_cfg = dict(phases=[
    dict(task='semantic', max_iters=100),
    dict(task='depth', max_iters=100),
    dict(task='normal', max_iters=100),
    dict(task='saliency', max_iters=100),
])
default_hooks = dict(logger=dict(interval=25))
