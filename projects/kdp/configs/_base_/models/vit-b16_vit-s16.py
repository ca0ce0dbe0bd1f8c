# ViT-B/16 teacher -> ViT-S/16 student (mmpretrain's 'deit-small' arch has
# the ViT-S/16 shape: 384 wide, 12 layers, 6 heads), 224 x 224 input.
# Pretrained weights are mmpretrain VisionTransformer checkpoints that you
# supply (nothing is downloaded): set the two paths below, or pass
#   --cfg-options model.teacher.backbone_checkpoint=B.pth \
#       model.teacher.query_checkpoint=S.pth \
#       model.student.backbone_checkpoint=S.pth
vit_b16 = dict(type='PromptedViT', arch='b', img_size=224, patch_size=16)
vit_s16 = dict(
    type='PromptedViT', arch='deit-small', img_size=224, patch_size=16)
teacher_checkpoint = None  # e.g. 'checkpoints/vit-base-p16_in21k.pth'
student_checkpoint = None  # e.g. 'checkpoints/vit-small-p16_in21k.pth'
model = dict(
    type='ContinualDistiller',
    teacher=dict(
        type='PromptContinualClassifier',
        backbone=vit_b16,
        backbone_checkpoint=teacher_checkpoint,
        # the query is the student-size ViT, shared by teacher and student
        query=vit_s16,
        query_checkpoint=student_checkpoint),
    student=dict(
        type='PromptContinualClassifier',
        backbone=vit_s16,
        backbone_checkpoint=student_checkpoint))
