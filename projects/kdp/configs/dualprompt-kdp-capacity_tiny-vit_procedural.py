# The capacity-matched control of KDP with DualPrompt, tiny ViT-S on the
# procedural shapes: the student alone (no teacher) with KDP's KD token, KD
# prefix prompts (length 6, layers 1..) and kd_last head, the KD head trained
# on the labels instead of the teacher, and KDP's inference rule. Against the
# KDP config it isolates the distillation from the extra parameters.
_base_ = ['./dualprompt-kdp_tiny-vit_procedural.py']
model = dict(
    teacher=None,
    student=dict(
        distill=dict(
            _delete_=True,
            type='KDPCapacityControl',
            alpha=0.5,
            prompt_length=6)))
