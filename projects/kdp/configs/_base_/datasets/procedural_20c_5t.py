# Procedural shapes: 20 classes (shape x hue x texture) of 32x32 RGB
# images, 5 tasks x 4 classes, class order from a seed; 100 train and 50
# test images per class, generated in memory (about a second).
dataset_type = 'ProceduralShapes'
num_classes = 20
num_tasks = 5
class_order_seed = 0
# images are RGB arrays already (no LoadImageFromFile)
data_preprocessor = dict(
    type='mmpretrain.ClsDataPreprocessor',
    mean=[127.5, 127.5, 127.5],
    std=[127.5, 127.5, 127.5],
    to_rgb=False)
train_pipeline = [
    dict(
        type='mmpretrain.RandomResizedCrop',
        scale=32,
        crop_ratio_range=(0.6, 1.0)),
    dict(type='mmpretrain.RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='mmpretrain.PackInputs'),
]
test_pipeline = [dict(type='mmpretrain.PackInputs')]
train_dataloader = dict(
    batch_size=32,
    num_workers=0,
    persistent_workers=False,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(
        type=dataset_type,
        split='train',
        num_classes=num_classes,
        num_per_class=100,
        num_tasks=num_tasks,
        class_order_seed=class_order_seed,
        pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=100,
    num_workers=0,
    persistent_workers=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        split='test',
        num_classes=num_classes,
        num_per_class=50,
        num_tasks=num_tasks,
        class_order_seed=class_order_seed,
        pipeline=test_pipeline))
test_dataloader = val_dataloader
