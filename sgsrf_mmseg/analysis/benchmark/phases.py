"""The measurements of one model: its training step, inference and FLOPs,
and the time of any call, with their peak memory."""
import time
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import torch
import torch.nn as nn
from torch.utils.flop_counter import (FlopCounterMode,
                                      sdpa_backward_flop_count,
                                      sdpa_flop_count)

from .inputs import BenchmarkSettings
from .meters import SGSRF_STAGES, Clock, MemoryMeter, StageProbe, stage_table
from .record import FlopCounts, Inference, StageTime, TrainStep, mean

#: Name of the time after the last stage returns, per phase.
TAIL_STAGE = {'train': 'losses', 'infer': 'postprocess'}
StageTable = Optional[Dict[str, StageTime]]

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
                  with_stages: bool) -> Tuple[TrainStep, StageTable]:
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
        tuple: The training step (its ``tflops_*`` left to the caller) and
        the stage table, or None without stages.
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
    result = TrainStep(
        step_ms=round(step_ms, 3),
        step_ms_min=round(min(steps), 3),
        images_per_s=round(settings.batch_size * 1e3 / step_ms, 3),
        forward_ms=round(forward_ms, 3),
        backward_ms=round(backward_ms, 3),
        optimizer_ms=round(optimizer_ms, 3),
        **memory)
    return result, stage_table(stages, forward_ms) if stages else None


def measure_infer(model: nn.Module, data: dict, settings: BenchmarkSettings,
                  with_stages: bool) -> Tuple[Inference, StageTable]:
    """Time ``model(**data, mode='predict')`` under ``torch.no_grad``.

    Arguments and stage table as :func:`measure_train`; returns the
    inference (its ``tflops_per_s`` left to the caller) first.
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
    result = Inference(
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


def _sdpa_cpu_flops(query, key, value, *args, **kwargs) -> int:
    """FLOPs of the CPU flash-attention kernel (as the CUDA kernels)."""
    return sdpa_flop_count(query, key, value)


def _sdpa_cpu_backward_flops(grad_out, query, key, value, *args,
                             **kwargs) -> int:
    """FLOPs of the CPU flash-attention backward."""
    return sdpa_backward_flop_count(grad_out, query, key, value)


def _native_mha_flops(query, key, value, embed_dim, num_heads, *args,
                      **kwargs) -> int:
    """FLOPs of ``nn.MultiheadAttention``'s fused inference path."""
    batch = query[0] if len(query) == 3 else 1
    q_len, k_len = query[-2], key[-2]
    proj = 2 * batch * embed_dim * embed_dim * (2 * q_len + 2 * k_len)
    return proj + 4 * batch * q_len * k_len * embed_dim


def flop_counter() -> FlopCounterMode:
    """A ``FlopCounterMode`` that also counts the CPU attention kernels."""
    aten = torch.ops.aten
    return FlopCounterMode(
        display=False,
        custom_mapping={
            aten._scaled_dot_product_flash_attention_for_cpu: _sdpa_cpu_flops,
            aten._scaled_dot_product_flash_attention_for_cpu_backward:
            _sdpa_cpu_backward_flops,
            aten._native_multi_head_attention: _native_mha_flops,
        })


def count_flops(model: nn.Module, train_data: dict, infer_data: dict,
                settings: BenchmarkSettings, with_infer: bool) -> FlopCounts:
    """FLOPs of one training forward, its backward, one inference forward.

    A multiply-add counts 2 FLOPs (``torch.utils.flop_counter``).

    Args:
        model (nn.Module): An mmengine model.
        train_data (dict): Preprocessed training batch.
        infer_data (dict): Preprocessed inference batch.
        settings (BenchmarkSettings): The dtype.
        with_infer (bool): Count the inference forward too.

    Returns:
        FlopCounts: The counts; ``forward_train_by_module`` maps the
        model's children and grandchildren that ran to their forward FLOPs.
    """
    result = FlopCounts()
    model.train()
    with flop_counter() as counter, settings.autocast():
        loss, _ = model.parse_losses(model(**train_data, mode='loss'))
    result.forward_train = counter.get_total_flops()
    result.train_step_3x = 3 * result.forward_train
    result.forward_train_by_module = {
        name.split('.', 1)[1]: sum(ops.values())
        for name, ops in counter.get_flop_counts().items()
        if name.count('.') in (1, 2)
    }
    with flop_counter() as counter:
        loss.backward()
    result.backward_train = counter.get_total_flops()
    model.zero_grad(set_to_none=True)
    del loss
    if with_infer:
        model.eval()
        with flop_counter() as counter, torch.no_grad(), settings.autocast():
            model(**infer_data, mode='predict')
        result.forward_infer = counter.get_total_flops()
    return result
