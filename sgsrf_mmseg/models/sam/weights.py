"""Strict loading of official SAM checkpoints at any input resolution.

An official ``sam_vit_{b,l,h}_*.pth`` is a state dict with ``image_encoder.*``,
``prompt_encoder.*`` and ``mask_decoder.*`` keys, made for 1024-px inputs.
At another ``img_size`` only two kinds of image-encoder tensors change shape
and are interpolated here:

* ``image_encoder.pos_embed`` (1, g, g, C) with ``g = img_size / patch``:
  bicubic on the grid;
* ``rel_pos_h`` / ``rel_pos_w`` (2g - 1, head_dim) of the global-attention
  blocks: linear along the length, as segment_anything's ``get_rel_pos``
  does at run time. Windowed blocks keep 2 * window - 1 and are untouched.

The prompt encoder has no resolution-dependent tensor: its positional
encoding is a fixed (2, C/2) Gaussian matrix (a buffer) evaluated on the
grid at run time; the image and embedding sizes are plain attributes.

``pixel_mean`` / ``pixel_std`` are buffers of segment_anything's ``Sam``;
they are not saved by ``Sam.state_dict()`` (non-persistent), but a file
written from another wrapper may carry them. They are known keys: when
present they must equal the normalisation the model uses, then they are
dropped. Any other missing or unexpected key is an error naming the keys
and the file.
"""
from typing import Dict, Optional, Sequence

import torch
import torch.nn as nn
import torch.nn.functional as F

from ...utils.checkpoint_file import CheckpointError
from ..utils.weights import load_state_dict_strict, read_state_dict

#: Keys a SAM file may hold outside the three modules.
SAM_NORM_KEYS = ('pixel_mean', 'pixel_std')


class SAMModules(nn.Module):
    """The three SAM modules under the names of an official file."""

    def __init__(self, image_encoder: nn.Module, prompt_encoder: nn.Module,
                 mask_decoder: nn.Module) -> None:
        super().__init__()
        self.image_encoder = image_encoder
        self.prompt_encoder = prompt_encoder
        self.mask_decoder = mask_decoder


def resize_pos_embed(pos_embed: torch.Tensor,
                     grid: Sequence[int]) -> torch.Tensor:
    """Bicubic resize of SAM's (1, H, W, C) absolute position embedding."""
    resized = F.interpolate(
        pos_embed.float().permute(0, 3, 1, 2),
        size=tuple(grid),
        mode='bicubic',
        align_corners=False)
    return resized.permute(0, 2, 3, 1).to(pos_embed.dtype).contiguous()


def resize_rel_pos(rel_pos: torch.Tensor, length: int) -> torch.Tensor:
    """Linear resize of a (L, head_dim) relative-position table to length."""
    resized = F.interpolate(
        rel_pos.float().t()[None],
        size=length,
        mode='linear',
        align_corners=False)
    return resized[0].t().to(rel_pos.dtype).contiguous()


def adapt_sam_state_dict(
        state_dict: Dict[str, torch.Tensor],
        model_state: Dict[str, torch.Tensor]) -> Dict[str, torch.Tensor]:
    """Resize the resolution-dependent image-encoder tensors to the model.

    Args:
        state_dict (dict): SAM tensors (``image_encoder.*`` ...).
        model_state (dict): The destination's state dict (same names).

    Returns:
        dict: A new dict; other tensors are passed through unchanged, so a
        shape mismatch elsewhere is left for the strict loader to report.
    """
    out = dict(state_dict)
    for key, value in state_dict.items():
        target = model_state.get(key)
        if target is None or target.shape == value.shape:
            continue
        rel_pos = key.startswith('image_encoder.blocks.') and key.endswith(
            ('.rel_pos_h', '.rel_pos_w'))
        if key == 'image_encoder.pos_embed' and value.ndim == 4:
            out[key] = resize_pos_embed(value, target.shape[1:3])
        elif rel_pos and value.ndim == 2:
            out[key] = resize_rel_pos(value, target.shape[0])
    return out


def load_sam_weights(path: str,
                     image_encoder: Optional[nn.Module],
                     prompt_encoder: nn.Module,
                     mask_decoder: nn.Module,
                     pixel_mean: Optional[torch.Tensor] = None,
                     pixel_std: Optional[torch.Tensor] = None) -> None:
    """Load an official SAM file strictly into its three modules.

    Args:
        path (str): ``sam_vit_{b,l,h}_*.pth`` (a state dict).
        image_encoder (nn.Module, optional): segment_anything
            ``ImageEncoderViT``; None loads the prompt encoder and the mask
            decoder only, leaving the file's ``image_encoder.*`` entries
            unused (a model that encodes the image otherwise).
        prompt_encoder (nn.Module): segment_anything ``PromptEncoder``.
        mask_decoder (nn.Module): segment_anything ``MaskDecoder``.
        pixel_mean (Tensor, optional): The model's normalisation mean (3
            values, 0..255 scale) checked against the file's, if it has one.
            Defaults to None (SAM's).
        pixel_std (Tensor, optional): Same for the std. Defaults to None.
    """
    state_dict = read_state_dict(path)
    expected = dict(
        pixel_mean=pixel_mean
        if pixel_mean is not None else torch.tensor([123.675, 116.28, 103.53]),
        pixel_std=pixel_std
        if pixel_std is not None else torch.tensor([58.395, 57.12, 57.375]))
    for key in SAM_NORM_KEYS:
        if key not in state_dict:
            continue
        value = state_dict.pop(key).flatten().float()
        if not torch.allclose(value, expected[key].flatten().float().cpu()):
            raise CheckpointError(
                f'checkpoint {path}: {key} {value.tolist()} differs from the '
                f'model\'s normalisation {expected[key].flatten().tolist()}')
    if image_encoder is None:
        state_dict = {
            k: v
            for k, v in state_dict.items()
            if not k.startswith('image_encoder.')
        }
    sam = SAMModules(image_encoder, prompt_encoder, mask_decoder)
    state_dict = adapt_sam_state_dict(state_dict, sam.state_dict())
    load_state_dict_strict(sam, state_dict, source=path)
