# The HAD authors' NYUv2 setting: semantic -> depth -> normal, 13 classes,
# preprocessed NumPy layout (288x384), DeepLabV3-ResNet18 with ImageNet
# weights.
#   tools/dist_train.sh configs/had/nyuv2_3tasks.py 8
_base_ = ['./had_r18-d8_nyuv2-3tasks.py']
