"""Clocks and memory meters: CUDA events and counters on a GPU, the host
clock and the resident set size on a CPU."""
import ctypes
import gc
import resource
import time
from typing import Dict, Optional

import torch

MIB = 2**20


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
