"""projects/had_in_mmseg around mmseg's stock DeepLabV3 (ResNet-18) config,
under its ``default_scope='mmseg'``, and the ``custom_imports`` projects
beside a stock config."""
import pytest
from stock_helpers import (CROP, DEEPLABV3, losses_alone, tiny_stock, train,
                           with_validation)

OLD = [0, 1, 2, 3, 4, 5, 6]
NEW = [7, 8, 9, 10, 11, 12]
PROJECTS = [
    'had_mm', 'projects.had_in_mmseg.had_in_mmseg',
    'projects.edge_task.edge_task', 'projects.kdp.kdp'
]


def test_class_incremental_had_on_a_stock_config(synthetic_rooms_root,
                                                 tmp_path):
    cfg = tiny_stock(
        DEEPLABV3,
        synthetic_rooms_root,
        imports=['had_mm', 'projects.had_in_mmseg.had_in_mmseg'])
    cfg = with_validation(cfg, synthetic_rooms_root, DEEPLABV3)
    stock_model = cfg.model
    cfg.model = dict(
        type='had_mm.IncrementalSegDistiller', segmentor=stock_model)
    # one iteration per phase: 2 in all, the second one distilled
    cfg.train_cfg = dict(
        type='had_mm.ClassIncrementalTrainLoop',
        phases=[
            dict(name='old', classes=OLD, max_iters=1),
            dict(name='new', classes=NEW, max_iters=1)
        ],
        progress_bar=False)
    cfg.val_evaluator = dict(
        type='had_mm.ClassGroupIoUMetric',
        iou_metrics=['mIoU'],
        class_groups=dict(old=OLD, new=NEW))
    assert cfg.default_scope == 'mmseg'
    record = train(cfg, tmp_path / 'run')

    assert [s[1:] for s in record.input_shapes] == [(3, ) + CROP] * 2
    assert max(record.padding) < 0.05, record.padding
    # each phase learnt from its own classes only (SelectClasses ran)
    for labels, classes in zip(record.labels, (OLD, NEW)):
        assert set(labels.unique().tolist()) <= set(classes) | {255}
    assert 'loss_distill' not in record.losses[0]
    assert record.losses[1]['loss_distill'] > 0
    # phase 1 is the stock segmentor alone, on the same batch
    alone = losses_alone(stock_model, record, prefix='segmentor.')
    for key in ('decode.loss_ce', 'aux.loss_ce'):
        assert record.losses[0][key] == pytest.approx(alone[key], rel=1e-5)
    assert (tmp_path / 'run' / 'phase_2_new.pth').is_file()


def test_projects_beside_a_stock_config(synthetic_rooms_root, tmp_path):
    """Every project imported by a stock config leaves its model as it is:
    it trains, and its loss at step 0 is that of the model alone."""
    cfg = tiny_stock(DEEPLABV3, synthetic_rooms_root, imports=PROJECTS)
    record = train(cfg, tmp_path / 'run')
    assert record.input_shapes[0] == (2, 3) + CROP
    assert max(record.padding) < 0.05
    alone = losses_alone(cfg.model, record)
    assert record.losses[0]['decode.loss_ce'] == pytest.approx(
        alone['decode.loss_ce'], rel=1e-5)
