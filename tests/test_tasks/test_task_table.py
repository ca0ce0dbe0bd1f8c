"""The task table: built-in specs, lookups, and a task registered from
outside had_mm reaching every module that reads the table."""
import copy

import numpy as np
import pytest
import torch
from mmengine.registry import init_default_scope
from mmengine.structures import PixelData
from tiny_model import BODY, tiny_predictor_cfg

from had_mm.datasets.dataset_check import check_dataset
from had_mm.datasets.transforms import (MultiTaskRandomFlip,
                                        MultiTaskRandomScaleCrop,
                                        PackMultiTaskInputs)
from had_mm.evaluation.metrics.base_dense_metric import BaseDenseMetric
from had_mm.models.heads import DenseTaskHead
from had_mm.registry import DATASETS, METRICS, MODELS, TASKS
from had_mm.tasks import (BUILTIN_TASKS, TaskSpec, check_tasks, get_task,
                          primary_metrics, task_names)
from had_mm.tasks import task_spec as task_spec_module

# name: (label_key, label_field, pred_field, out_channels, pad, ignore,
#        flip channel, zoom divides, primary metric, direction, metric
#        type, distill kind)
EXPECTED = dict(
    semantic=('gt_seg_map', 'gt_sem_seg', 'pred_sem_seg', None, 255, 255, None,
              False, 'mIoU', 1, 'SemanticIoUMetric', 'classification'),
    depth=('gt_depth_map', 'gt_depth_map', 'pred_depth_map', 1, 0, 0, None,
           True, 'abs_err', -1, 'DepthErrorMetric', 'regression'),
    normal=('gt_normal', 'gt_normal', 'pred_normal', 3, 0, 0, 0, False, 'mean',
            -1, 'NormalErrorMetric', 'normal'),
    saliency=('gt_saliency', 'gt_saliency', 'pred_saliency', 1, 255, 255, None,
              False, 'max_f', 1, 'SaliencyMetric', 'binary'))


@pytest.fixture(autouse=True)
def _scope():
    init_default_scope('had_mm')


def test_builtin_specs():
    assert task_names()[:4] == BUILTIN_TASKS
    for name, expected in EXPECTED.items():
        spec = get_task(name)
        assert spec.name == name
        assert (spec.label_key, spec.label_field, spec.pred_field,
                spec.out_channels, spec.pad_value, spec.ignore_value,
                spec.flip_negate_channel, spec.zoom_divides,
                spec.primary_metric, spec.primary_direction, spec.metric_type,
                spec.distill_kind) == expected
        assert METRICS.get(spec.metric_type) is not None
        assert spec.label_source is None
        assert get_task(name) is spec  # one shared instance
    assert get_task('semantic').channels(13) == 13
    assert get_task('normal').channels() == 3
    assert 'derive_saliency' in get_task('saliency').missing_hint
    assert primary_metrics(BUILTIN_TASKS) == {
        'semantic': ('mIoU', 1),
        'depth': ('abs_err', -1),
        'normal': ('mean', -1),
        'saliency': ('max_f', 1)
    }


def test_valid_masks():
    seg = np.array([[0, 255], [3, 1]], np.uint8)
    np.testing.assert_array_equal(
        get_task('semantic').valid_mask(seg), [[1, 0], [1, 1]])
    depth = np.array([[0, 1.5]], np.float32)
    np.testing.assert_array_equal(
        get_task('depth').valid_mask(depth), [[0, 1]])
    normal = np.zeros((1, 2, 3), np.float32)
    normal[0, 1] = (0, 0, 1)
    np.testing.assert_array_equal(
        get_task('normal').valid_mask(normal), [[0, 1]])


def test_unknown_names():
    with pytest.raises(ValueError) as err:
        get_task('depht')
    msg = str(err.value)
    assert '\n' not in msg and "'depht'" in msg
    assert all(repr(t) in msg for t in BUILTIN_TASKS)
    assert "did you mean 'depth'" in msg
    with pytest.raises(
            ValueError,
            match=r"unknown task\(s\) \['semseg'\]; "
            'valid tasks are semantic, depth'):
        check_tasks(['depth', 'semseg'])
    with pytest.raises(ValueError, match='valid tasks are'):
        check_tasks([])
    assert check_tasks('depth') == ['depth']
    assert check_tasks(['depth', 'normal', 'depth'],
                       unique=True) == ['depth', 'normal']


# ---------------------------------------------------------------- plug-in
class _ToyTask(TaskSpec):
    """A 2-channel vector task (flow-like), loaded from the depth file."""

    name = 'toy'
    label_key = 'gt_toy_map'
    label_field = 'gt_toy'
    label_dtype = 'float32'
    pred_field = 'pred_toy'
    out_channels = 2
    pad_value = -1.0
    ignore_value = -1.0
    invalid_desc = '-1'
    flip_negate_channel = 0
    zoom_divides = True
    primary_metric = 'err'
    primary_direction = -1
    metric_type = 'ToyErrorMetric'
    distill_kind = 'regression'
    label_source = 'depth'

    def valid_mask(self, label):
        return np.all(label != self.ignore_value, axis=-1)

    def load_label(self, path, results):
        h, w = results['img_shape']
        label = np.ones((h, w, 2), np.float32)
        label[0, 0] = -1  # one invalid pixel
        results[self.label_key] = label
        return label

    def pseudo_label(self, teacher_out):
        return teacher_out

    def distill_map(self, student_out, pseudo):
        loss = (student_out - pseudo).abs().mean(dim=1)
        return loss, torch.ones_like(loss, dtype=torch.bool)


class _ToyHead(DenseTaskHead):
    task = 'toy'


class _ToyErrorMetric(BaseDenseMetric):
    pred_key = 'pred_toy'
    gt_key = 'gt_toy'

    def process_batch(self, preds, gts):
        err = (preds - gts).abs().flatten(1).mean(1)
        return [float(e) for e in err]

    def compute_from(self, results):
        return dict(err=float(np.mean(results)))


@pytest.fixture
def toy_task():
    """Register the toy task, head and metric as another package would;
    unregister afterwards."""
    TASKS.register_module(name='toy', module=_ToyTask)
    MODELS.register_module(name='ToyHead', module=_ToyHead)
    METRICS.register_module(name='ToyErrorMetric', module=_ToyErrorMetric)
    yield get_task('toy')
    TASKS._module_dict.pop('toy')
    MODELS._module_dict.pop('ToyHead')
    METRICS._module_dict.pop('ToyErrorMetric')
    task_spec_module._INSTANCES.pop('toy', None)


def test_registered_task_is_in_the_table(toy_task):
    assert task_names() == BUILTIN_TASKS + ('toy', )
    assert check_tasks(['semantic', 'toy']) == ['semantic', 'toy']
    assert primary_metrics(['toy']) == {'toy': ('err', -1)}


def test_registered_task_reaches_dataset_and_check(toy_task,
                                                   synthetic_rooms_root):
    dataset = DATASETS.build(
        dict(
            type='NYUv2MultiTaskDataset',
            data_root=synthetic_rooms_root,
            split='test',
            tasks=['toy'],
            pipeline=[
                dict(type='LoadMultiTaskImage'),
                dict(type='LoadMultiTaskAnnotations'),
                dict(type='PackMultiTaskInputs')
            ]))
    info = dataset.get_data_info(0)
    # no file of its own: the label source's (depth)
    assert info['toy_path'] == info['img_path'].replace('/image/', '/depth/')
    summary = check_dataset(dataset)
    h, w = summary['sizes'][0]
    assert summary['pixels'] == {'toy': len(dataset) * h * w}
    assert summary['valid_pixels'] == {'toy': len(dataset) * (h * w - 1)}
    sample = dataset[0]['data_samples']
    assert sample.gt_toy.data.shape == (2, h, w)
    assert sample.gt_toy.data.dtype == torch.float32


def test_registered_task_reaches_transforms_and_preprocessor(toy_task):
    h, w = 4, 6
    label = np.stack(
        [np.arange(h * w, dtype=np.float32).reshape(h, w)] * 2, axis=-1)
    res = dict(
        img=np.zeros((h, w, 3), np.uint8),
        img_shape=(h, w),
        gt_toy_map=label.copy())
    flipped = MultiTaskRandomFlip(prob=1.0).transform(copy.deepcopy(res))
    np.testing.assert_array_equal(flipped['gt_toy_map'][..., 0],
                                  -label[:, ::-1, 0])
    np.testing.assert_array_equal(flipped['gt_toy_map'][..., 1], label[:, ::-1,
                                                                       1])
    zoomed = MultiTaskRandomScaleCrop(scales=2.0).transform(copy.deepcopy(res))
    assert zoomed['gt_toy_map'].max() <= label.max() / 2
    packed = PackMultiTaskInputs().transform(res)['data_samples']
    assert packed.gt_toy.data.shape == (2, h, w)
    pre = MODELS.build(dict(type='MultiTaskDataPreProcessor', size=(8, 8)))
    out = pre(
        dict(
            inputs=[torch.zeros(3, h, w, dtype=torch.uint8)],
            data_samples=[packed]))
    padded = out['data_samples'][0].gt_toy.data
    assert padded.shape == (2, 8, 8)
    assert (padded[:, h:] == -1).all() and (padded[:, :, w:] == -1).all()


def test_registered_task_reaches_metric_predictor_and_had(toy_task):
    metric = METRICS.build(
        dict(type='MultiTaskMetric', tasks=['depth', 'toy']))
    assert isinstance(metric.task_metrics['toy'], _ToyErrorMetric)
    gt = torch.ones(2, 3, 3)
    sample = dict(
        gt_toy=dict(data=gt),
        pred_toy=dict(data=gt + 0.5),
        gt_depth_map=dict(data=torch.ones(1, 3, 3)),
        pred_depth_map=dict(data=torch.ones(1, 3, 3)))
    metric.process(None, [sample])
    assert metric.compute_metrics(metric.results)['toy/err'] == 0.5

    cfg = tiny_predictor_cfg(('semantic', ))
    # the config's order is not the table's: heads follow the table
    cfg['heads'] = dict(
        toy=dict(type='ToyHead', body=BODY, loss=dict(type='MaskedL1Loss')),
        **cfg['heads'])
    model = MODELS.build(cfg)
    assert model.tasks == ['semantic', 'toy']
    assert model.heads['toy'].out_channels == 2
    res = dict(
        img=np.zeros((16, 16, 3), np.uint8),
        img_shape=(16, 16),
        ori_shape=(16, 16),
        gt_toy_map=np.ones((16, 16, 2), np.float32))
    data = model.data_preprocessor(
        dict(**{
            k: [v]
            for k, v in PackMultiTaskInputs().transform(res).items()
        }),
        training=True)
    losses = model(**data, mode='loss')
    assert [k for k in losses if 'loss' in k] == ['toy.loss_depth']
    preds = model.predict(data['inputs'], data['data_samples'])
    assert preds[0].pred_toy.data.shape == (2, 16, 16)

    # the losses read the spec's pseudo-label rule and distillation map
    # (DB-HAD's value bins of a 'regression' task need one channel)
    from had_mm.models.losses import HADLoss, PixelDistillLoss
    student, teacher = torch.rand(2, 2, 8, 8), torch.rand(2, 2, 8, 8)
    plain = PixelDistillLoss('toy')(student, teacher)
    assert float(plain) == pytest.approx(
        float((student - teacher).abs().mean()))
    assert torch.isfinite(HADLoss('toy', use_db=False)(student, teacher))


def test_re_registering_replaces_the_spec(toy_task):

    class _Toy2(_ToyTask):
        primary_metric = 'err2'

    TASKS.register_module(name='toy', module=_Toy2, force=True)
    assert get_task('toy').primary_metric == 'err2'


def test_pixel_data_of_a_dense_task_head(toy_task):
    head = _ToyHead(body=BODY, loss=dict(type='MaskedL1Loss'))
    fields = head.to_pixel_data(torch.zeros(2, 3, 3))
    assert isinstance(fields['pred_toy'], PixelData)
    assert head.gt_field == 'gt_toy'


def test_the_task_table_imports_no_layer_above_it():
    """had_mm/tasks is the bottom layer: models, losses, metrics and
    datasets read it, so it imports none of them (not even lazily)."""
    import ast
    import glob
    import os.path as osp

    import had_mm.tasks
    above = ('had_mm.models', 'had_mm.engine', 'had_mm.evaluation',
             'had_mm.datasets', 'had_mm.apis', 'had_mm.visualization')
    folder = osp.dirname(had_mm.tasks.__file__)
    for path in glob.glob(osp.join(folder, '*.py')):
        for node in ast.walk(ast.parse(open(path).read())):
            names = [a.name for a in node.names] if isinstance(
                node, ast.Import) else [node.module or ''] if isinstance(
                    node, ast.ImportFrom) else []
            for name in names:
                assert not name.startswith(above), (path, name)
