"""Measure the speed, memory and FLOPs of a model config.

The model is built from the config's ``model`` dict with random weights
(every ``pretrained`` path and ``Pretrained`` init is dropped, nothing is
read or downloaded) and fed one synthetic batch: random 0..255 images, random
short English expressions in ``metainfo['text']`` and random binary masks in
``gt_sem_seg``, passed once through the model's data preprocessor and then
reused, so that the numbers are those of the model, not of data loading.

Measured in one run:

* training step: forward (``mode='loss'``) + ``parse_losses`` + backward +
  AdamW step over the trainable parameters; ms/step and images/s, with the
  forward, backward and optimizer parts.
* inference: ``mode='predict'`` under ``torch.no_grad``; ms/image, images/s.
* peak memory of each phase: on CUDA ``torch.cuda.max_memory_allocated``
  (``peak_mib``) and its rise over the memory allocated when the phase began
  (``peak_delta_mib``); on CPU the peak resident set size (VmHWM, reset
  through ``/proc/self/clear_refs``; else ``ru_maxrss``) and its rise over the
  resident size when the phase began.
* FLOPs of one forward (``torch.utils.flop_counter.FlopCounterMode``; a
  multiply-add counts 2), in training and in inference mode, and the FLOPs
  of one backward as counted. Achieved TFLOP/s of training use the usual
  estimate ``3 x forward FLOPs`` per step (backward ~ 2 x forward; frozen
  parts make the real backward smaller, see ``tflops_per_s_counted``).
* time per stage, as shares of the forward time: hooks on the segmentor's
  submodules (CLIP image tower, CLIP text tower, CCR, GPG, SAM image encoder
  with its adapters, prompt handling + mask decoder, then losses or
  post-processing) take timestamps, CUDA events on a GPU (no extra
  synchronisation) and host clocks on a CPU.
* the floor: the two towers as their libraries write them, built from the
  same config: ``open_clip.CLIP`` (``encode_image`` at the input size,
  ``encode_text`` at the CLIP context length) and segment_anything's
  ``ImageEncoderViT`` with its own attention; forward (eval, no grad) and
  forward + backward (of the output's mean).
* with ``--compare``: the training step with each optimisation switch of the
  config flipped, one at a time (SDPA attention in SAM, activation
  checkpointing, frozen encoders, text padding trim).

``--dtype bf16`` runs forward passes under ``torch.autocast`` (bfloat16).

Example::

    python tools/analysis/benchmark.py configs/_base_/models/sgsrf_tiny.py \
        --batch-size 8 --iters 5 --compare --out work_dirs/bench_tiny.json
"""
import argparse
import copy
import ctypes
import gc
import inspect
import json
import os
import os.path as osp
import platform
import random
import resource
import sys
import time
from contextlib import nullcontext
from typing import Callable, Dict, List, Optional, Sequence, Tuple

sys.path.insert(
    0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))

import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
from mmengine.config import Config, ConfigDict, DictAction  # noqa: E402
from mmengine.logging import MMLogger  # noqa: E402
from mmengine.registry import init_default_scope  # noqa: E402
from mmengine.structures import PixelData  # noqa: E402
from torch.utils.flop_counter import (FlopCounterMode,  # noqa: E402
                                      sdpa_backward_flop_count,
                                      sdpa_flop_count)

import sgsrf_mmseg  # noqa: E402,F401
from mmseg.registry import MODELS  # noqa: E402
from mmseg.structures import SegDataSample  # noqa: E402

MIB = 2**20

#: Forward stages: (name, start module, start hook, end module, end hook).
#: Module paths are relative to the segmentor; missing modules are skipped.
STAGES: Tuple[Tuple[str, str, str, str, str], ...] = (
    ('clip_image', 'image_encoder', 'pre', 'image_encoder', 'post'),
    ('clip_text', 'text_encoder', 'pre', 'text_encoder', 'post'),
    ('ccr', 'refiner', 'pre', 'refiner', 'post'),
    ('gpg', 'prompt_generator', 'pre', 'prompt_generator', 'post'),
    ('sam_encoder', 'decode_head', 'pre', 'decode_head.image_encoder.neck',
     'post'),
    ('sam_prompt_decoder', 'decode_head.image_encoder.neck', 'post',
     'decode_head', 'post'),
)
#: The stage from the head's output to the end of the forward.
TAIL_STAGE = {'train': 'losses', 'infer': 'postprocess'}

#: Optimisation switches: name -> (module key, argument, kind). ``toggle``
#: flips a bool; ``freeze`` sets ``frozen_stages`` to the tower's depth.
SWITCHES: Dict[str, Tuple[Tuple[str, str, str], ...]] = {
    'use_sdpa': (('decode_head', 'use_sdpa', 'toggle'), ),
    'clip_grad_checkpointing':
    (('image_encoder', 'grad_checkpointing', 'toggle'), ),
    'sam_grad_checkpointing':
    (('decode_head', 'grad_checkpointing', 'toggle'), ),
    'text_trim_padding': (('text_encoder', 'trim_padding', 'toggle'), ),
    'freeze_clip_image': (('image_encoder', 'frozen_stages', 'freeze'), ),
    'freeze_clip_text': (('text_encoder', 'frozen_stages', 'freeze'), ),
    'freeze_sam_encoder': (('decode_head', 'frozen_stages', 'freeze'), ),
    'freeze_encoders': (('image_encoder', 'frozen_stages', 'freeze'),
                        ('text_encoder', 'frozen_stages', 'freeze'),
                        ('decode_head', 'frozen_stages', 'freeze')),
}

COLOURS = ('white', 'red', 'blue', 'grey', 'dark', 'green', 'large', 'small')
OBJECTS = ('car', 'vehicle', 'building', 'storage tank', 'pond', 'truck',
           'roof', 'road', 'ship', 'tennis court')
PLACES = ('on the left', 'on the right', 'at the top', 'at the bottom right',
          'in the middle', 'near the road', 'next to the pond',
          'beside the large building')

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
    'forward-time shares from forward hooks (CUDA events on GPU); share = '
    'stage ms / forward ms; other = forward not covered by a stage',
    'floor':
    'open_clip.CLIP encode_image (input size) / encode_text (context '
    'length) and segment_anything ImageEncoderViT (own attention), built '
    'from the config; forward in eval under no_grad, forward+backward of '
    'the output mean in train mode',
    'compare':
    'training step of a fresh model with one switch flipped (baseline: '
    'none flipped, no stage hooks); speedup = baseline ms / variant ms',
}


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    """Parse the command line."""
    parser = argparse.ArgumentParser(
        description='Benchmark training/inference speed, memory and FLOPs')
    parser.add_argument('config', help='config file with a model dict')
    parser.add_argument(
        '--device', default='cuda' if torch.cuda.is_available() else 'cpu',
        choices=['cpu', 'cuda'], help='device (default: cuda if available)')
    parser.add_argument(
        '--dtype', default='fp32', choices=['fp32', 'bf16'],
        help='bf16 runs forward passes under torch.autocast')
    parser.add_argument('--batch-size', type=int, default=8)
    parser.add_argument(
        '--input-size', type=int, default=None,
        help='square input size; also sets the CLIP and SAM image sizes '
        '(default: the data preprocessor size of the config)')
    parser.add_argument('--iters', type=int, default=10,
                        help='timed iterations per measurement')
    parser.add_argument('--warmup', type=int, default=2,
                        help='untimed iterations before each measurement')
    parser.add_argument(
        '--compare', nargs='*', default=None,
        choices=sorted(SWITCHES),
        help='measure the training step with each switch flipped; without '
        'names: every switch the config offers')
    parser.add_argument(
        '--skip', nargs='+', default=[],
        choices=['infer', 'flops', 'stages', 'floor'],
        help='measurements to leave out (their JSON fields are null)')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--out', help='write the results to this JSON file')
    parser.add_argument(
        '--cfg-options', nargs='+', action=DictAction,
        help='override settings of the config, key=value')
    args = parser.parse_args(argv)
    if args.device == 'cuda' and not torch.cuda.is_available():
        parser.error('--device cuda: no CUDA device is available')
    if args.iters < 1 or args.warmup < 0 or args.batch_size < 1:
        parser.error('--iters and --batch-size must be >= 1, --warmup >= 0')
    return args


# --------------------------------------------------------------- config --


def strip_weights(cfg) -> None:
    """Drop ``pretrained`` paths and ``Pretrained`` inits, in place."""
    if isinstance(cfg, dict):
        if 'pretrained' in cfg:
            cfg['pretrained'] = None
        init_cfg = cfg.get('init_cfg')
        if isinstance(init_cfg, dict) and init_cfg.get('type') == \
                'Pretrained':
            cfg['init_cfg'] = None
        elif isinstance(init_cfg, list):
            cfg['init_cfg'] = [
                c for c in init_cfg if c.get('type') != 'Pretrained'
            ] or None
        for value in cfg.values():
            strip_weights(value)
    elif isinstance(cfg, (list, tuple)):
        for value in cfg:
            strip_weights(value)


def arg_value(module_cfg: dict, name: str):
    """``module_cfg[name]``, else the default of the registered class."""
    if name in module_cfg:
        return module_cfg[name]
    params = inspect.signature(MODELS.get(module_cfg['type'])).parameters
    return params[name].default if name in params else None


def accepts(module_cfg: Optional[dict], name: str) -> bool:
    """Whether the registered class of ``module_cfg`` takes ``name``."""
    if not isinstance(module_cfg, dict) or 'type' not in module_cfg:
        return False
    cls = MODELS.get(module_cfg['type'])
    return cls is not None and name in inspect.signature(cls).parameters


def input_size_of(model_cfg: dict) -> int:
    """The config's input size (data preprocessor ``size``), else 512."""
    size = (model_cfg.get('data_preprocessor') or {}).get('size')
    if size is None:
        return 512
    if isinstance(size, int):
        return size
    if size[0] != size[1]:
        raise ValueError(f'model.data_preprocessor.size={size} is not '
                         'square; pass --input-size')
    return int(size[0])


def set_input_size(model_cfg: dict, size: int) -> None:
    """Make the preprocessor, CLIP image tower and SAM use ``size``."""
    if model_cfg.get('data_preprocessor') is not None:
        model_cfg['data_preprocessor']['size'] = (size, size)
    image_cfg = model_cfg.get('image_encoder')
    if accepts(image_cfg, 'img_size'):
        image_cfg['img_size'] = size
        if isinstance(image_cfg.get('vision_cfg'), dict):
            image_cfg['vision_cfg']['image_size'] = size
    head_cfg = model_cfg.get('decode_head')
    if accepts(head_cfg, 'sam'):
        head_cfg['sam'] = dict(arg_value(head_cfg, 'sam'), img_size=size)


def load_model_cfg(args: argparse.Namespace) -> Tuple[ConfigDict, int]:
    """Read the config, apply the options; return the model cfg and size."""
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    if not isinstance(cfg.get('model'), dict):
        raise ValueError(f'{args.config} has no model dict')
    init_default_scope(cfg.get('default_scope', 'mmseg'))
    model_cfg = copy.deepcopy(cfg.model)
    strip_weights(model_cfg)
    size = args.input_size or input_size_of(model_cfg)
    set_input_size(model_cfg, size)
    return model_cfg, size


def build_model(model_cfg: dict, device: torch.device) -> nn.Module:
    """Build and randomly initialise the model on ``device``."""
    model = MODELS.build(copy.deepcopy(model_cfg))
    model.init_weights()
    return model.to(device)


# ----------------------------------------------------------------- data --


def make_batch(batch_size: int, size: int, seed: int) -> dict:
    """Random images (uint8), expressions and binary masks as a data batch.

    Args:
        batch_size (int): Number of samples.
        size (int): Image height and width.
        seed (int): Seed of the texts and masks.

    Returns:
        dict: ``inputs`` (list of (3, size, size) uint8) and
        ``data_samples`` (``SegDataSample`` with text and shapes).
    """
    rng = random.Random(seed)
    gen = torch.Generator().manual_seed(seed)
    inputs, samples = [], []
    for _ in range(batch_size):
        inputs.append(
            torch.randint(0, 256, (3, size, size), generator=gen,
                          dtype=torch.uint8))
        text = (f'the {rng.choice(COLOURS)} {rng.choice(OBJECTS)} '
                f'{rng.choice(PLACES)}')
        y0, x0 = rng.randrange(size // 2), rng.randrange(size // 2)
        h, w = rng.randint(1, size // 2), rng.randint(1, size // 2)
        mask = torch.zeros(1, size, size, dtype=torch.long)
        mask[:, y0:y0 + h, x0:x0 + w] = 1
        sample = SegDataSample(
            metainfo=dict(
                text=text,
                img_shape=(size, size),
                ori_shape=(size, size),
                pad_shape=(size, size),
                scale_factor=(1.0, 1.0),
                flip=False,
                flip_direction=None))
        sample.gt_sem_seg = PixelData(data=mask)
        samples.append(sample)
    return dict(inputs=inputs, data_samples=samples)


def preprocess(model: nn.Module, batch: dict, training: bool) -> dict:
    """Run the model's data preprocessor (or stack and move the images)."""
    preprocessor = getattr(model, 'data_preprocessor', None)
    if preprocessor is not None:
        return preprocessor(copy.deepcopy(batch), training)
    device = next(model.parameters()).device
    return dict(
        inputs=torch.stack(batch['inputs']).float().to(device),
        data_samples=[s.to(device) for s in batch['data_samples']])


# -------------------------------------------------------- timing, memory --


class Clock:
    """Timestamps: CUDA events on a GPU, the host clock on a CPU."""

    def __init__(self, device: torch.device):
        self.cuda = device.type == 'cuda'

    def now(self):
        """A timestamp (recorded into the current stream on CUDA)."""
        if self.cuda:
            event = torch.cuda.Event(enable_timing=True)
            event.record()
            return event
        return time.perf_counter()

    def ms(self, start, end) -> float:
        """Milliseconds between two timestamps (after :meth:`sync`)."""
        if self.cuda:
            return start.elapsed_time(end)
        return (end - start) * 1e3

    def sync(self) -> None:
        """Wait for the device."""
        if self.cuda:
            torch.cuda.synchronize()


def _proc_status_kib(field: str) -> Optional[int]:
    """A ``kB`` field of /proc/self/status, or None."""
    try:
        with open('/proc/self/status') as f:
            for line in f:
                if line.startswith(field + ':'):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def release_free_heap() -> None:
    """Return freed heap memory to the OS (glibc), so RSS follows use."""
    try:
        ctypes.CDLL('libc.so.6').malloc_trim(0)
    except (OSError, AttributeError):
        pass


class MemoryMeter:
    """Peak memory of a phase (see the module docstring)."""

    def __init__(self, device: torch.device):
        self.cuda = device.type == 'cuda'
        self.start_bytes = 0
        self.use_hwm = False

    def start(self) -> None:
        """Reset the peak and remember the current use."""
        if self.cuda:
            torch.cuda.synchronize()
            torch.cuda.reset_peak_memory_stats()
            self.start_bytes = torch.cuda.memory_allocated()
            return
        gc.collect()
        release_free_heap()
        try:
            with open('/proc/self/clear_refs', 'w') as f:
                f.write('5')
            self.use_hwm = _proc_status_kib('VmHWM') is not None
        except OSError:
            self.use_hwm = False
        rss = _proc_status_kib('VmRSS')
        if self.use_hwm and rss is not None:
            self.start_bytes = rss * 1024
        else:
            self.start_bytes = resource.getrusage(
                resource.RUSAGE_SELF).ru_maxrss * 1024

    def stop(self) -> Dict[str, float]:
        """``peak_mib`` and ``peak_delta_mib`` since :meth:`start`."""
        if self.cuda:
            torch.cuda.synchronize()
            peak = torch.cuda.max_memory_allocated()
        elif self.use_hwm:
            peak = _proc_status_kib('VmHWM') * 1024
        else:
            peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
        return dict(
            peak_mib=round(peak / MIB, 1),
            peak_delta_mib=round(max(0, peak - self.start_bytes) / MIB, 1))


def empty_device_cache(device: torch.device) -> None:
    """Free cached memory between measurements."""
    gc.collect()
    if device.type == 'cuda':
        torch.cuda.empty_cache()


def is_oom(error: BaseException) -> bool:
    """Whether ``error`` is an out-of-memory error."""
    return isinstance(error, torch.cuda.OutOfMemoryError) or (
        isinstance(error, RuntimeError) and 'out of memory' in str(error))


def autocast(device: torch.device, dtype: str):
    """``torch.autocast`` for bf16, else a null context."""
    if dtype == 'bf16':
        return torch.autocast(device.type, dtype=torch.bfloat16)
    return nullcontext()


def mean(values: Sequence[float]) -> float:
    """Arithmetic mean."""
    return sum(values) / len(values)


# --------------------------------------------------------------- stages --


class StageProbe:
    """Timestamps at the forward hooks of the stage modules.

    Args:
        model (nn.Module): The segmentor.
        clock (Clock): Timestamp source.
    """

    def __init__(self, model: nn.Module, clock: Clock):
        self.clock = clock
        self.active = False
        self.marks: Dict[Tuple[str, str], list] = {}
        self.stages = []
        self.handles = []
        modules = dict(model.named_modules())
        for name, start_path, start_kind, end_path, end_kind in STAGES:
            if start_path in modules and end_path in modules:
                self.stages.append(
                    (name, (start_path, start_kind), (end_path, end_kind)))
        keys = {key for _, start, end in self.stages for key in (start, end)}
        self.has_head = 'decode_head' in modules
        if self.has_head:
            keys.add(('decode_head', 'post'))
        for path, kind in sorted(keys):
            self.marks[(path, kind)] = []
            record = self._recorder((path, kind))
            if kind == 'pre':
                handle = modules[path].register_forward_pre_hook(
                    lambda module, args, record=record: record())
            else:
                handle = modules[path].register_forward_hook(
                    lambda module, args, out, record=record: record())
            self.handles.append(handle)

    def _recorder(self, key: Tuple[str, str]) -> Callable[[], None]:
        """A function that appends a timestamp to ``marks[key]``."""

        def record():
            if self.active:
                self.marks[key].append(self.clock.now())

        return record

    def begin(self) -> None:
        """Start recording one forward."""
        for marks in self.marks.values():
            marks.clear()
        self.active = True

    def end(self, forward_start, forward_end, tail: str) -> Dict[str, float]:
        """Stage milliseconds of the recorded forward (after a sync).

        Args:
            forward_start: Timestamp before the forward.
            forward_end: Timestamp after the forward (and the losses).
            tail (str): Name of the stage from the head's output to
                ``forward_end``.

        Returns:
            dict[str, float]: Milliseconds per stage, with ``other``.
        """
        self.active = False
        ms = {}
        for name, start, end in self.stages:
            ms[name] = sum(
                self.clock.ms(s, e)
                for s, e in zip(self.marks[start], self.marks[end]))
        head_out = self.marks.get(('decode_head', 'post'))
        if self.has_head and head_out:
            ms[tail] = self.clock.ms(head_out[-1], forward_end)
        total = self.clock.ms(forward_start, forward_end)
        ms['other'] = max(0.0, total - sum(ms.values()))
        return ms

    def remove(self) -> None:
        """Remove the hooks."""
        for handle in self.handles:
            handle.remove()


def stage_table(per_iter: List[Dict[str, float]],
                forward_ms: float) -> Dict[str, dict]:
    """Mean ms and share of the forward per stage."""
    names = list(per_iter[0])
    return {
        name:
        dict(
            ms=round(mean([it[name] for it in per_iter]), 3),
            share=round(
                mean([it[name] for it in per_iter]) / forward_ms, 4)
            if forward_ms > 0 else None)
        for name in names
    }


# ------------------------------------------------------------ measuring --


TRAIN_FIELDS = ('step_ms', 'step_ms_min', 'images_per_s', 'forward_ms',
                'backward_ms', 'optimizer_ms', 'peak_mib', 'peak_delta_mib',
                'tflops_per_s', 'tflops_per_s_counted', 'error')
INFER_FIELDS = ('ms_per_batch', 'ms_per_image', 'images_per_s', 'peak_mib',
                'peak_delta_mib', 'tflops_per_s', 'error')
FLOP_FIELDS = ('forward_train', 'backward_train', 'train_step_3x',
               'forward_infer', 'forward_train_by_module')
FLOOR_PART_FIELDS = ('forward_ms', 'forward_backward_ms', 'peak_mib',
                     'error')


def empty(fields: Sequence[str]) -> dict:
    """A result with every field set to None."""
    return {field: None for field in fields}


def measure_train(model: nn.Module, data: dict, args: argparse.Namespace,
                  device: torch.device,
                  with_stages: bool) -> Tuple[dict, Optional[dict]]:
    """Time the training step; return the result and the stage table."""
    clock = Clock(device)
    meter = MemoryMeter(device)
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=1e-4, weight_decay=0.01)
    probe = StageProbe(model, clock) if with_stages else None
    model.train()
    steps, parts, stages = [], [], []

    def step(timed: bool) -> None:
        clock.sync()
        wall = time.perf_counter()
        if probe is not None and timed:
            probe.begin()
        t0 = clock.now()
        with autocast(device, args.dtype):
            losses = model(**data, mode='loss')
            loss, _ = model.parse_losses(losses)
        t1 = clock.now()
        if probe is not None and timed:
            probe.active = False
        loss.backward()
        t2 = clock.now()
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        t3 = clock.now()
        clock.sync()
        if timed:
            steps.append((time.perf_counter() - wall) * 1e3)
            parts.append((clock.ms(t0, t1), clock.ms(t1, t2),
                          clock.ms(t2, t3)))
            if probe is not None:
                stages.append(probe.end(t0, t1, TAIL_STAGE['train']))

    try:
        for _ in range(args.warmup):
            step(False)
        meter.start()
        for _ in range(args.iters):
            step(True)
        memory = meter.stop()
    finally:
        if probe is not None:
            probe.remove()
        optimizer.zero_grad(set_to_none=True)
        del optimizer
    step_ms = mean(steps)
    forward_ms = mean([p[0] for p in parts])
    result = empty(TRAIN_FIELDS)
    result.update(
        step_ms=round(step_ms, 3),
        step_ms_min=round(min(steps), 3),
        images_per_s=round(args.batch_size * 1e3 / step_ms, 3),
        forward_ms=round(forward_ms, 3),
        backward_ms=round(mean([p[1] for p in parts]), 3),
        optimizer_ms=round(mean([p[2] for p in parts]), 3),
        **memory)
    return result, stage_table(stages, forward_ms) if stages else None


def measure_infer(model: nn.Module, data: dict, args: argparse.Namespace,
                  device: torch.device,
                  with_stages: bool) -> Tuple[dict, Optional[dict]]:
    """Time ``predict``; return the result and the stage table."""
    clock = Clock(device)
    meter = MemoryMeter(device)
    probe = StageProbe(model, clock) if with_stages else None
    model.eval()
    times, forwards, stages = [], [], []
    try:
        with torch.no_grad():
            for i in range(args.warmup + args.iters):
                timed = i >= args.warmup
                if i == args.warmup:
                    meter.start()
                clock.sync()
                wall = time.perf_counter()
                if probe is not None and timed:
                    probe.begin()
                t0 = clock.now()
                with autocast(device, args.dtype):
                    model(**data, mode='predict')
                t1 = clock.now()
                clock.sync()
                if timed:
                    times.append((time.perf_counter() - wall) * 1e3)
                    forwards.append(clock.ms(t0, t1))
                    if probe is not None:
                        stages.append(probe.end(t0, t1, TAIL_STAGE['infer']))
        memory = meter.stop()
    finally:
        if probe is not None:
            probe.remove()
    batch_ms = mean(times)
    result = empty(INFER_FIELDS)
    result.update(
        ms_per_batch=round(batch_ms, 3),
        ms_per_image=round(batch_ms / args.batch_size, 3),
        images_per_s=round(args.batch_size * 1e3 / batch_ms, 3),
        **memory)
    return result, stage_table(stages, mean(forwards)) if stages else None


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
            aten._scaled_dot_product_flash_attention_for_cpu:
            _sdpa_cpu_flops,
            aten._scaled_dot_product_flash_attention_for_cpu_backward:
            _sdpa_cpu_backward_flops,
            aten._native_multi_head_attention: _native_mha_flops,
        })


def count_flops(model: nn.Module, train_data: dict, infer_data: dict,
                args: argparse.Namespace, device: torch.device,
                with_infer: bool) -> dict:
    """FLOPs of one training forward, its backward, one inference forward."""
    result = empty(FLOP_FIELDS)
    model.train()
    with flop_counter() as counter:
        with autocast(device, args.dtype):
            loss, _ = model.parse_losses(model(**train_data, mode='loss'))
    result['forward_train'] = counter.get_total_flops()
    result['train_step_3x'] = 3 * result['forward_train']
    result['forward_train_by_module'] = {
        name.split('.', 1)[1]: sum(ops.values())
        for name, ops in counter.get_flop_counts().items()
        if name.count('.') in (1, 2)
    }
    with flop_counter() as counter:
        loss.backward()
    result['backward_train'] = counter.get_total_flops()
    model.zero_grad(set_to_none=True)
    del loss
    if with_infer:
        model.eval()
        with flop_counter() as counter, torch.no_grad():
            with autocast(device, args.dtype):
                model(**infer_data, mode='predict')
        result['forward_infer'] = counter.get_total_flops()
    return result


# ---------------------------------------------------------------- floor --


def time_call(fn: Callable[[], None], args: argparse.Namespace,
              device: torch.device) -> Tuple[float, Dict[str, float]]:
    """Mean ms of ``fn`` after warmup, and the peak memory of the runs."""
    clock = Clock(device)
    meter = MemoryMeter(device)
    for _ in range(args.warmup):
        fn()
    meter.start()
    times = []
    for _ in range(args.iters):
        clock.sync()
        start = time.perf_counter()
        fn()
        clock.sync()
        times.append((time.perf_counter() - start) * 1e3)
    return mean(times), meter.stop()


def measure_tower(tower: nn.Module, encode: Callable, inputs,
                  args: argparse.Namespace, device: torch.device) -> dict:
    """Forward and forward+backward of one library tower."""
    result = empty(FLOOR_PART_FIELDS)

    def forward():
        with torch.no_grad(), autocast(device, args.dtype):
            encode(inputs)

    def forward_backward():
        with autocast(device, args.dtype):
            out = encode(inputs)
        out.float().mean().backward()
        tower.zero_grad(set_to_none=True)

    try:
        tower.eval()
        result['forward_ms'] = round(time_call(forward, args, device)[0], 3)
        tower.train()
        fwd_bwd_ms, memory = time_call(forward_backward, args, device)
        result['forward_backward_ms'] = round(fwd_bwd_ms, 3)
        result['peak_mib'] = memory['peak_mib']
    except RuntimeError as error:
        if not is_oom(error):
            raise
        result['error'] = 'out of memory'
    return result


def build_clip_floor(model_cfg: dict, size: int) -> Optional[nn.Module]:
    """``open_clip.CLIP`` with the config's image and text towers."""
    import open_clip

    from sgsrf_mmseg.models.clip.builder import \
        resolve_clip_config
    image_cfg = model_cfg.get('image_encoder')
    text_cfg = model_cfg.get('text_encoder')
    if not (accepts(image_cfg, 'vision_cfg')
            and accepts(text_cfg, 'text_cfg')):
        return None
    vision = resolve_clip_config(
        arg_value(image_cfg, 'model_name'), 'vision_cfg',
        arg_value(image_cfg, 'vision_cfg'), arg_value(image_cfg, 'embed_dim'),
        arg_value(image_cfg, 'quick_gelu'))
    text = resolve_clip_config(
        arg_value(text_cfg, 'model_name'), 'text_cfg',
        arg_value(text_cfg, 'text_cfg'), arg_value(text_cfg, 'embed_dim'),
        arg_value(text_cfg, 'quick_gelu'))
    vision_cfg = dict(vision['tower_cfg'], image_size=size)
    text_tower_cfg = dict(text['tower_cfg'])
    if arg_value(text_cfg, 'context_length') is not None:
        text_tower_cfg['context_length'] = arg_value(text_cfg,
                                                     'context_length')
    return open_clip.CLIP(
        embed_dim=vision['embed_dim'],
        vision_cfg=vision_cfg,
        text_cfg=text_tower_cfg,
        quick_gelu=vision['quick_gelu'])


def build_sam_floor(model_cfg: dict) -> Optional[nn.Module]:
    """segment_anything's ``ImageEncoderViT`` with its own attention."""
    from sgsrf_mmseg.models.sam.builder import build_sam_modules
    head_cfg = model_cfg.get('decode_head')
    if not accepts(head_cfg, 'sam'):
        return None
    return build_sam_modules(use_sdpa=False, **arg_value(head_cfg, 'sam'))[0]


def measure_floor(model_cfg: dict, size: int, texts: List[str],
                  args: argparse.Namespace, device: torch.device) -> dict:
    """The library towers alone (see the module docstring)."""
    import open_clip
    gen = torch.Generator().manual_seed(args.seed)
    parts = {'clip_image': None, 'clip_text': None, 'sam_image_encoder': None}
    clip = build_clip_floor(model_cfg, size)
    if clip is not None:
        clip = clip.to(device)
        images = torch.randn(
            args.batch_size, 3, size, size, generator=gen).to(device)
        tokens = open_clip.tokenize(
            texts, context_length=clip.context_length).to(device)
        parts['clip_image'] = measure_tower(clip, clip.encode_image, images,
                                            args, device)
        parts['clip_text'] = measure_tower(clip, clip.encode_text, tokens,
                                           args, device)
        del clip, images, tokens
        empty_device_cache(device)
    sam = build_sam_floor(model_cfg)
    if sam is not None:
        sam = sam.to(device)
        images = torch.randn(
            args.batch_size, 3, sam.img_size, sam.img_size,
            generator=gen).to(device)
        parts['sam_image_encoder'] = measure_tower(sam, sam, images, args,
                                                   device)
        del sam, images
        empty_device_cache(device)
    total = dict(forward_ms=None, forward_backward_ms=None)
    measured = [p for p in parts.values() if p is not None]
    for key in total:
        if measured and all(p[key] is not None for p in measured):
            total[key] = round(sum(p[key] for p in measured), 3)
    return dict(parts, total=total)


# ------------------------------------------------------------- compare --


def available_switches(model_cfg: dict, model: nn.Module,
                       requested: Sequence[str]) -> Dict[str, dict]:
    """The switches the config offers, as ``{name: {key: new value}}``."""
    names = list(requested) or list(SWITCHES)
    depths = {
        'image_encoder': getattr(
            getattr(model, 'image_encoder', None), 'num_layers', None),
        'text_encoder': getattr(
            getattr(model, 'text_encoder', None), 'num_layers', None),
    }
    sam = getattr(getattr(model, 'decode_head', None), 'image_encoder', None)
    if sam is not None and hasattr(sam, 'blocks'):
        depths['decode_head'] = len(sam.blocks)
    variants = {}
    for name in names:
        changes = {}
        for module_key, arg, kind in SWITCHES[name]:
            module_cfg = model_cfg.get(module_key)
            if not accepts(module_cfg, arg):
                break
            current = arg_value(module_cfg, arg)
            if kind == 'toggle':
                changes[f'{module_key}.{arg}'] = not current
            elif depths.get(module_key) is not None and (
                    current < depths[module_key]):
                changes[f'{module_key}.{arg}'] = depths[module_key]
        else:
            if changes:
                variants[name] = changes
    return variants


def apply_changes(model_cfg: dict, changes: Dict[str, object]) -> dict:
    """A copy of ``model_cfg`` with dotted ``changes`` applied."""
    model_cfg = copy.deepcopy(model_cfg)
    for key, value in changes.items():
        module_key, arg = key.split('.')
        model_cfg[module_key][arg] = value
    return model_cfg


def measure_variant(model_cfg: dict, changes: dict, batch: dict,
                    args: argparse.Namespace, device: torch.device) -> dict:
    """Training step of one switched variant."""
    result = dict(changes=changes, step_ms=None, images_per_s=None,
                  peak_mib=None, peak_delta_mib=None, speedup=None,
                  error=None)
    model = build_model(apply_changes(model_cfg, changes), device)
    try:
        train, _ = measure_train(model, preprocess(model, batch, True), args,
                                 device, with_stages=False)
        for key in ('step_ms', 'images_per_s', 'peak_mib', 'peak_delta_mib'):
            result[key] = train[key]
    except RuntimeError as error:
        if not is_oom(error):
            raise
        result['error'] = 'out of memory'
    del model
    empty_device_cache(device)
    return result


# --------------------------------------------------------------- report --


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


def fmt(value, digits: int = 1) -> str:
    """A number for the table ('-' for None)."""
    if value is None:
        return '-'
    if isinstance(value, float):
        return f'{value:.{digits}f}'
    return str(value)


def table(headers: Sequence[str], rows: List[Sequence],
          text_columns: int = 1) -> str:
    """Left-aligned text columns first, then right-aligned numbers."""
    cells = [list(headers)] + [[str(c) for c in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    lines = []
    for index, row in enumerate(cells):
        lines.append('  '.join(
            c.ljust(widths[i]) if i < text_columns else c.rjust(widths[i])
            for i, c in enumerate(row)).rstrip())
        if index == 0:
            lines.append('  '.join('-' * w for w in widths).rstrip())
    return '\n'.join(lines)


def gflop(value: Optional[int]) -> str:
    """FLOPs as GFLOP text."""
    return '-' if value is None else f'{value / 1e9:.2f}'


def render(results: dict) -> str:
    """The readable report."""
    out = []
    params = results['params']
    out.append(
        f"{results['config']} | {results['device']} ({results['device_name']})"
        f" | {results['dtype']} | batch {results['batch_size']} | "
        f"{results['input_size']} px | torch {results['torch']} | "
        f"{results['threads']} threads | warmup {results['warmup']}, "
        f"iters {results['iters']}")
    out.append(f"params: {params['total'] / 1e6:.2f} M total, "
               f"{params['trainable'] / 1e6:.2f} M trainable")
    train, infer, flops = results['train'], results['infer'], results['flops']
    out.append('')
    out.append(
        table(['training step', 'ms/step', 'images/s', 'fwd ms', 'bwd ms',
               'optim ms', 'peak MiB', '+MiB', 'TFLOP/s', 'TFLOP/s cnt'],
              [['train', fmt(train['step_ms']),
                fmt(train['images_per_s'], 2), fmt(train['forward_ms']),
                fmt(train['backward_ms']), fmt(train['optimizer_ms']),
                fmt(train['peak_mib'], 0), fmt(train['peak_delta_mib'], 0),
                fmt(train['tflops_per_s'], 3),
                fmt(train['tflops_per_s_counted'], 3)]]))
    if infer is not None:
        out.append('')
        out.append(
            table(['inference', 'ms/batch', 'ms/image', 'images/s',
                   'peak MiB', '+MiB', 'TFLOP/s'],
                  [['predict', fmt(infer['ms_per_batch']),
                    fmt(infer['ms_per_image']), fmt(infer['images_per_s'], 2),
                    fmt(infer['peak_mib'], 0), fmt(infer['peak_delta_mib'], 0),
                    fmt(infer['tflops_per_s'], 3)]]))
    if flops is not None:
        out.append('')
        out.append(f"GFLOP per batch: forward (train) "
                   f"{gflop(flops['forward_train'])}, backward (counted) "
                   f"{gflop(flops['backward_train'])}, forward (predict) "
                   f"{gflop(flops['forward_infer'])}")
    stages = results['stages']
    if stages['train'] or stages['infer']:
        names = list(stages['train'] or stages['infer'])
        names += [n for n in (stages['infer'] or {}) if n not in names]
        rows = []
        for name in names:
            row = [name]
            for phase in ('train', 'infer'):
                entry = (stages[phase] or {}).get(name)
                row += ([fmt(entry['ms'], 2), f"{100 * entry['share']:.1f}%"]
                        if entry and entry['share'] is not None else
                        ['-', '-'])
            rows.append(row)
        out.append('')
        out.append(
            table(['stage (forward)', 'train ms', 'share', 'predict ms',
                   'share'], rows))
    floor = results['floor']
    if floor is not None:
        rows = []
        for name in ('clip_image', 'clip_text', 'sam_image_encoder',
                     'total'):
            part = floor[name]
            if part is None:
                continue
            rows.append([
                name, fmt(part['forward_ms']),
                fmt(part['forward_backward_ms']),
                fmt(part.get('peak_mib'), 0),
                part.get('error') or ''
            ])
        out.append('')
        out.append(
            table(['floor (library towers)', 'fwd ms', 'fwd+bwd ms',
                   'peak MiB', ''], rows))
        out.append(f"train step / towers fwd+bwd: "
                   f"{fmt(floor['train_step_over_floor'], 2)}x; "
                   f"predict / towers fwd: "
                   f"{fmt(floor['predict_over_floor'], 2)}x")
    compare = results['compare']
    if compare is not None:
        rows = []
        for name, entry in compare.items():
            changes = ', '.join(f'{k}={v}'
                                for k, v in entry['changes'].items())
            rows.append([
                name, changes, fmt(entry['step_ms']),
                fmt(entry['images_per_s'], 2), fmt(entry['speedup'], 2),
                fmt(entry['peak_mib'], 0), entry['error'] or ''
            ])
        out.append('')
        out.append(
            table(['switch', 'changes', 'ms/step', 'images/s', 'speedup',
                   'peak MiB', ''], rows, text_columns=2))
    return '\n'.join(out)


def ratio(num: Optional[float], den: Optional[float]) -> Optional[float]:
    """``num / den`` rounded, or None."""
    if num is None or not den:
        return None
    return round(num / den, 3)


def tflops(flop: Optional[int], ms: Optional[float]) -> Optional[float]:
    """TFLOP/s of ``flop`` FLOPs in ``ms`` milliseconds, or None."""
    if flop is None or not ms:
        return None
    return round(flop / ms / 1e9, 4)


def run(args: argparse.Namespace) -> dict:
    """Run every measurement and return the results."""
    MMLogger.get_instance('benchmark', log_level='WARNING')
    torch.manual_seed(args.seed)
    device = torch.device(args.device)
    model_cfg, size = load_model_cfg(args)
    batch = make_batch(args.batch_size, size, args.seed)
    texts = [s.metainfo['text'] for s in batch['data_samples']]
    skip = set(args.skip)

    model = build_model(model_cfg, device)
    results = dict(
        config=args.config,
        device=device.type,
        device_name=device_name(device),
        torch=torch.__version__,
        threads=torch.get_num_threads(),
        dtype=args.dtype,
        batch_size=args.batch_size,
        input_size=size,
        warmup=args.warmup,
        iters=args.iters,
        texts=texts,
        params=count_params(model),
        train=empty(TRAIN_FIELDS),
        infer=None,
        flops=None,
        stages=dict(train=None, infer=None),
        floor=None,
        compare=None,
        notes=NOTES)
    train_data = preprocess(model, batch, True)
    infer_data = preprocess(model, batch, False)
    with_stages = 'stages' not in skip
    # Inference first: it needs less memory, so each peak is its own.
    if 'infer' not in skip:
        results['infer'] = empty(INFER_FIELDS)
        try:
            results['infer'], results['stages']['infer'] = measure_infer(
                model, infer_data, args, device, with_stages)
        except RuntimeError as error:
            if not is_oom(error):
                raise
            results['infer']['error'] = 'out of memory'
        empty_device_cache(device)
    try:
        results['train'], results['stages']['train'] = measure_train(
            model, train_data, args, device, with_stages)
    except RuntimeError as error:
        if not is_oom(error):
            raise
        results['train']['error'] = 'out of memory'
    empty_device_cache(device)
    if 'flops' not in skip:
        try:
            results['flops'] = count_flops(model, train_data, infer_data,
                                           args, device, 'infer' not in skip)
        except RuntimeError as error:
            if not is_oom(error):
                raise
            results['flops'] = empty(FLOP_FIELDS)
        empty_device_cache(device)
    variants = (
        available_switches(model_cfg, model, args.compare)
        if args.compare is not None else None)
    del model, train_data, infer_data
    empty_device_cache(device)

    train, infer = results['train'], results['infer']
    flops = results['flops'] or empty(FLOP_FIELDS)
    train['tflops_per_s'] = tflops(flops['train_step_3x'], train['step_ms'])
    if flops['forward_train'] is not None:
        train['tflops_per_s_counted'] = tflops(
            flops['forward_train'] + flops['backward_train'],
            train['step_ms'])
    if infer is not None:
        infer['tflops_per_s'] = tflops(flops['forward_infer'],
                                       infer['ms_per_batch'])

    if 'floor' not in skip:
        floor = measure_floor(model_cfg, size, texts, args, device)
        floor['train_step_over_floor'] = ratio(
            train['step_ms'], floor['total']['forward_backward_ms'])
        floor['predict_over_floor'] = ratio(
            infer['ms_per_batch'] if infer else None,
            floor['total']['forward_ms'])
        results['floor'] = floor

    if variants is not None:
        # The baseline is measured again the way the variants are: a fresh
        # model without stage hooks.
        compare = dict(
            baseline=measure_variant(model_cfg, {}, batch, args, device))
        for name, changes in variants.items():
            compare[name] = measure_variant(model_cfg, changes, batch, args,
                                            device)
        for entry in compare.values():
            entry['speedup'] = ratio(compare['baseline']['step_ms'],
                                     entry['step_ms'])
        results['compare'] = compare
    return results


def main(argv: Optional[Sequence[str]] = None) -> dict:
    """Command-line entry point; returns the results."""
    args = parse_args(argv)
    results = run(args)
    print(render(results))
    if args.out:
        out_dir = osp.dirname(osp.abspath(args.out))
        os.makedirs(out_dir, exist_ok=True)
        with open(args.out, 'w') as f:
            json.dump(results, f, indent=2)
        print(f'results written to {args.out}')
    return results


if __name__ == '__main__':
    main()
