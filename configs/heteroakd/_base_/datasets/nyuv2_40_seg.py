# NYUv2 with 40 classes, semantic segmentation only, read by mmseg's own
# BaseSegDataset from the toolkit layout under data/nyuv2 (the data root of
# configs/_base_/datasets/nyuv2_40.py): image/{train,test}/*.png and
# seg40/{train,test}/*.png with 1..40 and 0 = unlabelled (reduce_zero_label).
# Images are resized to 288x384 as in the multi-task configs.
dataset_type = 'BaseSegDataset'
data_root = 'data/nyuv2'
crop_size = (288, 384)
metainfo = dict(
    classes=('wall', 'floor', 'cabinet', 'bed', 'chair', 'sofa', 'table',
             'door', 'window', 'bookshelf', 'picture', 'counter', 'blinds',
             'desk', 'shelves', 'curtain', 'dresser', 'pillow', 'mirror',
             'floor mat', 'clothes', 'ceiling', 'books', 'refrigerator',
             'television', 'paper', 'towel', 'shower curtain', 'box',
             'whiteboard', 'person', 'night stand', 'toilet', 'sink', 'lamp',
             'bathtub', 'bag', 'otherstructure', 'otherfurniture',
             'otherprop'))
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations', reduce_zero_label=True),
    dict(
        type='RandomResize',
        scale=(384, 288),
        ratio_range=(1.0, 1.5),
        keep_ratio=True),
    dict(type='RandomCrop', crop_size=crop_size, cat_max_ratio=0.75),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackSegInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(384, 288), keep_ratio=True),
    dict(type='LoadAnnotations', reduce_zero_label=True),
    dict(type='PackSegInputs'),
]
# `tools/test.py --tta`: three scales x (image, mirror), logits averaged
# by mmseg's SegTTAModel
img_ratios = [0.75, 1.0, 1.25]
tta_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(
        type='TestTimeAug',
        transforms=[
            [
                dict(type='Resize', scale=(384, 288), keep_ratio=True),
            ],
            [
                dict(type='Resize', scale_factor=r, keep_ratio=True)
                for r in img_ratios
            ],
            [
                dict(type='RandomFlip', prob=0., direction='horizontal'),
                dict(type='RandomFlip', prob=1., direction='horizontal')
            ], [dict(type='LoadAnnotations', reduce_zero_label=True)],
            [dict(type='PackSegInputs')]
        ])
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
        data_prefix=dict(img_path='image/train', seg_map_path='seg40/train'),
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
        data_prefix=dict(img_path='image/test', seg_map_path='seg40/test'),
        pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(type='IoUMetric', iou_metrics=['mIoU'])
test_evaluator = val_evaluator
