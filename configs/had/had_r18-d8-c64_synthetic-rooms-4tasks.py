# HAD over four heterogeneous tasks on synthetic rooms (96x128), on a CPU in
# about 10 minutes: semantic -> depth -> normal -> saliency, 90 images and
# 100 iterations (batch 8) per phase. The README's main job (`make demo`).
_base_ = [
    '../_base_/models/had_r18-d8-c64.py',
    '../_base_/datasets/synthetic_rooms.py', '../_base_/default_runtime.py',
    '../_base_/schedules/lifelong_adam.py'
]
optim_wrapper = dict(optimizer=dict(lr=1e-3))  # from scratch, small images
train_cfg = dict(phases=[
    dict(task='semantic', max_iters=100),
    dict(task='depth', max_iters=100),
    dict(task='normal', max_iters=100),
    dict(task='saliency', max_iters=100),
])
default_hooks = dict(logger=dict(interval=25))
visualizer = dict(type='MultiTaskLocalVisualizer')
