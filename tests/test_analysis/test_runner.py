import os.path as osp

import pytest
import torch

from sgsrf_mmseg.analysis.benchmark import (BenchmarkSettings, comparisons,
                                            render, run, runner)

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
TINY = osp.join(REPO, 'configs', '_base_', 'models', 'sgsrf_tiny.py')


def out_of_memory(*args, **kwargs):
    raise torch.cuda.OutOfMemoryError('CUDA out of memory')


@pytest.mark.slow
def test_out_of_memory_is_recorded_and_the_run_goes_on(monkeypatch):
    variants = []

    def baseline_out_of_memory(*args, **kwargs):
        variants.append(args)
        if len(variants) == 1:
            out_of_memory()
        return measure_train(*args, **kwargs)

    measure_train = comparisons.measure_train
    monkeypatch.setattr(runner, 'measure_train', out_of_memory)
    monkeypatch.setattr(comparisons, 'measure_train', baseline_out_of_memory)
    results = run(
        BenchmarkSettings(
            TINY,
            device='cpu',
            batch_size=1,
            input_size=32,
            iters=1,
            warmup=0,
            skip=['infer', 'flops', 'floor', 'stages'],
            compare=['use_sdpa']))
    assert results.train.error == 'out of memory'
    assert results.train.step_ms is None
    assert results.compare['baseline'].error == 'out of memory'
    assert results.compare['use_sdpa'].error is None
    assert results.compare['use_sdpa'].step_ms > 0
    assert 'out of memory' in render(results)
