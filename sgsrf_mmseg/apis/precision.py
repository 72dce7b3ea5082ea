"""The numeric precision of inference: ``fp32``, ``bf16`` or ``int8``.

* ``fp32``: the model as trained (the default).
* ``bf16``: the segmentor's inference forward (the towers, CCR, GPG and the
  SAM head) runs under ``torch.autocast`` to bfloat16; the mask logits and
  the grounding cue are cast back to float32 before they are resized and
  thresholded. Needs a CPU with the AVX-512 BF16 instructions
  (``avx512_bf16``, e.g. Intel Sapphire Rapids, AMD Zen 4) or a CUDA device
  that supports bf16.
* ``int8``: dynamic quantization of every ``nn.Linear`` of the model
  (``torch.ao.quantization.quantize_dynamic``: int8 weights, activations
  quantized per batch); convolutions, norms and attention products stay in
  float32, and so do the ``out_proj`` layers of ``nn.MultiheadAttention``,
  which PyTorch keeps unquantized. CPU only, with a quantized engine
  (``torch.backends.quantized.supported_engines``).

A precision the hardware cannot run is refused with a
:class:`PrecisionError` naming what is missing; it never falls back to
fp32.
"""
import argparse
import warnings
from typing import Optional, Union

import torch
import torch.nn as nn

PRECISIONS = ('fp32', 'bf16', 'int8')
#: Quantized engines that run int8 dynamic Linear layers, best first.
INT8_ENGINES = ('x86', 'fbgemm', 'onednn', 'qnnpack')


def add_precision_argument(parser: argparse.ArgumentParser) -> None:
    """Add the inference tools' ``--precision`` option to ``parser``."""
    parser.add_argument(
        '--precision',
        choices=PRECISIONS,
        default='fp32',
        help='fp32, bf16 (autocast; needs avx512_bf16 or a bf16 GPU) or int8 '
        '(dynamic quantization of the Linear layers, CPU only)')


class PrecisionError(ValueError):
    """The device cannot run the precision asked for."""


def default_device(device: Optional[str] = None) -> torch.device:
    """``device``, or ``'cuda'`` where available, else ``'cpu'``."""
    return torch.device(
        device or ('cuda' if torch.cuda.is_available() else 'cpu'))


def missing_support(precision: str,
                    device: Union[str, torch.device]) -> Optional[str]:
    """What ``device`` lacks to run ``precision``, or None if nothing.

    Args:
        precision (str): One of :data:`PRECISIONS`.
        device (str | torch.device): The device the model runs on.

    Returns:
        str | None: The missing feature, in words.
    """
    if precision not in PRECISIONS:
        raise ValueError(f'precision must be one of {PRECISIONS}, got '
                         f'{precision!r}')
    device = torch.device(device)
    if precision == 'bf16':
        if device.type == 'cuda':
            if not torch.cuda.is_bf16_supported():
                return (f'{torch.cuda.get_device_name(device)} does not '
                        'support bfloat16 (torch.cuda.is_bf16_supported() '
                        'is False)')
        elif device.type == 'cpu':
            if not torch.cpu._is_avx512_bf16_supported():
                return ('this CPU lacks the AVX-512 BF16 instructions '
                        '(avx512_bf16) that run bfloat16 at speed')
        else:
            return f'bf16 inference runs on cpu or cuda, not {device.type}'
    elif precision == 'int8':
        if device.type != 'cpu':
            return (f'int8 dynamic quantization runs on the CPU only, not '
                    f'on {device.type} (use --device cpu)')
        if int8_engine() is None:
            return ('this PyTorch build has no quantized engine for int8 '
                    '(torch.backends.quantized.supported_engines: '
                    f'{torch.backends.quantized.supported_engines})')
    return None


def int8_engine() -> Optional[str]:
    """The quantized engine int8 uses, or None where there is none."""
    supported = torch.backends.quantized.supported_engines
    if torch.backends.quantized.engine in INT8_ENGINES:
        return torch.backends.quantized.engine
    return next((e for e in INT8_ENGINES if e in supported), None)


def check_precision(precision: str, device: Union[str, torch.device]) -> None:
    """Refuse a precision that ``device`` cannot run.

    Args:
        precision (str): One of :data:`PRECISIONS`.
        device (str | torch.device): The device the model runs on.

    Raises:
        ValueError: An unknown precision.
        PrecisionError: The device lacks what the precision needs (named in
            the message).
    """
    missing = missing_support(precision, device)
    if missing is not None:
        raise PrecisionError(f'precision {precision} cannot run on '
                             f'{torch.device(device)}: {missing}; use '
                             'precision fp32 (or another one it supports)')


def apply_precision(model: nn.Module, precision: str,
                    device: Union[str, torch.device]) -> nn.Module:
    """Make a loaded model predict in ``precision``.

    Call it after the weights are loaded: int8 replaces the Linear layers
    (in place) by quantized ones, whose state dict differs. bf16 sets the
    segmentor's ``autocast_dtype``, which its ``predict`` honours.

    Args:
        model (nn.Module): The segmentor, on ``device``, weights loaded.
        precision (str): One of :data:`PRECISIONS`.
        device (str | torch.device): The device the model runs on.

    Returns:
        nn.Module: The same model.
    """
    check_precision(precision, device)
    if precision == 'bf16':
        if not hasattr(model, 'autocast_dtype'):
            raise TypeError(f'{type(model).__name__} cannot predict in bf16: '
                            'it has no autocast_dtype (SGSRFSegmentor has)')
        model.autocast_dtype = torch.bfloat16
    elif precision == 'int8':
        torch.backends.quantized.engine = int8_engine()
        with warnings.catch_warnings():
            # quantize_dynamic is deprecated in favour of torchao, which
            # this project does not depend on; it works as documented.
            warnings.simplefilter('ignore')
            torch.ao.quantization.quantize_dynamic(
                model, {nn.Linear}, dtype=torch.qint8, inplace=True)
    return model
