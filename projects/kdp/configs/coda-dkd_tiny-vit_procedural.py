# DKD (decoupled KD on the CLS head: target-class and non-target terms) with
# CODA-Prompt, tiny ViT-B -> tiny ViT-S on the procedural shapes. The KDP
# authors' DKD baseline: (1 - w) CE + w DKD with w = 0.5, alpha = 1 (TCKD),
# beta = 4 (NCKD), T = 4; no KD prompts.
_base_ = ['./coda-kdp_tiny-vit_procedural.py']
model = dict(
    student=dict(
        distill=dict(
            _delete_=True,
            type='DKDDistill',
            kd_weight=0.5,
            alpha=1.0,
            beta=4.0,
            temperature=4.0)))
