# L2P (spec): pool 30, length 20 (10 key + 10 value prefix vectors),
# layer 0, top-5 by key-query matching; teacher and student alike.
prompt = dict(type='L2PPrompt', pool_size=30, length=20, top_k=5, layers=(0, ))
