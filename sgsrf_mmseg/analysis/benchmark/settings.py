"""The settings of one benchmark run."""
from contextlib import nullcontext
from dataclasses import dataclass, field
from typing import ContextManager, List, Optional, Sequence

import torch

#: Measurements that can be left out (their JSON fields are then null).
SKIPPABLE = ('infer', 'flops', 'stages', 'floor')
DTYPES = ('fp32', 'bf16')


@dataclass
class BenchmarkSettings:
    """What one benchmark run measures, and how.

    Args:
        config (str): Config file with a ``model`` dict.
        device (str, optional): 'cpu' or 'cuda'; None takes 'cuda' where a
            CUDA device is available. Defaults to None.
        dtype (str): 'fp32', or 'bf16' to run forward passes under
            ``torch.autocast``. Defaults to 'fp32'.
        batch_size (int): Images per batch. Defaults to 8.
        input_size (int, optional): Square input size; it also sets the
            CLIP and SAM image sizes. None takes the config's
            ``model.data_preprocessor.size``. Defaults to None.
        iters (int): Timed iterations per measurement. Defaults to 10.
        warmup (int): Untimed iterations before each measurement.
            Defaults to 2.
        compare (list[str], optional): Switches to flip one at a time (see
            ``switches.SWITCHES``); an empty list: every switch the config
            offers; None: no comparison. Defaults to None.
        skip (Sequence[str]): Measurements to leave out, from
            :data:`SKIPPABLE`. Defaults to ().
        seed (int): Seed of the weights and the batch. Defaults to 0.
        cfg_options (dict, optional): Config overrides, dotted key -> value.
            Defaults to None.
    """

    config: str
    device: Optional[str] = None
    dtype: str = 'fp32'
    batch_size: int = 8
    input_size: Optional[int] = None
    iters: int = 10
    warmup: int = 2
    compare: Optional[List[str]] = None
    skip: Sequence[str] = field(default_factory=tuple)
    seed: int = 0
    cfg_options: Optional[dict] = None

    def __post_init__(self) -> None:
        if self.device is None:
            self.device = 'cuda' if torch.cuda.is_available() else 'cpu'
        if self.device not in ('cpu', 'cuda'):
            raise ValueError(
                f"device must be 'cpu' or 'cuda', got {self.device!r}")
        if self.device == 'cuda' and not torch.cuda.is_available():
            raise ValueError('device cuda: no CUDA device is available')
        if self.dtype not in DTYPES:
            raise ValueError(f'dtype must be one of {DTYPES}, got '
                             f'{self.dtype!r}')
        if self.iters < 1 or self.warmup < 0 or self.batch_size < 1:
            raise ValueError('iters and batch_size must be >= 1, '
                             'warmup >= 0')
        if self.input_size is not None and self.input_size < 1:
            raise ValueError(f'input_size must be >= 1, got '
                             f'{self.input_size}')
        unknown = set(self.skip) - set(SKIPPABLE)
        if unknown:
            raise ValueError(f'skip: {sorted(unknown)} are not among '
                             f'{SKIPPABLE}')

    @property
    def torch_device(self) -> torch.device:
        """The device as a ``torch.device``."""
        return torch.device(self.device)

    def autocast(self) -> ContextManager:
        """``torch.autocast`` to bfloat16 for 'bf16', else a null context."""
        if self.dtype == 'bf16':
            return torch.autocast(self.device, dtype=torch.bfloat16)
        return nullcontext()
