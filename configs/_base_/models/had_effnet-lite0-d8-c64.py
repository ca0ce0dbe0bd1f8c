# had_effnet-lite0-d8.py sized for 96x128 inputs on a CPU, as
# had_r18-d8-c64.py: 12x16 feature map, ASPP rates 4/8/12, 64 channels.
_base_ = ['./had_effnet-lite0-d8.py']
small = dict(channels=64, dilations=(1, 4, 8, 12))
model = dict(
    heads=dict(
        semantic=small,
        depth=dict(body=small),
        normal=dict(body=small),
        saliency=dict(body=small)))
