"""L2P's batch-wise selection and frequency penalty, CODA-Prompt's
Gram-Schmidt re-initialisation: counts and orthogonality by hand."""
import math

import pytest
import torch

from projects.kdp.kdp.models import CODAPrompt, L2PPrompt

D = 32


def _cos_rows(query, keys):
    """Cosine similarities by plain loops (lists of lists)."""

    def norm(v):
        return math.sqrt(sum(x * x for x in v))

    return [[
        sum(a * b for a, b in zip(q, k)) / (norm(q) * norm(k)) for k in keys
    ] for q in query]


def _l2p(**kwargs):
    pool = L2PPrompt(
        embed_dims=D, key_dims=6, pool_size=6, top_k=2, length=2, **kwargs)
    with torch.no_grad():
        pool.keys.copy_(torch.eye(6))
    return pool


# per image top-2 of eye keys: {0, 1}, {1, 2}, {3, 1}
QUERY = torch.tensor([[5., 4., 0., 0., 0., 0.], [0., 5., 4., 0., 0., 0.],
                      [0., 4., 0., 5., 0., 0.]])


def _votes_by_hand(query, keys, top_k):
    votes = [0] * len(keys)
    for row in _cos_rows(query, keys):
        ranked = sorted(range(len(row)), key=lambda i: (-row[i], i))
        for i in ranked[:top_k]:
            votes[i] += 1
    return votes


def test_l2p_batchwise_vote_and_counts():
    pool = _l2p()
    keys = torch.eye(6).tolist()
    votes = _votes_by_hand(QUERY.tolist(), keys, 2)
    assert votes == [1, 3, 1, 1, 0, 0]
    # the 2 most voted prompts, ties to the lower index: 1, then 0
    major = sorted(range(6), key=lambda i: (-votes[i], i))[:2]
    assert major == [1, 0]

    prefixes, loss = pool(QUERY, train=True)
    keys_out = prefixes[0][0]  # B x (2 * 1) x D: one key vector per prompt
    for b in range(3):
        for j, prompt in enumerate(major):
            torch.testing.assert_close(keys_out[b, j], pool.prompts[prompt, 0,
                                                                    0])
    cos = _cos_rows(QUERY.tolist(), keys)
    expected = sum(sum(1 - cos[b][i] for i in major) for b in range(3)) / 3
    assert loss.item() == pytest.approx(expected, rel=1e-5)
    # one count per image for each prompt it used
    assert pool.selection_counts.tolist() == [3, 3, 0, 0, 0, 0]
    # test time: per image, and not counted
    prefixes, _ = pool(QUERY, train=False)
    torch.testing.assert_close(prefixes[0][0][2, 0], pool.prompts[3, 0, 0])
    assert pool.selection_counts.tolist() == [3, 3, 0, 0, 0, 0]
    # the counts add up over batches
    pool(QUERY[2:], train=True)  # one image: its own top-2, 3 and 1
    assert pool.selection_counts.tolist() == [3, 4, 0, 1, 0, 0]


def test_l2p_without_batchwise_counts_each_image():
    pool = _l2p(batchwise_prompt=False)
    pool(QUERY, train=True)
    assert pool.selection_counts.tolist() == _votes_by_hand(
        QUERY.tolist(),
        torch.eye(6).tolist(), 2)


def test_l2p_frequency_table_and_penalty():
    pool = _l2p(batchwise_prompt=False, frequency_penalty=True)
    pool.begin_task(0, 3)
    query = torch.tensor([[5., 4., 0., 0., 0., 1.]])
    cos = _cos_rows(query.tolist(), torch.eye(6).tolist())[0]
    # task 0: no table yet, the plain top-2
    prefixes, _ = pool(query, train=True)
    torch.testing.assert_close(prefixes[0][0][0, 0], pool.prompts[0, 0, 0])
    pool(QUERY, train=True)
    counts = [1 + 1, 1 + 3, 1, 1, 0, 0]  # the first query used 0 and 1
    assert pool.selection_counts.tolist() == counts
    assert pool.frequency.sum() == 0

    pool.begin_task(1, 3)  # the counts so far become the table
    assert pool.frequency.tolist() == counts
    assert int(pool.frequency_task) == 1
    pool(QUERY, train=True)
    pool.begin_task(1, 3)  # the same task again: the table stays
    assert pool.frequency.tolist() == counts

    # by hand: the penalised distance, ties by the plain one, then index
    total = sum(counts)
    order = sorted(
        range(6),
        key=lambda i: ((1 - cos[i]) * counts[i] / total, 1 - cos[i], i))
    # never-used 4 and 5 first (no penalty), 5 the nearer one
    assert order[:2] == [5, 4]
    prefixes, _ = pool(query, train=True)
    for j in range(2):
        torch.testing.assert_close(prefixes[0][0][0, j], pool.prompts[order[j],
                                                                      0, 0])
    # at test time there is no penalty
    prefixes, _ = pool(query, train=False)
    torch.testing.assert_close(prefixes[0][0][0, 0], pool.prompts[0, 0, 0])


def test_l2p_state_dict_and_older_checkpoints():
    pool = _l2p()
    pool(QUERY, train=True)
    state = pool.state_dict()
    assert state['selection_counts'].tolist() == [3, 3, 0, 0, 0, 0]
    fresh = _l2p()
    fresh.load_state_dict(state)
    assert fresh.selection_counts.tolist() == [3, 3, 0, 0, 0, 0]
    for key in ('selection_counts', 'frequency', 'frequency_task'):
        state.pop(key)
    _l2p().load_state_dict(state)  # strict, without the new buffers


def _coda(**kwargs):
    torch.manual_seed(0)
    return CODAPrompt(
        embed_dims=D,
        key_dims=16,
        pool_size=12,
        length=2,
        layers=(0, 1),
        **kwargs)


def _rows(pool):
    """Each parameter as ``layers x pool x dims`` (components flattened)."""
    return [
        p.detach().clone().flatten(2)
        for p in (pool.components, pool.keys, pool.attention)
    ]


def _max_dot(new, old):
    """The largest |<n, o / |o|>| by plain loops."""
    worst = 0.
    for n in new.tolist():
        for o in old.tolist():
            norm = math.sqrt(sum(x * x for x in o))
            worst = max(worst, abs(sum(a * b for a, b in zip(n, o))) / norm)
    return worst


def test_coda_gram_schmidt_new_components_orthogonal_to_old():
    pool = _coda()
    assert pool.gram_schmidt
    pool.begin_task(0, 3)  # 4 components per task
    with torch.no_grad():  # "training" makes task 0's rows non-orthogonal
        for p in (pool.components, pool.keys, pool.attention):
            p[:, :4] += torch.randn_like(p[:, :4])
    before = _rows(pool)
    pool.begin_task(1, 3)
    after = _rows(pool)
    for old, new in zip(before, after):
        torch.testing.assert_close(new[:, :4], old[:, :4], rtol=0, atol=0)
        torch.testing.assert_close(new[:, 8:], old[:, 8:], rtol=0, atol=0)
        for j in range(2):
            assert _max_dot(new[j, 4:8], new[j, :4]) < 1e-5
            gram = new[j, 4:8] @ new[j, 4:8].t()
            torch.testing.assert_close(gram, torch.eye(4), rtol=0, atol=1e-5)
    assert int(pool.reinit_task) == 1
    pool.begin_task(1, 3)  # the same task again: nothing re-initialised
    for a, b in zip(after, _rows(pool)):
        torch.testing.assert_close(a, b, rtol=0, atol=0)
    pool.begin_task(2, 3)
    for new in _rows(pool):
        for j in range(2):
            assert _max_dot(new[j, 8:12], new[j, :8]) < 1e-5


def test_coda_gram_schmidt_is_seeded_and_optional():
    first, second = _coda(), _coda()
    first.begin_task(1, 3)
    second.begin_task(1, 3)
    torch.testing.assert_close(first.components, second.components)
    # the other parameters are drawn as without Gram-Schmidt
    plain = _coda(gram_schmidt=False)
    torch.testing.assert_close(plain.keys[:, :4], first.keys[:, :4])
    before = _rows(plain)
    plain.begin_task(1, 3)
    for a, b in zip(before, _rows(plain)):
        torch.testing.assert_close(a, b, rtol=0, atol=0)
    with pytest.raises(ValueError, match=r'pool_size=20 <= .*=16'):
        CODAPrompt(embed_dims=D, key_dims=16, pool_size=20, layers=(0, ))
