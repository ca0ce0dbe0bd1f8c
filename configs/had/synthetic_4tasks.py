# The demo (`make demo`): HAD over four tasks on the embedded synthetic
# rooms, on a CPU, with no download.
#   python tools/train.py configs/had/synthetic_4tasks.py
_base_ = ['./had_r18-d8-c64_synthetic-rooms-4tasks.py']
