# HAD over four heterogeneous tasks on synthetic rooms (96x128), on a CPU in
# about 10 minutes: semantic -> depth -> normal -> saliency, 90 images and
# 100 iterations (batch 8) per phase. The README's main job (`make demo`).
_base_ = [
    '../_base_/models/had_r18-d8-c64.py',
    '../_base_/datasets/synthetic_rooms.py', '../_base_/default_runtime.py',
    '../_base_/schedules/lifelong_synthetic-rooms-4x100.py'
]
visualizer = dict(type='MultiTaskLocalVisualizer')
