# Joint 4-task training on synthetic rooms: the multi-task upper bound of
# the lifelong sequence, and the "does it really learn" check of issue 3.
_base_ = [
    '../_base_/models/had_r18-d8.py', '../_base_/datasets/synthetic_rooms.py',
    '../_base_/default_runtime.py', '../_base_/schedules/schedule_1k.py'
]
visualizer = dict(type='MultiTaskLocalVisualizer')
