# DKD (decoupled KD on the CLS head: target-class and non-target terms) with
# CODA-Prompt, ViT-B/16 -> ViT-S/16 on CIFAR-100 (10 tasks x 10 classes).
# The KDP authors' DKD baseline: (1 - w) CE + w DKD with w = 0.5, alpha = 1
# (TCKD), beta = 4 (NCKD), T = 4; no KD prompts.
_base_ = ['./coda-kdp_vit-b16-s16_cifar100.py']
model = dict(
    student=dict(
        distill=dict(
            _delete_=True,
            type='DKDDistill',
            kd_weight=0.5,
            alpha=1.0,
            beta=4.0,
            temperature=4.0)))
