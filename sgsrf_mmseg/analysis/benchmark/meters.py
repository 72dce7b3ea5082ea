"""The instruments of a benchmark: clocks, memory meters, the stage probe,
and out-of-memory handling.

Clocks and memory use CUDA events and counters on a GPU, the host clock and
the resident set size on a CPU. The stage probe times the stages of a
forward pass with forward hooks on named submodules; it never calls the
model's methods: whoever drives the forward (``model(..., mode='loss')``,
``predict``, ``train_step``), each submodule called through ``__call__``
fires its hooks, and the probe takes a timestamp whenever the running stage
changes. A measurement that runs out of memory is recorded as such (its
record carries ``error='out of memory'``) and the run goes on with the next
one.
"""
import ctypes
import gc
import resource
import time
from typing import (Callable, Dict, List, Mapping, Optional, Sequence, Tuple,
                    TypeVar)

import torch
import torch.nn as nn

from .record import StageTime, mean

MIB = 2**20
OUT_OF_MEMORY = 'out of memory'
T = TypeVar('T')


class Clock:
    """Timestamps: CUDA events on a GPU, the host clock on a CPU.

    Args:
        device (torch.device): The device whose work is timed.
    """

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


def _proc_status_kib(name: str) -> Optional[int]:
    """A ``kB`` field of /proc/self/status, or None."""
    try:
        with open('/proc/self/status') as f:
            for line in f:
                if line.startswith(name + ':'):
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
    """Peak memory of a phase.

    On CUDA ``torch.cuda.max_memory_allocated`` and its rise over the memory
    allocated when the phase began; on a CPU the peak resident set size
    (VmHWM, reset through ``/proc/self/clear_refs``; else ``ru_maxrss``) and
    its rise over the resident size when the phase began.

    Args:
        device (torch.device): The device whose memory is measured.
    """

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


def is_oom(error: BaseException) -> bool:
    """Whether ``error`` is an out-of-memory error."""
    return isinstance(error, torch.cuda.OutOfMemoryError) or (isinstance(
        error, RuntimeError) and 'out of memory' in str(error))


def empty_device_cache(device: torch.device) -> None:
    """Free what the collector and the CUDA caching allocator hold."""
    gc.collect()
    if device.type == 'cuda':
        torch.cuda.empty_cache()


def measure_or_oom(device: torch.device, measure: Callable[..., T], *args,
                   **kwargs) -> Tuple[Optional[T], Optional[str]]:
    """Run one measurement; an out-of-memory error becomes a result.

    The device cache is emptied afterwards either way (after the error and
    the tensors its traceback held are released).

    Args:
        device (torch.device): The device measured.
        measure (Callable): The measurement, called with ``*args`` and
            ``**kwargs``.

    Returns:
        tuple: ``(value, None)``, or ``(None, 'out of memory')``. Other
        errors propagate.
    """
    try:
        return measure(*args, **kwargs), None
    except RuntimeError as error:
        if not is_oom(error):
            raise
    finally:
        empty_device_cache(device)
    return None, OUT_OF_MEMORY


#: Stages of the SGSRF segmentor: stage -> paths of its submodules
#: (relative to the segmentor; a missing or None submodule is skipped).
SGSRF_STAGES: Dict[str, Sequence[str]] = {
    'clip_image': ('image_encoder', ),
    'clip_text': ('text_encoder', ),
    'ccr': ('refiner', ),
    'gpg': ('prompt_generator', ),
    'sam_encoder':
    ('decode_head.image_encoder', 'decode_head.grounding_adapters'),
    'sam_prompt_decoder':
    ('decode_head.prompt_encoder', 'decode_head.mask_decoder'),
}
OTHER = 'other'


class StageProbe:
    """Milliseconds of each stage in one forward pass.

    Every module under a stage's paths gets a forward pre-hook and a forward
    hook, so a stage is seen however its modules are called (a tower run
    block by block included). Time goes to the innermost stage running: a
    stage called from inside another one counts as itself, not as its
    caller. From the moment the last stage returns to the end of the
    forward is the *tail* (losses, post-processing); the rest of the
    forward, outside every stage, is ``other``.

    Args:
        model (nn.Module): The root module.
        stages (Mapping[str, Sequence[str]]): Stage -> submodule paths.
        clock (Clock): Timestamp source.
    """

    def __init__(self, model: nn.Module, stages: Mapping[str, Sequence[str]],
                 clock: Clock):
        self.clock = clock
        self.active = False
        self.running: List[str] = []
        self.marks: list = []  # (timestamp, stage running from then on)
        self.handles = []
        self.stages: List[str] = []
        modules = dict(model.named_modules())
        hooked = set()
        for stage, paths in stages.items():
            roots = [modules[p] for p in paths if p in modules]
            if roots:
                self.stages.append(stage)
            for module in (m for root in roots for m in root.modules()):
                if id(module) in hooked:
                    continue
                hooked.add(id(module))
                self.handles += [
                    module.register_forward_pre_hook(
                        lambda *_, stage=stage: self._enter(stage)),
                    module.register_forward_hook(
                        lambda *_, stage=stage: self._leave())
                ]

    def _mark(self, stage: Optional[str]) -> None:
        """Take a timestamp: ``stage`` (None: no stage) runs from now."""
        self.marks.append((self.clock.now(), stage))

    def _enter(self, stage: str) -> None:
        if not self.active:
            return
        if not self.running or self.running[-1] != stage:
            self._mark(stage)
        self.running.append(stage)

    def _leave(self) -> None:
        if not self.active or not self.running:
            return
        stage = self.running.pop()
        now_running = self.running[-1] if self.running else None
        if now_running != stage:
            self._mark(now_running)

    def begin(self) -> None:
        """Start recording one forward pass."""
        self.marks.clear()
        self.running.clear()
        self.active = True

    def stop(self) -> None:
        """Stop recording (before the backward pass)."""
        self.active = False

    def stage_ms(self, forward_start, forward_end,
                 tail: str) -> Dict[str, float]:
        """Stage milliseconds of the recorded forward (after a sync).

        Args:
            forward_start: Clock timestamp before the forward.
            forward_end: Clock timestamp at its end.
            tail (str): Name of the time after the last stage returns.

        Returns:
            dict[str, float]: Every stage found in the model, then ``tail``
            (when a stage ran) and ``other``.
        """
        ms = dict.fromkeys(self.stages, 0.0)
        ms[OTHER] = 0.0
        spans = [(forward_start, None)] + self.marks + [(forward_end, None)]
        for i, ((start, stage), (end, _)) in enumerate(zip(spans, spans[1:])):
            name = stage or (tail if i == len(spans) - 2 and i else OTHER)
            ms[name] = ms.get(name, 0.0) + self.clock.ms(start, end)
        ms[OTHER] = ms.pop(OTHER)  # last, after the tail
        return ms

    def remove(self) -> None:
        """Remove the hooks."""
        for handle in self.handles:
            handle.remove()
        self.handles.clear()


def stage_table(per_iter: List[Dict[str, float]],
                forward_ms: float) -> Dict[str, StageTime]:
    """Mean ms per stage and its share of the forward time.

    Args:
        per_iter (list[dict[str, float]]): :meth:`StageProbe.stage_ms` of
            each timed iteration.
        forward_ms (float): Mean forward milliseconds.

    Returns:
        dict[str, StageTime]: Stage -> ``ms`` and ``share`` (None when the
        forward took no time).
    """
    table = {}
    for name in per_iter[0]:
        ms = mean([it.get(name, 0.0) for it in per_iter])
        table[name] = StageTime(
            ms=round(ms, 3),
            share=round(ms / forward_ms, 4) if forward_ms > 0 else None)
    return table
