# Single-task reference for Delta_m: semantic alone on the data and schedule it
# gets in the 4-task sequence (chunk 0 of 4, same iterations).
_base_ = ['./had_r18-d8-c64_synthetic-rooms-4tasks.py']
train_cfg = dict(
    phases=[dict(task='semantic', max_iters=100, chunk=0)],
    num_chunks=4,
    distill=None)
