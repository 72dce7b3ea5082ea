"""Run every measurement of a model config into one results record.

The model is built from the config's ``model`` dict with random weights and
fed one synthetic batch (see ``inputs``). Inference is measured before
training (it needs less memory, so each peak is its own), then FLOPs, the
towers' floor and the switch comparison, each on its own; a measurement
that runs out of memory records ``error='out of memory'`` and the run goes
on. The record and its fields: ``record.BenchmarkResults``.
"""
import platform
from typing import Optional

import torch
import torch.nn as nn
from mmengine.logging import MMLogger

from .comparisons import available_switches, compare_switches, measure_floor
from .inputs import (BenchmarkSettings, build_model, load_model_cfg,
                     make_batch, preprocess)
from .meters import empty_device_cache, measure_or_oom
from .phases import count_flops, measure_infer, measure_train
from .record import (BenchmarkResults, FlopCounts, Inference, ParamCounts,
                     StageTimes, TrainStep, ratio, tflops)

NOTES = {
    'train.step_ms':
    'forward (mode=loss) + parse_losses + backward + AdamW step, mean over '
    'iters after warmup',
    'train.tflops_per_s':
    '3 x flops.forward_train per step (backward ~ 2 x forward)',
    'train.tflops_per_s_counted':
    '(flops.forward_train + flops.backward_train) per step, as counted',
    'infer.ms_per_image':
    'mode=predict under no_grad, batch time / batch size',
    'memory':
    'cuda: max_memory_allocated (peak_mib) and its rise over the allocation '
    'at the start of the phase (peak_delta_mib); cpu: peak RSS (VmHWM reset '
    'per phase, freed heap returned with malloc_trim) and its rise over the '
    'RSS at the start of the phase; inference is measured before training',
    'flops':
    'torch.utils.flop_counter.FlopCounterMode, one multiply-add = 2 FLOPs; '
    'SDPA on CPU and the fused MultiheadAttention path are counted too',
    'stages':
    'forward hooks on every module of each stage (CUDA events on GPU); time '
    'goes to the innermost stage running; losses/postprocess = after the '
    'last stage returns; other = the rest; share = stage ms / forward ms',
    'floor':
    'open_clip.CLIP encode_image (input size) / encode_text (context '
    'length) and segment_anything ImageEncoderViT (own attention), built '
    'from the config; forward in eval under no_grad, forward+backward of '
    'the output mean in train mode',
    'compare':
    'training step of a fresh model with one switch flipped (baseline: '
    'none flipped, no stage hooks); speedup = baseline ms / variant ms',
}


def count_params(model: nn.Module) -> ParamCounts:
    """Total and trainable parameters, and per top-level module."""
    by_module = {}
    for name, child in model.named_children():
        n = sum(p.numel() for p in child.parameters())
        if n:
            by_module[name] = n
    return ParamCounts(
        total=sum(p.numel() for p in model.parameters()),
        trainable=sum(p.numel() for p in model.parameters()
                      if p.requires_grad),
        by_module=by_module)


def device_name(device: torch.device) -> str:
    """A readable name of the device."""
    if device.type == 'cuda':
        return torch.cuda.get_device_name(device)
    try:
        with open('/proc/cpuinfo') as f:
            for line in f:
                if line.startswith('model name'):
                    return line.split(':', 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _phase(record: type, measure, model, data, settings, with_stages):
    """``(record, stage table)`` of a timed phase; an empty record on OOM."""
    measured, error = measure_or_oom(settings.torch_device, measure, model,
                                     data, settings, with_stages)
    return measured or (record(error=error), None)


def _add_rates(results: BenchmarkResults) -> None:
    """Achieved TFLOP/s of the timed phases, from the FLOP counts."""
    train, infer = results.train, results.infer
    flops = results.flops or FlopCounts()
    train.tflops_per_s = tflops(flops.train_step_3x, train.step_ms)
    if flops.forward_train is not None:
        train.tflops_per_s_counted = tflops(
            flops.forward_train + flops.backward_train, train.step_ms)
    if infer is not None:
        infer.tflops_per_s = tflops(flops.forward_infer, infer.ms_per_batch)


def run(settings: BenchmarkSettings,
        command: Optional[str] = None) -> BenchmarkResults:
    """Run every measurement the settings ask for.

    Args:
        settings (BenchmarkSettings): The run.
        command (str, optional): The command line, recorded. Defaults to
            None.

    Returns:
        BenchmarkResults: The results.
    """
    MMLogger.get_instance('benchmark', log_level='WARNING')
    torch.manual_seed(settings.seed)
    device = settings.torch_device
    skip = set(settings.skip)
    model_cfg, size = load_model_cfg(settings)
    batch = make_batch(settings.batch_size, size, settings.seed)
    texts = [s.metainfo['text'] for s in batch['data_samples']]
    model = build_model(model_cfg, device)
    params = count_params(model)
    train_data = preprocess(model, batch, True)
    infer_data = preprocess(model, batch, False)
    with_stages = 'stages' not in skip
    stages = StageTimes()
    infer = None
    if 'infer' not in skip:
        infer, stages.infer = _phase(Inference, measure_infer, model,
                                     infer_data, settings, with_stages)
    train, stages.train = _phase(TrainStep, measure_train, model, train_data,
                                 settings, with_stages)
    flops = None
    if 'flops' not in skip:
        flops, error = measure_or_oom(device, count_flops, model, train_data,
                                      infer_data, settings, 'infer'
                                      not in skip)
        flops = flops or FlopCounts(error=error)
    variants = (
        available_switches(model_cfg, model, settings.compare)
        if settings.compare is not None else None)
    del model, train_data, infer_data
    empty_device_cache(device)
    results = BenchmarkResults(
        config=settings.config,
        device=device.type,
        device_name=device_name(device),
        dtype=settings.dtype,
        batch_size=settings.batch_size,
        input_size=size,
        params=params,
        train=train,
        torch=torch.__version__,
        threads=torch.get_num_threads(),
        warmup=settings.warmup,
        iters=settings.iters,
        texts=texts,
        infer=infer,
        flops=flops,
        stages=stages,
        command=command,
        notes=NOTES)
    _add_rates(results)
    if 'floor' not in skip:
        floor = measure_floor(model_cfg, size, texts, settings)
        floor.train_step_over_floor = ratio(train.step_ms,
                                            floor.total.forward_backward_ms)
        floor.predict_over_floor = ratio((infer or Inference()).ms_per_batch,
                                         floor.total.forward_ms)
        results.floor = floor
    if variants is not None:
        results.compare = compare_switches(model_cfg, variants, batch,
                                           settings)
    return results
