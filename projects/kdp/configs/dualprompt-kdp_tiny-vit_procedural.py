# KDP with DualPrompt on the procedural shapes (5 tasks x 4 classes),
# tiny ViT-B -> tiny ViT-S on 32 x 32 images: a few CPU minutes.
# Pre-train the tiny ViTs first (projects/kdp/tools/pretrain_tiny_vit.py).
_base_ = [
    './_base_/models/tiny-vit-b_tiny-vit-s.py',
    './_base_/prompts/tiny_dualprompt.py',
    './_base_/datasets/procedural_20c_5t.py',
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
train_cfg = dict(max_epochs=4)
default_hooks = dict(logger=dict(interval=20))
