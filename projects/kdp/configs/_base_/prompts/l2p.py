# L2P: pool 30, length 20 (10 key + 10 value prefix vectors),
# layer 0, top-5 by key-query matching; teacher and student alike.
# In training the batch votes for its top-5 (batch-wise prompt, on in the
# official L2P configs); the optional frequency penalty (diversified
# selection) is off, as in the official CIFAR-100 config.
prompt = dict(
    type='L2PPrompt',
    pool_size=30,
    length=20,
    top_k=5,
    layers=(0, ),
    batchwise_prompt=True,
    frequency_penalty=False)
