# ImageNet-R (200 classes) from data/imagenet-r/imagenet-r/<wnid>/*.jpg
# with data/imagenet-r/{train,test}.txt split lists (80/20 per class; see
# projects/kdp/tools/make_imagenet_r_split.py), 10 tasks x 20 classes,
# class order from a seed, 224 x 224.
dataset_type = 'ImageNetR'
data_root = 'data/imagenet-r'
num_classes = 200
num_tasks = 10
class_order_seed = 1993
# LoadImageFromFile gives BGR
data_preprocessor = dict(
    type='mmpretrain.ClsDataPreprocessor',
    mean=[127.5, 127.5, 127.5],
    std=[127.5, 127.5, 127.5],
    to_rgb=True)
train_pipeline = [
    dict(type='mmpretrain.LoadImageFromFile'),
    dict(type='mmpretrain.RandomResizedCrop', scale=224),
    dict(type='mmpretrain.RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='mmpretrain.PackInputs'),
]
test_pipeline = [
    dict(type='mmpretrain.LoadImageFromFile'),
    dict(type='mmpretrain.Resize', scale=(224, 224)),
    dict(type='mmpretrain.PackInputs'),
]
train_dataloader = dict(
    batch_size=64,
    num_workers=8,
    persistent_workers=False,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        split='train',
        num_tasks=num_tasks,
        class_order_seed=class_order_seed,
        pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=128,
    num_workers=8,
    persistent_workers=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        split='test',
        num_tasks=num_tasks,
        class_order_seed=class_order_seed,
        pipeline=test_pipeline))
test_dataloader = val_dataloader
