# The HAD reference model sized for 96x128 inputs on a CPU: the feature map
# is 12x16 (a third of the reference 36x48), so the ASPP rates are scaled
# by 1/3, and 64 head channels keep a 4-task step under a second.
_base_ = ['./had_r18-d8.py']
small = dict(channels=64, dilations=(1, 4, 8, 12))
model = dict(
    heads=dict(
        semantic=small,
        depth=dict(body=small),
        normal=dict(body=small),
        saliency=dict(body=small)))
