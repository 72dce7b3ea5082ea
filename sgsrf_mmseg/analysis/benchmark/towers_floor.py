"""The floor: the model's two towers as their libraries write them.

Built from the same config: ``open_clip.CLIP`` (``encode_image`` at the
input size, ``encode_text`` at the CLIP context length) and
segment_anything's ``ImageEncoderViT`` with its own attention; forward
(eval, no grad) and forward + backward (of the output's mean).
"""
from typing import Callable, List, Optional

import open_clip
import torch
import torch.nn as nn

from sgsrf_mmseg.models.clip.builder import build_clip, resolve_clip_config
from sgsrf_mmseg.models.sam.builder import build_sam_modules
from .model_config import accepts, arg_value
from .out_of_memory import measure_or_oom
from .results import empty
from .settings import BenchmarkSettings
from .timing import time_call

FLOOR_PARTS = ('clip_image', 'clip_text', 'sam_image_encoder')
FLOOR_PART_FIELDS = ('forward_ms', 'forward_backward_ms', 'peak_mib', 'error')


def _resolve_tower(module_cfg: dict, tower: str) -> dict:
    """``resolve_clip_config`` of one CLIP tower's module config."""
    return resolve_clip_config(
        arg_value(module_cfg, 'model_name'), tower,
        arg_value(module_cfg, tower), arg_value(module_cfg, 'embed_dim'),
        arg_value(module_cfg, 'quick_gelu'))


def build_clip_floor(model_cfg: dict, size: int) -> Optional[nn.Module]:
    """``open_clip.CLIP`` with the config's image and text towers.

    Args:
        model_cfg (dict): The model config.
        size (int): The input size.

    Returns:
        open_clip.CLIP | None: None when the config has no CLIP towers.
    """
    image_cfg = model_cfg.get('image_encoder')
    text_cfg = model_cfg.get('text_encoder')
    if not (accepts(image_cfg, 'vision_cfg')
            and accepts(text_cfg, 'text_cfg')):
        return None
    vision = _resolve_tower(image_cfg, 'vision_cfg')
    text = _resolve_tower(text_cfg, 'text_cfg')
    text_tower_cfg = dict(text['tower_cfg'])
    if arg_value(text_cfg, 'context_length') is not None:
        text_tower_cfg['context_length'] = arg_value(text_cfg,
                                                     'context_length')
    return build_clip(
        vision['embed_dim'],
        vision['quick_gelu'],
        vision_cfg=dict(vision['tower_cfg'], image_size=size),
        text_cfg=text_tower_cfg)


def build_sam_floor(model_cfg: dict) -> Optional[nn.Module]:
    """segment_anything's ``ImageEncoderViT`` with its own attention."""
    head_cfg = model_cfg.get('decode_head') or {}
    if 'sam' not in head_cfg:  # set for every SAM head by the input size
        return None
    return build_sam_modules(use_sdpa=False, **head_cfg['sam'])[0]


def measure_tower(tower: nn.Module, encode: Callable, inputs: torch.Tensor,
                  settings: BenchmarkSettings) -> dict:
    """Forward and forward+backward of one library tower.

    Args:
        tower (nn.Module): The tower (its mode and gradients are set).
        encode (Callable): The call that encodes ``inputs``.
        inputs (Tensor): A batch on the device.
        settings (BenchmarkSettings): Timing settings.

    Returns:
        dict: ``forward_ms``, ``forward_backward_ms``, the ``peak_mib`` of
        the forward+backward runs, and ``error``.
    """
    result = empty(FLOOR_PART_FIELDS)

    def forward():
        with torch.no_grad(), settings.autocast():
            encode(inputs)

    def forward_backward():
        with settings.autocast():
            out = encode(inputs)
        out.float().mean().backward()
        tower.zero_grad(set_to_none=True)

    tower.eval()
    timed, result['error'] = measure_or_oom(settings.torch_device, time_call,
                                            forward, settings)
    if timed is None:
        return result
    result['forward_ms'] = round(timed[0], 3)
    tower.train()
    timed, result['error'] = measure_or_oom(settings.torch_device, time_call,
                                            forward_backward, settings)
    if timed is not None:
        result['forward_backward_ms'] = round(timed[0], 3)
        result['peak_mib'] = timed[1]['peak_mib']
    return result


def measure_floor(model_cfg: dict, size: int, texts: List[str],
                  settings: BenchmarkSettings) -> dict:
    """The library towers alone, each part and their total.

    Args:
        model_cfg (dict): The model config (at the benchmark's size).
        size (int): The input size.
        texts (list[str]): The batch's expressions.
        settings (BenchmarkSettings): Device, batch size, timing.

    Returns:
        dict: :data:`FLOOR_PARTS` (None where the config has no such tower)
        and ``total`` (``forward_ms``, ``forward_backward_ms``; None unless
        every built part was measured).
    """
    device = settings.torch_device
    gen = torch.Generator().manual_seed(settings.seed)
    parts = dict.fromkeys(FLOOR_PARTS)
    clip = build_clip_floor(model_cfg, size)
    if clip is not None:
        clip = clip.to(device)
        images = torch.randn(
            settings.batch_size, 3, size, size, generator=gen).to(device)
        tokens = open_clip.tokenize(
            texts, context_length=clip.context_length).to(device)
        parts['clip_image'] = measure_tower(clip, clip.encode_image, images,
                                            settings)
        parts['clip_text'] = measure_tower(clip, clip.encode_text, tokens,
                                           settings)
        del clip, images, tokens
    sam = build_sam_floor(model_cfg)
    if sam is not None:
        sam = sam.to(device)
        images = torch.randn(
            settings.batch_size, 3, sam.img_size, sam.img_size,
            generator=gen).to(device)
        parts['sam_image_encoder'] = measure_tower(sam, sam, images, settings)
        del sam, images
    total = dict(forward_ms=None, forward_backward_ms=None)
    measured = [p for p in parts.values() if p is not None]
    for key in total:
        if measured and all(p[key] is not None for p in measured):
            total[key] = round(sum(p[key] for p in measured), 3)
    return dict(parts, total=total)
