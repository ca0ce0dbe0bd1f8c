"""PromptContinualClassifier: freezing, masking, predictions, checkpoints,
mmengine steps."""
import pytest
import torch
import torch.nn.functional as F
from kdp_tiny_models import (ARCH, ARCH6, ARCH_WIDE, batch_data, build,
                             classifier_cfg, images, samples, vit_cfg)
from mmengine.optim import OptimWrapper

from projects.kdp.kdp.models import PromptContinualClassifier, encode_tokens


@pytest.fixture
def model():
    torch.manual_seed(0)
    return build(classifier_cfg(prompt=dict(type='L2PPrompt', pool_size=6)))


def test_build_and_trainable_parameters(model):
    assert isinstance(model, PromptContinualClassifier)
    assert model.prompt.key_dims == ARCH['embed_dims']
    trainable = {id(p) for p in model.trainable_parameters()}
    expected = {id(p) for p in model.prompt.parameters()}
    expected |= {id(p) for p in model.last.parameters()}
    assert trainable == expected
    named = {n for n, p in model.named_parameters() if p.requires_grad}
    assert all(n.startswith(('prompt.', 'last.')) for n in named)
    assert not any(p.requires_grad for p in model.backbone.parameters())


def test_frozen_backbone_gets_no_grad_and_stays_eval(model):
    model.train()
    assert model.training and not model.backbone.training
    model.begin_task(0, 3, (0, 3))
    losses = model.loss(images(4), samples([0, 1, 2, 1]))
    assert set(losses) == {'loss_ce', 'loss_prompt'}
    sum(losses.values()).backward()
    assert all(p.grad is None for p in model.backbone.parameters())
    assert model.last.weight.grad.abs().sum() > 0
    assert model.prompt.prompts.grad.abs().sum() > 0
    assert model.prompt.keys.grad.abs().sum() > 0


def test_class_incremental_masking(model):
    model.begin_task(1, 4, (2, 4))
    assert model.task_classes == (2, 4) and model.classes_seen == 4
    x = images(3)
    labels = torch.tensor([2, 3, 3])
    losses = model.loss(x, samples(labels))
    cls_logits, _, _ = model.forward_logits(x, train=True)
    masked = cls_logits.clone()
    masked[:, :2] = float('-inf')  # earlier task
    masked[:, 4:] = float('-inf')  # later tasks
    torch.testing.assert_close(masked, model.mask_to_task(cls_logits))
    torch.testing.assert_close(losses['loss_ce'],
                               F.cross_entropy(masked, labels))
    with pytest.raises(ValueError, match=r'label 0 is outside .*\[2, 4\)'):
        model.loss(x, samples([0, 2, 3]))
    # test time: unseen classes (>= 4) masked, seen ones (0..3) kept
    preds = model.predict(x)
    assert len(preds) == 3
    for pred in preds:
        assert pred.pred_score.shape == (6, )
        assert torch.all(pred.pred_score[4:] == 0)
        assert torch.all(pred.pred_score[:4] > 0)
        assert pred.pred_label.item() < 4
    logits = model.predict_logits(x)
    expected = torch.zeros(3, 6)
    expected[:, :4] = F.softmax(logits[:, :4], dim=1)
    torch.testing.assert_close(
        torch.stack([p.pred_score for p in preds]), expected)
    with pytest.raises(ValueError, match='task_classes'):
        model.begin_task(0, 3, (3, 9))


def test_forward_modes_and_mmengine_steps(model):
    model.begin_task(0, 3, (0, 3))
    optim = OptimWrapper(
        torch.optim.Adam(model.trainable_parameters(), lr=1e-2))
    before = model.last.weight.detach().clone()
    backbone_before = model.backbone.layers[0].attn.qkv.weight.clone()
    log = model.train_step(batch_data([0, 1, 2, 2]), optim)
    assert {'loss', 'loss_ce', 'loss_prompt'} <= set(log)
    assert not torch.equal(before, model.last.weight)
    assert torch.equal(backbone_before,
                       model.backbone.layers[0].attn.qkv.weight)
    outs = model.val_step(batch_data([0, 1]))
    assert len(outs) == 2 and outs[0].pred_score.shape == (6, )
    assert model.test_step(batch_data([2]))[0].gt_label.item() == 2
    logits = model(images(2), mode='tensor')
    assert logits.shape == (2, 6)
    with pytest.raises(RuntimeError, match='Invalid mode'):
        model(images(2), mode='nope')


def test_query_defaults_to_the_plain_backbone(model):
    x = images(2)
    torch.testing.assert_close(
        model.extract_query(x),
        encode_tokens(model.backbone, x)[:, 0])
    assert model.query is None


def test_query_of_another_size():
    model = build(
        classifier_cfg(
            arch=ARCH_WIDE,
            prompt=dict(type='L2PPrompt', pool_size=6),
            query=vit_cfg(ARCH)))
    assert model.prompt.keys.shape == (6, 32)  # the query's (student's) size
    assert model.prompt.prompts.shape[-1] == 48  # the backbone's
    assert not any(p.requires_grad for p in model.query.parameters())
    model.train()
    assert not model.query.training
    model.begin_task(0, 2, (0, 2))
    losses = model.loss(images(2), samples([0, 1]))
    assert losses['loss_ce'].isfinite()


@pytest.mark.parametrize('prompt', [
    dict(type='DualPrompt'),
    dict(type='CODAPrompt', pool_size=20),
    None,
])
def test_other_pools_train_and_predict(prompt):
    torch.manual_seed(0)
    model = build(classifier_cfg(arch=ARCH6, prompt=prompt))
    model.begin_task(1, 4, (2, 4))  # num_tasks = ceil(6 / 2) = 3
    if prompt is not None:
        assert model.prompt.num_tasks == 3 and model.prompt.task_id == 1
    losses = model.loss(images(2), samples([2, 3]))
    sum(losses.values()).backward()
    assert model.last.weight.grad is not None
    assert model.predict(images(2))[0].pred_label.item() < 4


def test_prompt_layers_beyond_depth_name_the_parameter_and_depth():
    with pytest.raises(ValueError, match=r'e_layers=\[2, 3, 4\].*depth 4'):
        build(classifier_cfg(prompt=dict(type='DualPrompt')))
    with pytest.raises(
            ValueError, match=r'layers=\[0, 1, 2, 3, 4\].*'
            r'depth 4'):
        build(classifier_cfg(prompt=dict(type='CODAPrompt')))
    with pytest.raises(ValueError, match=r'length=3.*even'):
        build(classifier_cfg(prompt=dict(type='L2PPrompt', length=3)))
    with pytest.raises(ValueError, match='embed_dims=16 differs'):
        build(classifier_cfg(prompt=dict(type='L2PPrompt', embed_dims=16)))
    with pytest.raises(TypeError, match='mmpretrain VisionTransformer'):
        build(
            classifier_cfg(backbone=dict(type='mmpretrain.ResNet', depth=18)))


def _save_backbone(vit, path, classifier_format=True):
    state = vit.state_dict()
    if classifier_format:  # as mmpretrain's ImageClassifier saves it
        state = dict(
            state_dict={
                f'backbone.{k}': v
                for k, v in state.items()
            },
            meta=dict(epoch=1))
    torch.save(state, path)


@pytest.mark.parametrize('classifier_format', [True, False])
def test_backbone_checkpoint_loads_and_survives_init_weights(
        tmp_path, classifier_format):
    torch.manual_seed(1)
    source = build(vit_cfg())
    source.init_weights()
    path = str(tmp_path / 'vit.pth')
    _save_backbone(source, path, classifier_format)
    model = build(
        classifier_cfg(
            backbone_checkpoint=path, query=vit_cfg(), query_checkpoint=path))
    model.init_weights()  # as mmengine's runner does
    for vit in (model.backbone, model.query):
        for key, value in source.state_dict().items():
            torch.testing.assert_close(vit.state_dict()[key], value)


def test_checkpoint_errors(tmp_path):
    with pytest.raises(
            FileNotFoundError, match='backbone_checkpoint.*missing.pth'):
        build(
            classifier_cfg(backbone_checkpoint=str(tmp_path / 'missing.pth')))
    wide = str(tmp_path / 'wide.pth')
    _save_backbone(build(vit_cfg(ARCH_WIDE)), wide)
    with pytest.raises(
            ValueError,
            match=r'query_checkpoint.*another ViT size.*'
            r'"cls_token" has shape \(1, 1, 48\) in the '
            r'checkpoint but \(1, 1, 32\) in the model'):
        build(classifier_cfg(query=vit_cfg(), query_checkpoint=wide))
    deep = str(tmp_path / 'deep.pth')
    _save_backbone(build(vit_cfg(ARCH6)), deep)
    with pytest.raises(ValueError, match=r'unexpected key.*"layers\.4\.'):
        build(classifier_cfg(backbone_checkpoint=deep))
    with pytest.raises(ValueError, match='query_checkpoint needs'):
        build(classifier_cfg(query_checkpoint=deep))
