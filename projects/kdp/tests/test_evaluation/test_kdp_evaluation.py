"""KDP metrics against hand-computed accuracy matrices."""
import csv
import json
import os.path as osp

import pytest
import torch

# after task 1, 2, 3 (rows); accuracy (%) on task 1, 2, 3 (columns)
MATRIX = [
    [90.0, None, None],
    [80.0, 70.0, None],
    [60.0, 65.0, 50.0],
]


def test_average_accuracy_and_forgetting_by_hand():
    from projects.kdp.kdp.evaluation import (average_accuracy, forgetting,
                                             summarize, task_forgetting)

    # (60 + 65 + 50) / 3
    assert average_accuracy(MATRIX) == pytest.approx(175 / 3)
    # sum_i (R[i][i] - R[N-1][i]) / N = ((90-60) + (70-65) + 0) / 3
    assert task_forgetting(MATRIX) == pytest.approx([30.0, 5.0, 0.0])
    assert forgetting(MATRIX) == pytest.approx(35 / 3)
    # partial matrices: after task 2, and after task 1
    assert average_accuracy(MATRIX[:2]) == pytest.approx(75.0)
    assert forgetting(MATRIX[:2]) == pytest.approx((90 - 80) / 2)
    assert forgetting(MATRIX[:1]) == 0.0
    summary = summarize(MATRIX)
    assert summary['tasks_learnt'] == 3
    assert summary['average_accuracy_per_task'] == pytest.approx(
        [90.0, 75.0, 175 / 3])
    # accuracy may also rise (backward transfer): negative forgetting
    assert forgetting([[50.0, None], [60.0, 70.0]]) == pytest.approx(-5.0)


def test_invalid_matrices_are_refused():
    from projects.kdp.kdp.evaluation import average_accuracy, forgetting
    with pytest.raises(ValueError):
        average_accuracy([])
    with pytest.raises(ValueError, match='missing'):
        forgetting([[90.0, None], [None, 70.0]])
    with pytest.raises(ValueError, match='not seen'):
        forgetting([[90.0, 10.0], [80.0, 70.0]])


def test_report_files(tmp_path):
    from projects.kdp.kdp.evaluation import (build_continual_report,
                                             load_continual_report,
                                             write_continual_report)
    report = build_continual_report(
        dict(student=MATRIX[:2], teacher=[[95.0], [90.0, 85.0]]),
        num_tasks=3,
        task_classes=[(0, 2), (2, 4), (4, 6)])
    paths = write_continual_report(report, str(tmp_path / 'continual'))
    loaded = load_continual_report(paths['json'])
    assert loaded['student']['matrix'] == [[90.0, None, None],
                                           [80.0, 70.0, None]]
    assert loaded['student']['average_accuracy'] == pytest.approx(75.0)
    assert loaded['student']['forgetting'] == pytest.approx(5.0)
    assert loaded['teacher']['forgetting'] == pytest.approx(2.5)
    assert loaded['tasks'] == ['task_1', 'task_2', 'task_3']
    with open(paths['csv_student']) as f:
        rows = list(csv.reader(f))
    assert rows[0] == [
        'after_task', 'task_1', 'task_2', 'task_3', 'average_accuracy',
        'forgetting'
    ]
    assert rows[2][:4] == ['2', '80.0000', '70.0000', '']
    assert float(rows[2][4]) == 75.0 and float(rows[2][5]) == 5.0
    assert osp.isfile(paths['csv_teacher'])
    json.dumps(loaded)


def test_task_accuracy_metric():
    from mmpretrain.structures import DataSample

    from had_mm.registry import METRICS
    metric = METRICS.build(dict(type='TaskAccuracy'))
    metric.dataset_meta = dict(classes_per_task=2)
    # labels 0-1: task 1, labels 2-3: task 2
    pairs = [(0, 0), (1, 0), (1, 1), (3, 2), (3, 3), (2, 3)]
    samples = []
    for pred, gt in pairs:
        s = DataSample().set_gt_label(gt)
        s.set_pred_label(pred)
        samples.append(s)
    metric.process(None, samples[:3])
    # a dict output with pred_score only
    metric.process(None, [
        dict(pred_score=torch.eye(4)[p], gt_label=torch.tensor([g]))
        for p, g in pairs[3:]
    ])
    out = metric.evaluate(6)
    assert out['accuracy'] == pytest.approx(100 * 3 / 6)
    assert out['accuracy_task_1'] == pytest.approx(100 * 2 / 3)
    assert out['accuracy_task_2'] == pytest.approx(100 * 1 / 3)
    explicit = METRICS.build(dict(type='TaskAccuracy', classes_per_task=4))
    explicit.process(None, samples)
    assert set(explicit.evaluate(6)) == {'accuracy', 'accuracy_task_1'}
