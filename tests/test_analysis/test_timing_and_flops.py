"""Training step parts against the whole; FLOPs of layers counted by hand."""
import time

import pytest
import torch
import torch.nn as nn
from mmengine.model import BaseModel
from torch.optim.optimizer import register_optimizer_step_pre_hook

from sgsrf_mmseg.analysis.benchmark import BenchmarkSettings
from sgsrf_mmseg.analysis.benchmark.meters import measure_or_oom
from sgsrf_mmseg.analysis.benchmark.phases import (count_flops, measure_infer,
                                                   measure_train)

FORWARD_MS, BACKWARD_MS, OPTIMIZER_MS = 30, 60, 15
SLACK_MS = 15
SETTINGS = BenchmarkSettings(
    'unused.py', device='cpu', batch_size=4, iters=2, warmup=0)


class SlowIdentity(torch.autograd.Function):

    @staticmethod
    def forward(ctx, x):
        time.sleep(FORWARD_MS * 1e-3)
        return x.clone()

    @staticmethod
    def backward(ctx, grad):
        time.sleep(BACKWARD_MS * 1e-3)
        return grad


class SlowModel(BaseModel):

    def __init__(self):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(3))

    def forward(self, inputs, data_samples=None, mode='tensor'):
        out = SlowIdentity.apply(self.weight * inputs)
        return dict(loss=out.sum()) if mode == 'loss' else out


class TwoLinear(BaseModel):

    def __init__(self):
        super().__init__()
        self.first = nn.Linear(16, 8)
        self.second = nn.Linear(8, 4)

    def forward(self, inputs, data_samples=None, mode='tensor'):
        out = self.second(self.first(inputs))
        return dict(loss=out.sum()) if mode == 'loss' else out


def test_train_step_parts_add_up_to_the_step():
    handle = register_optimizer_step_pre_hook(
        lambda *_: time.sleep(OPTIMIZER_MS * 1e-3))
    try:
        train, _ = measure_train(
            SlowModel(),
            dict(inputs=torch.ones(3)),
            SETTINGS,
            with_stages=False)
    finally:
        handle.remove()
    for part, expected in (('forward_ms', FORWARD_MS),
                           ('backward_ms', BACKWARD_MS), ('optimizer_ms',
                                                          OPTIMIZER_MS)):
        assert expected * 0.99 <= getattr(train, part) < expected + SLACK_MS
    parts = train.forward_ms + train.backward_ms + train.optimizer_ms
    assert parts <= train.step_ms < parts + SLACK_MS
    assert train.images_per_s == pytest.approx(4e3 / train.step_ms, rel=1e-3)


def test_infer_time_per_image():
    infer, _ = measure_infer(
        SlowModel(), dict(inputs=torch.ones(3)), SETTINGS, with_stages=False)
    assert FORWARD_MS * 0.99 <= infer.ms_per_batch < FORWARD_MS + SLACK_MS
    assert infer.ms_per_image == pytest.approx(
        infer.ms_per_batch / 4, abs=1e-3)


def test_flops_of_linear_layers():
    batch = torch.randn(4, 16)
    flops = count_flops(
        TwoLinear(),
        dict(inputs=batch),
        dict(inputs=batch),
        SETTINGS,
        with_infer=True)
    first, second = 2 * 4 * 16 * 8, 2 * 4 * 8 * 4  # one multiply-add = 2
    assert flops.forward_train == first + second
    assert flops.forward_infer == first + second
    assert flops.forward_train_by_module == dict(first=first, second=second)
    # weight gradients of both layers, input gradient of the second only
    assert flops.backward_train == first + second + second
    assert flops.train_step_3x == 3 * (first + second)


def test_out_of_memory_is_recorded_and_other_errors_raise():
    cpu = torch.device('cpu')

    def out_of_memory():
        raise torch.cuda.OutOfMemoryError('CUDA out of memory. Tried to '
                                          'allocate 2.00 GiB')

    def mismatch():
        raise RuntimeError('The size of tensor a (4) must match')

    assert measure_or_oom(cpu, out_of_memory) == (None, 'out of memory')
    assert measure_or_oom(cpu, lambda x, y=0: x + y, 1, y=2) == (3, None)
    with pytest.raises(RuntimeError, match='must match'):
        measure_or_oom(cpu, mismatch)
