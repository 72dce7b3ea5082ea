"""Load official CLIP checkpoints into the CLIP towers, strictly.

Accepted files (a state dict of ``open_clip.CLIP`` in every case):

* open_clip's ``open_clip_pytorch_model.bin`` / ``.pt`` (``torch.save``-d
  state dict) and ``.safetensors``;
* OpenAI's TorchScript ``ViT-B-16.pt``; its integer entries
  ``input_resolution``, ``context_length`` and ``vocab_size`` are dropped.

The image tower takes the ``visual.*`` entries, the text tower every other
entry except ``logit_scale`` / ``logit_bias`` (the contrastive temperature,
which neither tower uses). Position embeddings are resized to the tower:
the image grid is interpolated bicubically, the text positions are cut to
the first ``context_length`` rows.
"""
import logging
import math
from typing import Dict, Optional, Sequence, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.logging import print_log
from open_clip.transformer import QuickGELU

from ...utils.checkpoint_file import CheckpointError
from ..utils.weights import (load_state_dict_strict, read_state_dict,
                             select_prefix)

OPENAI_EXTRA_KEYS = ('input_resolution', 'context_length', 'vocab_size')
TEXT_IGNORED_KEYS = ('logit_scale', 'logit_bias')
VISUAL_PREFIX = 'visual.'


def read_clip_state_dict(
        path: str,
        tower: Optional[nn.Module] = None) -> Dict[str, torch.Tensor]:
    """Read a CLIP checkpoint (open_clip or OpenAI format).

    Args:
        path (str): The weight file.
        tower (nn.Module, optional): The destination; for an OpenAI file
            (trained with QuickGELU) a warning is logged when ``tower`` has
            no QuickGELU activation. Defaults to None.

    Returns:
        dict[str, Tensor]: The state dict of the whole CLIP model, without
        OpenAI's integer entries.
    """
    state_dict = read_state_dict(path, allow_torchscript=True)
    is_openai = any(k in state_dict for k in OPENAI_EXTRA_KEYS)
    if is_openai and tower is not None and not any(
            isinstance(m, QuickGELU) for m in tower.modules()):
        print_log(
            f'{path} holds OpenAI weights, trained with QuickGELU, but '
            f'{type(tower).__name__} uses GELU: set quick_gelu=True or a '
            "'-quickgelu' model_name",
            logger='current',
            level=logging.WARNING)
    return {k: v for k, v in state_dict.items() if k not in OPENAI_EXTRA_KEYS}


def resize_pos_embed(pos_embed: torch.Tensor,
                     src_grid: Sequence[int],
                     dst_grid: Sequence[int],
                     num_prefix_tokens: int = 1) -> torch.Tensor:
    """Interpolate a ViT position embedding to another patch grid.

    Args:
        pos_embed (Tensor): ``(num_prefix_tokens + h * w, C)``; the prefix
            (class token) rows are kept as they are.
        src_grid (Sequence[int]): ``(h, w)`` of ``pos_embed``.
        dst_grid (Sequence[int]): The target ``(h', w')``.
        num_prefix_tokens (int): Rows before the grid. Defaults to 1.

    Returns:
        Tensor: ``(num_prefix_tokens + h' * w', C)`` (bicubic, antialiased
        when shrinking), in the dtype of ``pos_embed``.
    """
    src_grid, dst_grid = tuple(src_grid), tuple(dst_grid)
    if src_grid == dst_grid:
        return pos_embed
    prefix, grid = pos_embed[:num_prefix_tokens], pos_embed[num_prefix_tokens:]
    channels = grid.shape[-1]
    grid = grid.float().reshape(1, *src_grid, channels).permute(0, 3, 1, 2)
    grid = F.interpolate(
        grid,
        size=dst_grid,
        mode='bicubic',
        align_corners=False,
        antialias=True)
    grid = grid.permute(0, 2, 3, 1).reshape(-1, channels).to(pos_embed.dtype)
    return torch.cat([prefix, grid], dim=0)


def _square_grid(num_tokens: int, source: str) -> Tuple[int, int]:
    """The square grid of ``num_tokens`` patches in a checkpoint."""
    side = math.isqrt(num_tokens)
    if side * side != num_tokens:
        raise CheckpointError(
            f'checkpoint {source}: visual.positional_embedding holds '
            f'{num_tokens} patch positions, not a square grid')
    return side, side


def load_clip_visual(visual: nn.Module, path: str) -> None:
    """Load the ``visual.*`` entries of a CLIP checkpoint strictly.

    Args:
        visual (nn.Module): An ``open_clip`` ``VisionTransformer`` with
            ``grid_size`` and ``positional_embedding``.
        path (str): The weight file; its position embedding is interpolated
            to ``visual.grid_size``.
    """
    state_dict = select_prefix(
        read_clip_state_dict(path, visual), VISUAL_PREFIX)
    if not state_dict:
        raise CheckpointError(
            f'checkpoint {path} holds no {VISUAL_PREFIX}* keys: not a CLIP '
            'checkpoint with an image tower')
    pos_embed = state_dict.get('positional_embedding')
    if pos_embed is not None and pos_embed.ndim == 2 and (
            pos_embed.shape[-1] == visual.positional_embedding.shape[-1]):
        src_grid = _square_grid(pos_embed.shape[0] - 1, path)
        if src_grid != tuple(visual.grid_size):
            # in float32, so that fp16 (OpenAI) files lose no precision here
            state_dict['positional_embedding'] = resize_pos_embed(
                pos_embed.float(), src_grid, visual.grid_size)
    load_state_dict_strict(visual, state_dict, source=path)


def load_clip_text(tower: nn.Module, path: str) -> None:
    """Load the text entries of a CLIP checkpoint strictly.

    Args:
        tower (nn.Module): A module holding open_clip's text parts under
            their names (``token_embedding``, ``positional_embedding``,
            ``transformer``, ``ln_final``, ``text_projection``).
        path (str): The weight file. Every entry outside ``visual.*`` is
            expected except ``logit_scale`` / ``logit_bias``; a longer
            position embedding is cut to the tower's first rows.
    """
    state_dict = {
        k: v
        for k, v in read_clip_state_dict(path, tower).items()
        if not k.startswith(VISUAL_PREFIX) and k not in TEXT_IGNORED_KEYS
    }
    if not state_dict:
        raise CheckpointError(f'checkpoint {path} holds no text tower keys: '
                              'not a CLIP checkpoint with a text tower')
    pos_embed = state_dict.get('positional_embedding')
    num_pos = tower.positional_embedding.shape[0]
    if pos_embed is not None and pos_embed.ndim == 2 and (pos_embed.shape[0]
                                                          > num_pos):
        state_dict['positional_embedding'] = pos_embed[:num_pos]
    load_state_dict_strict(tower, state_dict, source=path)
