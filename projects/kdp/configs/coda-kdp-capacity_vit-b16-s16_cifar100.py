# The capacity-matched control of KDP with CODA-Prompt, ViT-S/16 on CIFAR-100
# (10 tasks x 10 classes): the student alone (no teacher) with KDP's KD token,
# KD prefix prompts (length 6, layers 1..) and kd_last head, the KD head
# trained on the labels instead of the teacher, and KDP's inference rule.
# Against the KDP config it isolates the distillation from the extra
# parameters.
_base_ = ['./coda-kdp_vit-b16-s16_cifar100.py']
model = dict(
    teacher=None,
    student=dict(
        distill=dict(
            _delete_=True,
            type='KDPCapacityControl',
            alpha=0.5,
            prompt_length=6)))
