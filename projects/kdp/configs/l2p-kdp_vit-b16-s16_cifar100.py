# KDP with L2P on CIFAR-100 (10 tasks x 10 classes), ViT-B/16 -> ViT-S/16,
# the paper's hyper-parameters. Set the pretrained checkpoints in
# _base_/models/vit-b16_vit-s16.py (or --cfg-options).
_base_ = [
    './_base_/models/vit-b16_vit-s16.py',
    './_base_/prompts/l2p.py',
    './_base_/datasets/cifar100_10t.py',
    './_base_/schedules/continual_adam_cosine.py',
    './_base_/default_runtime.py',
]
model = dict(
    data_preprocessor={{_base_.data_preprocessor}},
    teacher=dict(
        num_classes={{_base_.num_classes}},
        num_tasks={{_base_.num_tasks}},
        prompt={{_base_.prompt}}),
    student=dict(
        num_classes={{_base_.num_classes}},
        num_tasks={{_base_.num_tasks}},
        prompt={{_base_.prompt}},
        # KDP: a shared KD token + prefix prompts of length 6 on
        # layers 1.., a = 0.5, T = 2
        distill=dict(
            type='KDPDistill', alpha=0.5, temperature=2.0, prompt_length=6)))
train_cfg = dict(max_epochs=20)
