# NYUv2 with 13 classes, any of the three layouts (detected). Put (or link)
# your copy at data/nyuv2; saliency needs saliency/ maps or the derived ones
# of tools/data/derive_saliency.py.
_base_ = ['./synthetic_rooms.py']
data_root = 'data/nyuv2'
crop = (288, 384)
train_pipeline = [
    dict(type='LoadMultiTaskImage'),
    dict(type='LoadMultiTaskAnnotations'),
    dict(type='MultiTaskResize', scale=crop),
    dict(type='MultiTaskRandomScaleCrop', scales=(1.0, 1.2, 1.5)),
    dict(type='MultiTaskRandomFlip', prob=0.5),
    dict(type='PackMultiTaskInputs'),
]
test_pipeline = [
    dict(type='LoadMultiTaskImage'),
    dict(type='LoadMultiTaskAnnotations'),
    dict(type='MultiTaskResize', scale=crop),
    dict(type='PackMultiTaskInputs'),
]
train_dataloader = dict(
    dataset=dict(data_root=data_root, pipeline=train_pipeline))
val_dataloader = dict(
    dataset=dict(data_root=data_root, pipeline=test_pipeline))
test_dataloader = val_dataloader
