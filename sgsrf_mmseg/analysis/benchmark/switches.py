"""The training step with each optimisation switch of a config flipped."""
import copy
from typing import Dict, Optional, Sequence, Tuple

import torch.nn as nn

from .model_config import accepts, arg_value, build_model
from .out_of_memory import measure_or_oom
from .results import empty, ratio
from .settings import BenchmarkSettings
from .synthetic_batch import preprocess
from .timing import measure_train

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
VARIANT_FIELDS = ('changes', 'step_ms', 'images_per_s', 'peak_mib',
                  'peak_delta_mib', 'speedup', 'error')


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
                settings: BenchmarkSettings) -> dict:
    """The ``train`` record of a fresh model without stage hooks."""
    model = build_model(model_cfg, settings.torch_device)
    return measure_train(
        model, preprocess(model, batch, True), settings, with_stages=False)[0]


def measure_variant(model_cfg: dict, changes: dict, batch: dict,
                    settings: BenchmarkSettings) -> dict:
    """Training step of a fresh model with ``changes`` applied."""
    result = dict(empty(VARIANT_FIELDS), changes=changes)
    train, result['error'] = measure_or_oom(settings.torch_device, _train_step,
                                            apply_changes(model_cfg, changes),
                                            batch, settings)
    if train is not None:
        for key in ('step_ms', 'images_per_s', 'peak_mib', 'peak_delta_mib'):
            result[key] = train[key]
    return result


def compare_switches(model_cfg: dict, variants: Dict[str, dict], batch: dict,
                     settings: BenchmarkSettings) -> dict:
    """The baseline and each variant, measured the same way.

    Args:
        model_cfg (dict): The model config.
        variants (dict[str, dict]): :func:`available_switches`.
        batch (dict): The synthetic batch.
        settings (BenchmarkSettings): Timing settings.

    Returns:
        dict[str, dict]: ``baseline`` (no change) then each variant
        (:data:`VARIANT_FIELDS`); speedup = baseline ms / variant ms.
    """
    compare = dict(baseline=measure_variant(model_cfg, {}, batch, settings))
    for name, changes in variants.items():
        compare[name] = measure_variant(model_cfg, changes, batch, settings)
    for entry in compare.values():
        entry['speedup'] = ratio(compare['baseline']['step_ms'],
                                 entry['step_ms'])
    return compare
