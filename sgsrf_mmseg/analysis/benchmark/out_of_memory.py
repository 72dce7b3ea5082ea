"""Out-of-memory handling of every measurement, and freeing device memory.

A measurement that runs out of memory is recorded as such (its result
carries ``error='out of memory'``) and the run goes on with the next one.
"""
import gc
from typing import Callable, Optional, Tuple, TypeVar

import torch

OUT_OF_MEMORY = 'out of memory'
T = TypeVar('T')


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
