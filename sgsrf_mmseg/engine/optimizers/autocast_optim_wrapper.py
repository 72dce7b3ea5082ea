"""Mixed precision by autocast alone, for machines without an accelerator."""
from contextlib import contextmanager

import torch
from mmengine.optim import OptimWrapper
from mmseg.registry import OPTIM_WRAPPERS

_AUTOCAST_DTYPES = ('bfloat16', 'float16')


@OPTIM_WRAPPERS.register_module()
class AutocastOptimWrapper(OptimWrapper):
    """:class:`OptimWrapper` whose forward pass runs under ``torch.autocast``.

    mmengine's :class:`AmpOptimWrapper` refuses to start without a GPU (or
    another accelerator); this wrapper gives a CPU bf16 mixed precision
    (``tools/train.py --amp`` on a CPU machine). There is no loss scaling:
    bf16 has the exponent range of float32.

    Args:
        dtype (str): ``'bfloat16'`` or ``'float16'`` (fp16 without loss
            scaling may underflow small gradients). Defaults to
            ``'bfloat16'``.
    """

    def __init__(self, *args, dtype: str = 'bfloat16', **kwargs):
        if dtype not in _AUTOCAST_DTYPES:
            raise ValueError(f'optim_wrapper.dtype must be one of '
                             f'{_AUTOCAST_DTYPES}, got {dtype!r}')
        super().__init__(*args, **kwargs)
        self.cast_dtype = getattr(torch, dtype)

    @contextmanager
    def optim_context(self, model: torch.nn.Module):
        """The parent's context, plus autocast on the model's device."""
        with super().optim_context(model):
            device = next(model.parameters()).device.type
            with torch.autocast(device_type=device, dtype=self.cast_dtype):
                yield
