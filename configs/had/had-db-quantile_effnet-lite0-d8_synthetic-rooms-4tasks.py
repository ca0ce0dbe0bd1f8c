# Option: HAD with DB-HAD's depth / normal groups cut at the batch's
# quantiles, as had-db-quantile_r18-d8-c64_synthetic-rooms-4tasks.py, on the
# ImageNet EfficientNet-Lite0-d8 encoder.
_base_ = ['./had_effnet-lite0-d8_synthetic-rooms-4tasks.py']
train_cfg = dict(distill=dict(bin_edges='quantile'))
