# Option: HAD with DB-HAD's depth / normal groups cut at the batch's
# quantiles (two equal-count halves) instead of at tau = 0.5, which leaves
# every indoor depth (metres) and every camera-facing normal in one group.
_base_ = ['./had_r18-d8-c64_synthetic-rooms-4tasks.py']
train_cfg = dict(distill=dict(bin_edges='quantile'))
