"""had_mm.utils.dist_sync on one process (2 ranks: test_rank_equality)."""
import pytest
import torch
import torch.nn as nn


def _student_with_teacher():
    from had_mm.models.distill import FrozenTeacherMixin

    class Student(FrozenTeacherMixin, nn.Module):

        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(3, 4, 1)
            self.bn = nn.BatchNorm2d(4)

    student, teacher = Student(), Student()
    student.attach_teacher(teacher)
    return student, teacher


def test_module_states_reach_the_teacher_held_outside_the_tree():
    from had_mm.utils.dist_sync import module_states
    student, teacher = _student_with_teacher()
    ids = {id(t) for t in module_states(student)}
    own = list(student.parameters()) + list(student.buffers())
    held = list(teacher.parameters()) + list(teacher.buffers())
    assert len(own) == 7 and len(ids) == 14
    assert ids == {id(t) for t in own + held}
    assert {id(t) for t in module_states(student, teachers=False)} == \
        {id(t) for t in own}
    assert {id(t) for t in module_states(student, params=False)} == \
        {id(t) for t in list(student.buffers()) + list(teacher.buffers())}


def test_one_process_changes_nothing():
    from had_mm.utils.dist_sync import (all_reduce_grads,
                                        broadcast_module_states)
    student, _ = _student_with_teacher()
    before = {k: v.clone() for k, v in student.state_dict().items()}
    assert broadcast_module_states(student) == 0
    all_reduce_grads(student.parameters())
    assert all(p.grad is None for p in student.parameters())
    for key, value in student.state_dict().items():
        assert torch.equal(value, before[key])


def test_syncbn_becomes_bn_on_cpu_ranks_only(monkeypatch):
    from had_mm.utils import dist_sync
    lines = []
    monkeypatch.setattr(dist_sync, 'print_log',
                        lambda msg, **kwargs: lines.append(msg))
    revert_sync_bn_on_cpu = dist_sync.revert_sync_bn_on_cpu

    def model():
        return nn.Sequential(
            nn.Conv2d(3, 4, 1), nn.SyncBatchNorm(4), nn.ReLU(),
            nn.Sequential(nn.SyncBatchNorm(4)))

    def count(m):
        return sum(isinstance(x, nn.SyncBatchNorm) for x in m.modules())

    for distributed, device in ((False, 'cpu'), (True, 'cuda')):
        assert count(revert_sync_bn_on_cpu(model(), distributed, device)) == 2
    assert not lines
    reverted = revert_sync_bn_on_cpu(model(), True, 'cpu')
    assert count(reverted) == 0
    assert sum(
        isinstance(x, nn.modules.batchnorm._BatchNorm)
        for x in reverted.modules()) == 2
    assert len(lines) == 1 and 'SyncBN -> BN in 2 layers' in lines[0]
    assert 'gloo' in lines[0]


def test_rank_sync_hook_takes_a_positive_interval():
    from had_mm.engine.hooks import RankSyncHook
    assert RankSyncHook().interval == 1
    for bad in (0, -1, 1.5, True):
        with pytest.raises(ValueError, match='interval'):
            RankSyncHook(bad)
