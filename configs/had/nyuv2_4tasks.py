# The entry point: HAD on NYUv2, semantic -> depth -> normal -> saliency,
# the reference model (DeepLabV3-ResNet18, ImageNet weights, SyncBN).
#   tools/dist_train.sh configs/had/nyuv2_4tasks.py 8
# Data: docs/en/user_guides/nyuv2_8gpus.md. The settings and their reasons
# live in the file below; this name only points at it.
_base_ = ['./had_r18-d8_nyuv2-4tasks.py']
