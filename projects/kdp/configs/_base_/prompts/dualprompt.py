# DualPrompt: G-prompt length 6 on layers 0-1; E-prompt pool 10,
# length 20 on layers 2-4, top-1.
prompt = dict(
    type='DualPrompt',
    g_length=6,
    g_layers=(0, 1),
    e_pool_size=10,
    e_length=20,
    e_layers=(2, 3, 4))
