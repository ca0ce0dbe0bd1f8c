"""L2P, DualPrompt, CODA-Prompt and KDP prompts: shapes, selection, losses,
per-task behaviour and argument errors."""
import pytest
import torch
import torch.nn.functional as F

from projects.kdp.kdp.models import (CODAPrompt, DualPrompt, KDPPrompt,
                                     L2PPrompt)

D = 32


def test_l2p_defaults_shapes_and_loss():
    torch.manual_seed(0)
    pool = L2PPrompt(embed_dims=D, key_dims=16)
    assert (pool.pool_size, pool.length, pool.top_k, pool.layers) == (30, 20,
                                                                      5, (0, ))
    assert pool.batchwise_prompt and not pool.frequency_penalty
    query = torch.randn(3, 16)
    prefixes, loss = pool(query)  # test time: each image its own top-k
    assert list(prefixes) == [0]
    keys, values = prefixes[0]
    assert keys.shape == values.shape == (3, 5 * 10, D)
    cos = F.normalize(query, dim=1) @ F.normalize(pool.keys, dim=1).t()
    top = cos.topk(5, dim=1)
    torch.testing.assert_close(loss, (1 - top.values).sum(1).mean())
    # the selected prompts: first half of each -> keys, second -> values
    first = top.indices[:, 0]
    torch.testing.assert_close(keys[:, :10], pool.prompts[first, 0, :10])
    torch.testing.assert_close(values[:, :10], pool.prompts[first, 0, 10:])


def test_l2p_selects_the_matching_keys():
    pool = L2PPrompt(embed_dims=D, key_dims=4, pool_size=6, top_k=1, length=2)
    with torch.no_grad():
        pool.keys.copy_(torch.eye(6, 4) + 0.01)
    query = torch.tensor([[0., 0., 5., 0.], [1., 0., 0., 0.]])
    prefixes, loss = pool(query)
    torch.testing.assert_close(prefixes[0][0][:, 0], pool.prompts[[2, 0], 0,
                                                                  0])
    loss.backward()
    assert pool.keys.grad[[0, 2]].abs().sum() > 0
    assert pool.keys.grad[[1, 3, 4, 5]].abs().sum() == 0


def test_dual_prompt_train_uses_the_task_prompt_test_selects():
    torch.manual_seed(0)
    pool = DualPrompt(embed_dims=D, key_dims=8, num_layers=6)
    assert (pool.g_length, pool.g_layers, pool.e_pool_size, pool.e_length,
            pool.e_layers) == (6, (0, 1), 10, 20, (2, 3, 4))
    pool.begin_task(2, 5)
    query = torch.randn(4, 8)
    prefixes, loss = pool(query, train=True)
    assert sorted(prefixes) == [0, 1, 2, 3, 4]
    assert prefixes[0][0].shape == (4, 3, D)
    assert prefixes[3][1].shape == (4, 10, D)
    torch.testing.assert_close(prefixes[3][0],
                               pool.e_prompts[2, 1, :10].expand(4, -1, -1))
    torch.testing.assert_close(prefixes[1][1],
                               pool.g_prompts[1, 3:].expand(4, -1, -1))
    cos = F.normalize(query, dim=1) @ F.normalize(pool.e_keys, dim=1).t()
    torch.testing.assert_close(loss, (1 - cos[:, 2]).mean())
    # test time: top-1 key among the tasks seen (0..2)
    with torch.no_grad():
        pool.e_keys[:3] = torch.eye(3, 8)
        pool.e_keys[5] = 10 * query[0]  # unseen task: never selected
    query = torch.eye(3, 8)[[1, 0, 2]] + 0.01
    prefixes, loss = pool(query, train=False)
    assert loss.item() == 0
    torch.testing.assert_close(prefixes[2][0], pool.e_prompts[[1, 0, 2],
                                                              0, :10])
    with pytest.raises(ValueError, match='e_pool_size=10'):
        pool.begin_task(0, 11)


def test_coda_components_of_earlier_tasks_are_frozen():
    torch.manual_seed(0)
    # 100 components cannot be orthogonal in 8 dimensions
    pool = CODAPrompt(
        embed_dims=D, key_dims=8, num_layers=6, gram_schmidt=False)
    assert (pool.pool_size, pool.length, pool.layers,
            pool.ortho_weight) == (100, 8, (0, 1, 2, 3, 4), 0.)
    pool.begin_task(1, 10)
    assert pool.task_range == (10, 20)
    query = torch.randn(3, 8)
    prefixes, loss = pool(query, train=True)
    assert sorted(prefixes) == [0, 1, 2, 3, 4]
    assert prefixes[4][0].shape == prefixes[4][1].shape == (3, 4, D)
    assert loss.item() == 0  # orthogonality weight 0
    sum(k.sum() + v.sum() for k, v in prefixes.values()).backward()
    for grad in (pool.components.grad, pool.keys.grad, pool.attention.grad):
        assert grad[:, :10].abs().sum() == 0  # earlier task: detached
        assert grad[:, 10:20].abs().sum() > 0  # current task: learns
        assert grad[:, 20:].abs().sum() == 0  # later tasks: unused
    # the prompt of a layer, by hand
    j = 2
    weights = F.cosine_similarity(
        query[:, None] * pool.attention[j, :20][None],
        pool.keys[j, :20][None],
        dim=2)
    prompt = torch.einsum('bm,mld->bld', weights, pool.components[j, :20])
    torch.testing.assert_close(prefixes[j][0], prompt[:, :4])
    torch.testing.assert_close(prefixes[j][1], prompt[:, 4:])


def test_coda_orthogonality_loss():
    pool = CODAPrompt(
        embed_dims=D, key_dims=8, pool_size=4, layers=(0, ), ortho_weight=1.)
    pool.begin_task(0, 2)
    _, loss = pool(torch.randn(2, 8), train=True)
    assert loss.item() > 0
    _, loss = pool(torch.randn(2, 8), train=False)
    assert loss.item() == 0


def test_kdp_prompt_defaults():
    prompt = KDPPrompt(embed_dims=D, num_layers=12)
    assert prompt.layers == tuple(range(1, 12)) and prompt.length == 6
    prefixes, token = prompt(5)
    assert sorted(prefixes) == list(range(1, 12))
    assert prefixes[11][0].shape == prefixes[11][1].shape == (5, 3, D)
    assert token.shape == (5, 1, D)
    with pytest.raises(ValueError, match='num_layers'):
        KDPPrompt(embed_dims=D)


@pytest.mark.parametrize('build, match', [
    (lambda: L2PPrompt(embed_dims=D, layers=(4, ), num_layers=4),
     r'layers=\[4\].*depth 4'),
    (lambda: DualPrompt(embed_dims=D, num_layers=4),
     r'e_layers=\[2, 3, 4\] has layer\(s\) \[4\].*depth 4'),
    (lambda: CODAPrompt(embed_dims=D, num_layers=3),
     r'layers=\[0, 1, 2, 3, 4\].*\[3, 4\].*depth 3'),
    (lambda: KDPPrompt(embed_dims=D, num_layers=4, layers=(1, 5)),
     r'layers=\[1, 5\].*depth 4'),
    (lambda: L2PPrompt(embed_dims=D, length=5), r'length=5.*even'),
    (lambda: DualPrompt(embed_dims=D, g_length=3), r'g_length=3.*even'),
    (lambda: CODAPrompt(embed_dims=D, length=7), r'length=7.*even'),
    (lambda: KDPPrompt(embed_dims=D, num_layers=4, length=1),
     r'length=1.*even'),
    (lambda: L2PPrompt(embed_dims=D, top_k=31), r'top_k=31'),
])
def test_bad_arguments(build, match):
    with pytest.raises(ValueError, match=match):
        build()


def test_check_depth_when_attached():
    pool = CODAPrompt(embed_dims=D, gram_schmidt=False)  # no depth yet
    with pytest.raises(ValueError, match='depth 4'):
        pool.check_depth(4)
    pool.check_depth(5)
    with pytest.raises(ValueError, match='task_id=3'):
        pool.begin_task(3, 3)
    with pytest.raises(ValueError, match='key_dims'):
        pool(torch.randn(2, 7))
