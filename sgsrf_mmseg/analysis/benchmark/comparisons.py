"""What the model is compared with: its towers alone, and itself with each
optimisation switch flipped.

The floor is the model's two towers as their libraries write them, built
from the same config: ``open_clip.CLIP`` (``encode_image`` at the input
size, ``encode_text`` at the CLIP context length) and segment_anything's
``ImageEncoderViT`` with its own attention; forward (eval, no grad) and
forward + backward (of the output's mean). A switch comparison times the
training step of a fresh model per switch, without stage hooks.
"""
import copy
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import open_clip
import torch
import torch.nn as nn

from sgsrf_mmseg.models.clip.builder import build_clip, resolve_clip_config
from sgsrf_mmseg.models.sam.builder import build_sam_modules
from .inputs import (BenchmarkSettings, accepts, arg_value, build_model,
                     preprocess)
from .meters import measure_or_oom
from .phases import measure_train, time_call
from .record import Floor, FloorTotal, SwitchRun, TowerTime, TrainStep, ratio

FLOOR_PARTS = ('clip_image', 'clip_text', 'sam_image_encoder')


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
                  settings: BenchmarkSettings) -> TowerTime:
    """Forward and forward+backward of one library tower.

    Args:
        tower (nn.Module): The tower (its mode and gradients are set).
        encode (Callable): The call that encodes ``inputs``.
        inputs (Tensor): A batch on the device.
        settings (BenchmarkSettings): Timing settings.

    Returns:
        TowerTime: Both times, the peak of the forward+backward runs.
    """
    result = TowerTime()

    def forward():
        with torch.no_grad(), settings.autocast():
            encode(inputs)

    def forward_backward():
        with settings.autocast():
            out = encode(inputs)
        out.float().mean().backward()
        tower.zero_grad(set_to_none=True)

    tower.eval()
    timed, result.error = measure_or_oom(settings.torch_device, time_call,
                                         forward, settings)
    if timed is None:
        return result
    result.forward_ms = round(timed[0], 3)
    tower.train()
    timed, result.error = measure_or_oom(settings.torch_device, time_call,
                                         forward_backward, settings)
    if timed is not None:
        result.forward_backward_ms = round(timed[0], 3)
        result.peak_mib = timed[1]['peak_mib']
    return result


def measure_floor(model_cfg: dict, size: int, texts: List[str],
                  settings: BenchmarkSettings) -> Floor:
    """The library towers alone, each part and their total.

    Args:
        model_cfg (dict): The model config (at the benchmark's size).
        size (int): The input size.
        texts (list[str]): The batch's expressions.
        settings (BenchmarkSettings): Device, batch size, timing.

    Returns:
        Floor: :data:`FLOOR_PARTS` (None where the config has no such tower)
        and their ``total`` (the ratios to the model are left to the
        caller).
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
    measured = [p for p in parts.values() if p is not None]
    total = FloorTotal()
    for key in ('forward_ms', 'forward_backward_ms'):
        times = [getattr(p, key) for p in measured]
        if times and None not in times:
            setattr(total, key, round(sum(times), 3))
    return Floor(**parts, total=total)


#: Switch -> (module key, argument, kind) changes. ``toggle`` flips a bool;
#: ``freeze`` sets ``frozen_stages`` to the tower's depth.
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


def tower_depths(model: nn.Module) -> Dict[str, Optional[int]]:
    """Depth of each tower of a built SGSRF model, by its module key."""
    sam = getattr(getattr(model, 'decode_head', None), 'image_encoder', None)
    return {
        'image_encoder':
        getattr(getattr(model, 'image_encoder', None), 'num_layers', None),
        'text_encoder':
        getattr(getattr(model, 'text_encoder', None), 'num_layers', None),
        'decode_head':
        len(sam.blocks) if hasattr(sam, 'blocks') else None,
    }


def available_switches(model_cfg: dict, model: nn.Module,
                       requested: Sequence[str]) -> Dict[str, dict]:
    """The switches the config offers, as ``{name: {key: new value}}``.

    Args:
        model_cfg (dict): The model config.
        model (nn.Module): The model built from it (for the tower depths).
        requested (Sequence[str]): Switch names; empty: every switch.

    Returns:
        dict[str, dict]: Switch -> dotted ``module.argument`` -> value. A
        switch whose module does not take the argument, or a freeze that
        the config already applies, is left out.
    """
    unknown = set(requested) - set(SWITCHES)
    if unknown:
        raise ValueError(f'unknown switches {sorted(unknown)}; known: '
                         f'{sorted(SWITCHES)}')
    depths = tower_depths(model)
    variants = {}
    for name in list(requested) or list(SWITCHES):
        changes = {}
        for module_key, arg, kind in SWITCHES[name]:
            module_cfg = model_cfg.get(module_key)
            if not accepts(module_cfg, arg):
                break
            current = arg_value(module_cfg, arg)
            if kind == 'toggle':
                changes[f'{module_key}.{arg}'] = not current
            elif depths[module_key] is not None and (current
                                                     < depths[module_key]):
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


def _train_step(model_cfg: dict, batch: dict,
                settings: BenchmarkSettings) -> TrainStep:
    """The training step of a fresh model without stage hooks."""
    model = build_model(model_cfg, settings.torch_device)
    return measure_train(
        model, preprocess(model, batch, True), settings, with_stages=False)[0]


def measure_variant(model_cfg: dict, changes: dict, batch: dict,
                    settings: BenchmarkSettings) -> SwitchRun:
    """Training step of a fresh model with ``changes`` applied."""
    result = SwitchRun(changes=changes)
    train, result.error = measure_or_oom(settings.torch_device, _train_step,
                                         apply_changes(model_cfg, changes),
                                         batch, settings)
    if train is not None:
        result.step_ms, result.images_per_s = train.step_ms, train.images_per_s
        result.peak_mib = train.peak_mib
        result.peak_delta_mib = train.peak_delta_mib
    return result


def compare_switches(model_cfg: dict, variants: Dict[str, dict], batch: dict,
                     settings: BenchmarkSettings) -> Dict[str, SwitchRun]:
    """The baseline and each variant, measured the same way.

    Args:
        model_cfg (dict): The model config.
        variants (dict[str, dict]): :func:`available_switches`.
        batch (dict): The synthetic batch.
        settings (BenchmarkSettings): Timing settings.

    Returns:
        dict[str, SwitchRun]: ``baseline`` (no change) then each variant;
        speedup = baseline ms / variant ms.
    """
    compare = dict(baseline=measure_variant(model_cfg, {}, batch, settings))
    for name, changes in variants.items():
        compare[name] = measure_variant(model_cfg, changes, batch, settings)
    for entry in compare.values():
        entry.speedup = ratio(compare['baseline'].step_ms, entry.step_ms)
    return compare
