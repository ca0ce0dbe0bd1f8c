# ViT-L/16 teacher -> ViT-B/16 student, 224 x 224 input. Pretrained
# weights are mmpretrain VisionTransformer checkpoints that you supply
# (nothing is downloaded): set the two paths below, or pass
#   --cfg-options model.teacher.backbone_checkpoint=L.pth \
#       model.teacher.query_checkpoint=B.pth \
#       model.student.backbone_checkpoint=B.pth
vit_l16 = dict(type='PromptedViT', arch='l', img_size=224, patch_size=16)
vit_b16 = dict(type='PromptedViT', arch='b', img_size=224, patch_size=16)
teacher_checkpoint = None  # e.g. 'checkpoints/vit-large-p16_in21k.pth'
student_checkpoint = None  # e.g. 'checkpoints/vit-base-p16_in21k.pth'
model = dict(
    type='ContinualDistiller',
    teacher=dict(
        type='PromptContinualClassifier',
        backbone=vit_l16,
        backbone_checkpoint=teacher_checkpoint,
        query=vit_b16,
        query_checkpoint=student_checkpoint),
    student=dict(
        type='PromptContinualClassifier',
        backbone=vit_b16,
        backbone_checkpoint=student_checkpoint))
