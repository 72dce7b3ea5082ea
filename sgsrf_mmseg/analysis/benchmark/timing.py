"""Time a training step, inference, and any call, with their peak memory."""
import time
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import torch
import torch.nn as nn

from .meters import Clock, MemoryMeter
from .results import empty, mean
from .settings import BenchmarkSettings
from .stage_probe import SGSRF_STAGES, StageProbe, stage_table

TRAIN_FIELDS = ('step_ms', 'step_ms_min', 'images_per_s', 'forward_ms',
                'backward_ms', 'optimizer_ms', 'peak_mib', 'peak_delta_mib',
                'tflops_per_s', 'tflops_per_s_counted', 'error')
INFER_FIELDS = ('ms_per_batch', 'ms_per_image', 'images_per_s', 'peak_mib',
                'peak_delta_mib', 'tflops_per_s', 'error')
#: Name of the time after the last stage returns, per phase.
TAIL_STAGE = {'train': 'losses', 'infer': 'postprocess'}

#: One iteration: takes the clock and the stage probe (or None), returns
#: the clock timestamps between its parts, the first two around the
#: forward pass (after which it stops the probe).
Step = Callable[[Clock, Optional[StageProbe]], Sequence]


def timed_steps(
    step: Step,
    settings: BenchmarkSettings,
    probed: Optional[nn.Module] = None,
    tail: str = ''
) -> Tuple[List[float], List[List[float]], List[dict], Dict[str, float]]:
    """Run ``warmup`` untimed then ``iters`` timed iterations of ``step``.

    Args:
        step (Step): One iteration.
        settings (BenchmarkSettings): Warmup, iterations, device.
        probed (nn.Module, optional): Model whose SGSRF stages are timed
            by a :class:`StageProbe`. Defaults to None.
        tail (str): Name of the time after the last stage. Defaults to ''.

    Returns:
        tuple: Host ms of each timed iteration (between device
        synchronisations), device ms of each of its parts, its stage ms
        (empty without ``probed``), and the peak memory of the timed
        iterations.
    """
    clock = Clock(settings.torch_device)
    meter = MemoryMeter(settings.torch_device)
    probe = None if probed is None else StageProbe(probed, SGSRF_STAGES, clock)
    host_ms, parts, stages = [], [], []
    try:
        for i in range(settings.warmup + settings.iters):
            timed = i >= settings.warmup
            if i == settings.warmup:
                meter.start()
            clock.sync()
            wall = time.perf_counter()
            if probe is not None and timed:
                probe.begin()
            stamps = step(clock, probe)
            clock.sync()
            if timed:
                host_ms.append((time.perf_counter() - wall) * 1e3)
                parts.append(
                    [clock.ms(a, b) for a, b in zip(stamps, stamps[1:])])
                if probe is not None:
                    stages.append(probe.stage_ms(stamps[0], stamps[1], tail))
        memory = meter.stop()
    finally:
        if probe is not None:
            probe.remove()
    return host_ms, parts, stages, memory


def measure_train(model: nn.Module, data: dict, settings: BenchmarkSettings,
                  with_stages: bool) -> Tuple[dict, Optional[dict]]:
    """Time the training step and its parts.

    A step is the forward (``model(**data, mode='loss')`` and
    ``model.parse_losses``), the backward, and an AdamW step over the
    trainable parameters; each part is timed on the device clock, the
    whole step on the host clock around device synchronisations.

    Args:
        model (nn.Module): An mmengine model.
        data (dict): Preprocessed ``inputs`` and ``data_samples``.
        settings (BenchmarkSettings): Warmup, iterations, dtype, batch size.
        with_stages (bool): Time the forward's stages too.

    Returns:
        tuple: The ``train`` record (:data:`TRAIN_FIELDS`) and the stage
        table, or None without stages.
    """
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=1e-4, weight_decay=0.01)

    def step(clock: Clock, probe: Optional[StageProbe]) -> tuple:
        t0 = clock.now()
        with settings.autocast():
            loss, _ = model.parse_losses(model(**data, mode='loss'))
        t1 = clock.now()
        if probe is not None:
            probe.stop()
        loss.backward()
        t2 = clock.now()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        return t0, t1, t2, clock.now()

    model.train()
    try:
        steps, parts, stages, memory = timed_steps(
            step, settings, model if with_stages else None,
            TAIL_STAGE['train'])
    finally:
        optimizer.zero_grad(set_to_none=True)
    step_ms = mean(steps)
    forward_ms, backward_ms, optimizer_ms = map(mean, zip(*parts))
    result = empty(TRAIN_FIELDS)
    result.update(
        step_ms=round(step_ms, 3),
        step_ms_min=round(min(steps), 3),
        images_per_s=round(settings.batch_size * 1e3 / step_ms, 3),
        forward_ms=round(forward_ms, 3),
        backward_ms=round(backward_ms, 3),
        optimizer_ms=round(optimizer_ms, 3),
        **memory)
    return result, stage_table(stages, forward_ms) if stages else None


def measure_infer(model: nn.Module, data: dict, settings: BenchmarkSettings,
                  with_stages: bool) -> Tuple[dict, Optional[dict]]:
    """Time ``model(**data, mode='predict')`` under ``torch.no_grad``.

    Arguments and stage table as :func:`measure_train`; returns the
    ``infer`` record (:data:`INFER_FIELDS`) first.
    """

    def step(clock: Clock, probe: Optional[StageProbe]) -> tuple:
        t0 = clock.now()
        with torch.no_grad(), settings.autocast():
            model(**data, mode='predict')
        t1 = clock.now()
        if probe is not None:
            probe.stop()
        return t0, t1

    model.eval()
    batches, parts, stages, memory = timed_steps(
        step, settings, model if with_stages else None, TAIL_STAGE['infer'])
    batch_ms = mean(batches)
    result = empty(INFER_FIELDS)
    result.update(
        ms_per_batch=round(batch_ms, 3),
        ms_per_image=round(batch_ms / settings.batch_size, 3),
        images_per_s=round(settings.batch_size * 1e3 / batch_ms, 3),
        **memory)
    forward_ms = mean([p[0] for p in parts])
    return result, stage_table(stages, forward_ms) if stages else None


def time_call(fn: Callable[[], None],
              settings: BenchmarkSettings) -> Tuple[float, Dict[str, float]]:
    """Mean ms of ``fn`` after warmup, and the peak memory of the timed runs.

    Args:
        fn (Callable[[], None]): The call to time.
        settings (BenchmarkSettings): Warmup, iterations and device.

    Returns:
        tuple: Milliseconds and ``peak_mib`` / ``peak_delta_mib``.
    """

    def step(clock: Clock, probe: Optional[StageProbe]) -> tuple:
        fn()
        return ()

    times, _, _, memory = timed_steps(step, settings)
    return mean(times), memory
