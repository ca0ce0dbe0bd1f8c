# CIFAR-100 from data/cifar100/cifar-100-python/{train,test,meta} (the
# standard python pickles), 10 tasks x 10 classes, class order from a
# seed, upsampled to 224 x 224 for the ViTs.
dataset_type = 'CIFAR100Pickle'
data_root = 'data/cifar100'
num_classes = 100
num_tasks = 10
class_order_seed = 1993
# the pickles hold RGB arrays (no LoadImageFromFile)
data_preprocessor = dict(
    type='mmpretrain.ClsDataPreprocessor',
    mean=[127.5, 127.5, 127.5],
    std=[127.5, 127.5, 127.5],
    to_rgb=False)
train_pipeline = [
    dict(type='mmpretrain.RandomResizedCrop', scale=224),
    dict(type='mmpretrain.RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='mmpretrain.PackInputs'),
]
test_pipeline = [
    dict(type='mmpretrain.Resize', scale=(224, 224)),
    dict(type='mmpretrain.PackInputs'),
]
train_dataloader = dict(
    batch_size=64,
    num_workers=4,
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
    num_workers=4,
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
