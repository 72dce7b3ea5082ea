"""How much each loss term pulls on each trainable part of a model.

For a few training batches, the gradient of every loss term is taken
separately (``torch.autograd.grad``) and its L2 norm measured on each
trainable part (the towers, CCR, GPG, SAM's encoder, adapters and
decoder). A term whose gradient dwarfs the mask loss's on a part decides
alone what that part learns.
"""
import copy
import logging
from collections import OrderedDict
from typing import Dict, List, Optional

import torch
import torch.nn as nn
from mmengine.config import Config
from mmengine.runner import Runner, load_checkpoint, set_random_seed
from mmseg.registry import MODELS

from .logger_level import current_logger_at

#: Parts of an SGSRF model, most specific prefix first.
PART_PREFIXES = ('decode_head.image_encoder', 'decode_head.grounding_adapters',
                 'decode_head.mask_decoder', 'decode_head', 'image_encoder',
                 'text_encoder', 'refiner', 'prompt_generator')


def model_parts(model: nn.Module) -> Dict[str, List[nn.Parameter]]:
    """Trainable parameters grouped by part (first matching prefix)."""
    parts: Dict[str, List[nn.Parameter]] = OrderedDict()
    for name, param in model.named_parameters():
        if not param.requires_grad:
            continue
        part = next((p for p in PART_PREFIXES if name.startswith(p + '.')),
                    name.split('.')[0])
        parts.setdefault(part, []).append(param)
    return parts


def term_gradient_norms(
        model: nn.Module, data_batch: dict,
        parts: Dict[str, List[nn.Parameter]]) -> Dict[str, Dict[str, float]]:
    """Gradient norm of each loss term on each part, for one batch.

    Args:
        model (nn.Module): A segmentor in train mode.
        data_batch (dict): A batch as the data loader yields it.
        parts (dict): Part name -> parameters (:func:`model_parts`).

    Returns:
        dict: term -> part -> norm (0.0 where the term does not reach).
    """
    data = model.data_preprocessor(data_batch, True)
    losses = model(**data, mode='loss')
    params = [p for group in parts.values() for p in group]
    norms = OrderedDict()
    for term, value in losses.items():
        if 'loss' not in term:
            continue
        grads = torch.autograd.grad(
            value, params, retain_graph=True, allow_unused=True)
        per_param = iter(grads)
        norms[term] = OrderedDict()
        for part, group in parts.items():
            sq = sum(
                float(g.float().pow(2).sum())
                for g in (next(per_param) for _ in group) if g is not None)
            norms[term][part] = sq**0.5
    return norms


def gradient_shares(cfg: Config,
                    checkpoint: Optional[str] = None,
                    num_batches: int = 4,
                    seed: int = 0) -> dict:
    """Mean gradient norm of every loss term on every part over batches.

    Args:
        cfg (Config): A full training config.
        checkpoint (str, optional): Weights to measure at (e.g. after
            warm-up); None measures at initialisation. Defaults to None.
        num_batches (int): Training batches to average. Defaults to 4.
        seed (int): Seed of the model initialisation and the batches.
            Defaults to 0.

    Returns:
        dict: ``norms`` (term -> part -> mean norm), ``mask_share`` (part ->
        the mask terms' share of the summed norms), ``batches`` and
        ``checkpoint``.
    """
    set_random_seed(seed)
    model = MODELS.build(cfg.model)
    with current_logger_at(logging.WARNING):  # no per-parameter report
        model.init_weights()
    if checkpoint is not None:
        load_checkpoint(model, checkpoint, map_location='cpu', strict=True)
    model.train()
    loader_cfg = copy.deepcopy(cfg.train_dataloader)
    loader_cfg.update(num_workers=0, persistent_workers=False)
    loader = Runner.build_dataloader(loader_cfg, seed=seed)
    parts = model_parts(model)
    totals: Dict[str, Dict[str, float]] = OrderedDict()
    for index, batch in enumerate(loader):
        if index == num_batches:
            break
        for term, per_part in term_gradient_norms(model, batch, parts).items():
            row = totals.setdefault(term, OrderedDict())
            for part, norm in per_part.items():
                row[part] = row.get(part, 0.0) + norm / num_batches
    mask_terms = [t for t in totals if t.startswith('decode.')]
    mask_share = OrderedDict()
    for part in parts:
        total = sum(row[part] for row in totals.values())
        mask = sum(totals[t][part] for t in mask_terms)
        mask_share[part] = mask / total if total else 0.0
    return dict(
        norms=totals,
        mask_share=mask_share,
        batches=num_batches,
        checkpoint=checkpoint)


def render_table(report: dict) -> str:
    """The report as a markdown table (terms x parts, mask share last)."""
    terms = list(report['norms'])
    parts = list(report['mask_share'])
    lines = [
        '| part | ' + ' | '.join(terms) + ' | mask share |',
        '|---|' + '---:|' * (len(terms) + 1)
    ]
    for part in parts:
        cells = [f"{report['norms'][t][part]:.3g}" for t in terms]
        lines.append(f'| {part} | ' + ' | '.join(cells) +
                     f" | {100 * report['mask_share'][part]:.0f}% |")
    return '\n'.join(lines)
