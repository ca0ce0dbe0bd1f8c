# Tiny stand-ins for ViT-B/16 -> ViT-S/16 on 32 x 32 images (CPU minutes):
# the same depth, the teacher twice as wide as the student. Their
# pretrained weights come from projects/kdp/tools/pretrain_tiny_vit.py
# (supervised on procedural classes disjoint from the continual ones: the
# stand-in for ImageNet pre-training), which writes the two paths below.
tiny_vit_s = dict(
    type='PromptedViT',
    arch=dict(
        embed_dims=64, num_layers=6, num_heads=4, feedforward_channels=256),
    img_size=32,
    patch_size=8)
tiny_vit_b = dict(
    type='PromptedViT',
    arch=dict(
        embed_dims=128, num_layers=6, num_heads=4, feedforward_channels=512),
    img_size=32,
    patch_size=8)
student_checkpoint = 'work_dirs/kdp_tiny_pretrain/tiny-vit-s.pth'
teacher_checkpoint = 'work_dirs/kdp_tiny_pretrain/tiny-vit-b.pth'
model = dict(
    type='ContinualDistiller',
    # the teacher: a wide frozen ViT; its prompts are selected by the
    # student-size query ViT (so prompt keys have the student's width)
    teacher=dict(
        type='PromptContinualClassifier',
        backbone=tiny_vit_b,
        backbone_checkpoint=teacher_checkpoint,
        query=tiny_vit_s,
        query_checkpoint=student_checkpoint),
    # the student: its frozen backbone is also its query ViT
    student=dict(
        type='PromptContinualClassifier',
        backbone=tiny_vit_s,
        backbone_checkpoint=student_checkpoint))
