# L2P scaled to the tiny ViTs and 5 tasks: pool 10, length 4, top-3,
# layer 0.
# Batch-wise prompt vote in training; no frequency penalty (as l2p.py).
prompt = dict(
    type='L2PPrompt',
    pool_size=10,
    length=4,
    top_k=3,
    layers=(0, ),
    batchwise_prompt=True,
    frequency_penalty=False)
