"""Run every measurement of a model config and return one results dict.

The model is built from the config's ``model`` dict with random weights
(every ``pretrained`` path and ``Pretrained`` init is dropped, nothing is
read or downloaded) and fed one synthetic batch (``synthetic_batch``).
Inference is measured before training (it needs less memory, so each peak
is its own), then FLOPs, the towers' floor and the switch comparison, each
on its own; a measurement that runs out of memory records
``error='out of memory'`` and the run goes on.

The results dict (written as JSON by ``tools/analysis/benchmark.py``).
Times are milliseconds, memory MiB; a field is null where it was not
measured (``--skip``, an error, or a part the config lacks):

* run: ``config`` (path as given), ``device`` ('cpu' | 'cuda'),
  ``device_name``, ``torch`` (version), ``threads``, ``dtype`` ('fp32' |
  'bf16': forward passes under ``torch.autocast``), ``batch_size``,
  ``input_size`` (square, px), ``warmup``, ``iters``, ``texts`` (the
  batch's expressions), ``notes`` (one line per measure: what it is).
* ``params``: ``total``, ``trainable``, ``by_module`` (top-level module ->
  parameter count).
* ``train``: ``step_ms`` (forward with ``mode='loss'`` + ``parse_losses`` +
  backward + AdamW step, mean of ``iters`` after ``warmup``),
  ``step_ms_min``, ``images_per_s``, its parts ``forward_ms``,
  ``backward_ms``, ``optimizer_ms``, ``peak_mib`` and ``peak_delta_mib``
  (see ``meters.MemoryMeter``), ``tflops_per_s`` (``flops.train_step_3x``
  per step), ``tflops_per_s_counted`` (counted forward + backward FLOPs per
  step), ``error``.
* ``infer`` (null with ``--skip infer``): ``ms_per_batch``, ``ms_per_image``,
  ``images_per_s`` (``mode='predict'`` under ``no_grad``), ``peak_mib``,
  ``peak_delta_mib``, ``tflops_per_s``, ``error``.
* ``flops`` (null with ``--skip flops``; per batch, a multiply-add = 2):
  ``forward_train``, ``backward_train`` (as counted; frozen parts make it
  less than 2 x forward), ``train_step_3x`` (3 x ``forward_train``, the
  usual estimate of a step), ``forward_infer``, ``forward_train_by_module``
  (the model's children and grandchildren that ran -> FLOPs), ``error``.
* ``stages``: ``train`` and ``infer`` (null with ``--skip stages``), each
  stage -> ``ms`` and ``share`` (of the forward time). Stages, where the
  model has them: ``clip_image``, ``clip_text``, ``ccr``, ``gpg``,
  ``sam_encoder`` (with the grounding adapters), ``sam_prompt_decoder``
  (SAM's prompt encoder and mask decoder), then ``losses`` (train) or
  ``postprocess`` (infer): the time after the last stage returns, and
  ``other``: the rest (see ``stage_probe.StageProbe``).
* ``floor`` (null with ``--skip floor``): ``clip_image``, ``clip_text``,
  ``sam_image_encoder``, each ``forward_ms``, ``forward_backward_ms``,
  ``peak_mib``, ``error`` (see ``towers_floor``); ``total`` with
  ``forward_ms`` and ``forward_backward_ms``; ``train_step_over_floor``
  (``train.step_ms`` / total forward+backward) and ``predict_over_floor``
  (``infer.ms_per_batch`` / total forward).
* ``compare`` (null without ``--compare``): ``baseline`` then each switch,
  each ``changes`` (dotted ``module.argument`` -> value), ``step_ms``,
  ``images_per_s``, ``peak_mib``, ``peak_delta_mib``, ``speedup``
  (baseline ms / this ms), ``error``; every entry is a fresh model timed
  without stage hooks.
"""
import platform

import torch
import torch.nn as nn
from mmengine.logging import MMLogger

from .flops import FLOP_FIELDS, count_flops
from .model_config import build_model, load_model_cfg
from .out_of_memory import empty_device_cache, measure_or_oom
from .results import empty, ratio, tflops
from .settings import BenchmarkSettings
from .switches import available_switches, compare_switches
from .synthetic_batch import make_batch, preprocess
from .timing import INFER_FIELDS, TRAIN_FIELDS, measure_infer, measure_train
from .towers_floor import measure_floor

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


def count_params(model: nn.Module) -> dict:
    """Total and trainable parameters, and per top-level module."""
    by_module = {}
    for name, child in model.named_children():
        n = sum(p.numel() for p in child.parameters())
        if n:
            by_module[name] = n
    return dict(
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


def _phase(fields, measure, model, data, settings, with_stages):
    """``(record, stage table)`` of a timed phase; an empty record on OOM."""
    measured, error = measure_or_oom(settings.torch_device, measure, model,
                                     data, settings, with_stages)
    return measured or (dict(empty(fields), error=error), None)


def _add_rates(results: dict) -> None:
    """Achieved TFLOP/s of the timed phases, from the FLOP counts."""
    train, infer = results['train'], results['infer']
    flops = results['flops'] or empty(FLOP_FIELDS)
    train['tflops_per_s'] = tflops(flops['train_step_3x'], train['step_ms'])
    if flops['forward_train'] is not None:
        train['tflops_per_s_counted'] = tflops(
            flops['forward_train'] + flops['backward_train'], train['step_ms'])
    if infer is not None:
        infer['tflops_per_s'] = tflops(flops['forward_infer'],
                                       infer['ms_per_batch'])


def run(settings: BenchmarkSettings) -> dict:
    """Run every measurement the settings ask for.

    Args:
        settings (BenchmarkSettings): The run.

    Returns:
        dict: The results (fields in the module docstring).
    """
    MMLogger.get_instance('benchmark', log_level='WARNING')
    torch.manual_seed(settings.seed)
    device = settings.torch_device
    skip = set(settings.skip)
    model_cfg, size = load_model_cfg(settings)
    batch = make_batch(settings.batch_size, size, settings.seed)
    texts = [s.metainfo['text'] for s in batch['data_samples']]
    model = build_model(model_cfg, device)
    results = dict(
        config=settings.config,
        device=device.type,
        device_name=device_name(device),
        torch=torch.__version__,
        threads=torch.get_num_threads(),
        dtype=settings.dtype,
        batch_size=settings.batch_size,
        input_size=size,
        warmup=settings.warmup,
        iters=settings.iters,
        texts=texts,
        params=count_params(model),
        train=None,
        infer=None,
        flops=None,
        stages=dict(train=None, infer=None),
        floor=None,
        compare=None,
        notes=NOTES)
    train_data = preprocess(model, batch, True)
    infer_data = preprocess(model, batch, False)
    with_stages = 'stages' not in skip
    if 'infer' not in skip:
        results['infer'], results['stages']['infer'] = _phase(
            INFER_FIELDS, measure_infer, model, infer_data, settings,
            with_stages)
    results['train'], results['stages']['train'] = _phase(
        TRAIN_FIELDS, measure_train, model, train_data, settings, with_stages)
    if 'flops' not in skip:
        flops, error = measure_or_oom(device, count_flops, model, train_data,
                                      infer_data, settings, 'infer'
                                      not in skip)
        results['flops'] = flops or dict(empty(FLOP_FIELDS), error=error)
    variants = (
        available_switches(model_cfg, model, settings.compare)
        if settings.compare is not None else None)
    del model, train_data, infer_data
    empty_device_cache(device)
    _add_rates(results)

    if 'floor' not in skip:
        floor = measure_floor(model_cfg, size, texts, settings)
        floor['train_step_over_floor'] = ratio(
            results['train']['step_ms'], floor['total']['forward_backward_ms'])
        floor['predict_over_floor'] = ratio((results['infer']
                                             or {}).get('ms_per_batch'),
                                            floor['total']['forward_ms'])
        results['floor'] = floor
    if variants is not None:
        results['compare'] = compare_switches(model_cfg, variants, batch,
                                              settings)
    return results
