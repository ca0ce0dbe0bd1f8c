# Synthetic rooms (the embedded default; `make data` writes it), semantic
# segmentation only, read by mmseg's own BaseSegDataset from the NYUv2
# toolkit layout. seg13 PNGs hold 1..13 with 0 = unlabelled, hence
# reduce_zero_label.
dataset_type = 'BaseSegDataset'
data_root = 'data/synthetic_rooms'
metainfo = dict(
    classes=('bed', 'books', 'ceiling', 'chair', 'floor', 'furniture',
             'objects', 'picture', 'sofa', 'table', 'tv', 'wall', 'window'),
    palette=[[0, 0, 255], [232, 88, 47], [0, 217, 0], [148, 0, 240],
             [222, 241, 23], [255, 205, 205], [0, 223, 228], [106, 135, 204],
             [116, 28, 41], [240, 35, 235], [0, 166, 156], [249, 139, 0],
             [225, 228, 194]])
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations', reduce_zero_label=True),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackSegInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations', reduce_zero_label=True),
    dict(type='PackSegInputs'),
]
# `tools/test.py --tta`: the image and its mirror, logits averaged by
# mmseg's SegTTAModel (images are small, so no multi-scale)
tta_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(
        type='TestTimeAug',
        transforms=[[
            dict(type='RandomFlip', prob=0., direction='horizontal'),
            dict(type='RandomFlip', prob=1., direction='horizontal')
        ], [dict(type='LoadAnnotations', reduce_zero_label=True)],
                    [dict(type='PackSegInputs')]])
]
tta_model = dict(type='SegTTAModel')
train_dataloader = dict(
    batch_size=8,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        metainfo=metainfo,
        img_suffix='.png',
        seg_map_suffix='.png',
        reduce_zero_label=True,
        data_prefix=dict(img_path='image/train', seg_map_path='seg13/train'),
        pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=8,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        metainfo=metainfo,
        img_suffix='.png',
        seg_map_suffix='.png',
        reduce_zero_label=True,
        data_prefix=dict(img_path='image/test', seg_map_path='seg13/test'),
        pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(type='IoUMetric', iou_metrics=['mIoU'])
test_evaluator = val_evaluator
