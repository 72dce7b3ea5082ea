"""An mmpretrain ViT backbone as a dense image tower."""
import math
from typing import Dict, List, Optional, Sequence

import torch
import torch.nn as nn
from mmengine.model import BaseModule
from mmseg.registry import MODELS
from mmseg.utils import OptConfigType

from ..input_geometry import patch_grid
from ..sam.weights import resize_rel_pos
from ..utils.pixel_normalizer import PixelNormalizer
from ..utils.weights import (load_state_dict_strict, read_state_dict,
                             select_prefix)
from .clip_image_encoder import CLIP_NORMALIZE

#: Parts of an mmpretrain classifier checkpoint that a tower does not have.
CLASSIFIER_PREFIXES = ('head.', 'neck.', 'data_preprocessor.')


def adapt_position_tables(state_dict: Dict[str, torch.Tensor],
                          backbone: nn.Module) -> Dict[str, torch.Tensor]:
    """Resize a checkpoint's position tables to ``backbone``'s input size.

    As mmpretrain's own load hooks do (which run only after the strict
    shape check): ``pos_embed`` of ``VisionTransformer`` (``(1, extra + h *
    w, C)``, a square checkpoint grid) and of ``ViTSAM`` (``(1, H, W, C)``)
    through mmpretrain's bicubic ``resize_pos_embed``, ViTSAM's
    ``rel_pos_h`` / ``rel_pos_w`` linearly. Any other mismatch is left for
    the strict loader to report.

    Args:
        state_dict (dict): Backbone tensors (prefix already stripped).
        backbone (nn.Module): The destination.

    Returns:
        dict: A new dict with the resized tensors.
    """
    from mmpretrain.models.utils import resize_pos_embed
    own = backbone.state_dict()
    out = dict(state_dict)
    for key, value in state_dict.items():
        target = own.get(key)
        if target is None or target.shape == value.shape:
            continue
        if key == 'pos_embed' and value.ndim == target.ndim in (3, 4):
            extra = getattr(backbone, 'num_extra_tokens', 0)
            tokens = value.flatten(1, -2)
            side = math.isqrt(tokens.shape[1] - extra)
            if side * side == tokens.shape[1] - extra:
                resized = resize_pos_embed(tokens, (side, side),
                                           backbone.patch_resolution,
                                           backbone.interpolate_mode, extra)
                out[key] = resized.view(target.shape)
        elif key.endswith(('.rel_pos_h', '.rel_pos_w')) and value.ndim == 2:
            out[key] = resize_rel_pos(value, target.shape[0])
    return out


@MODELS.register_module()
class MMPretrainImageTower(BaseModule):
    """An mmpretrain backbone returning multi-level patch maps.

    ``self.backbone`` is the mmpretrain module itself (so the ``backbone.*``
    entries of an mmpretrain checkpoint load strictly under their own
    names), e.g. ``mmpretrain.VisionTransformer`` with
    ``out_type='featmap'`` (CLIP: ``pre_norm=True``, QuickGELU for OpenAI's
    weights) or ``mmpretrain.ViTSAM`` (``out_channels=0`` for raw maps).
    Like :class:`CLIPImageEncoder` it normalises 0..255 RGB itself
    (``normalize``; refusing input a data preprocessor normalised already)
    or, with ``normalize=None``, takes the preprocessor's normalised input,
    and returns one ``(B, C, H / p, W / p)`` map per out index.

    Args:
        backbone (dict): The backbone config; its type must be scoped,
            ``'mmpretrain.<Name>'`` (a bare ``'VisionTransformer'`` is
            mmseg's own class in the ``mmseg`` scope). It is built in the
            ``mmpretrain`` scope, so that types inside it (``'QuickGELU'``)
            are mmpretrain's.
        normalize (dict, optional): ``mean`` and ``std`` (0..255 scale) the
            tower normalises its input with (ImageNet's for a SAM backbone);
            None when the data preprocessor normalises. Defaults to CLIP's.
        pretrained (str, optional): An mmpretrain checkpoint (possibly
            under ``'state_dict'``) loaded strictly in ``init_weights``;
            position tables are resized to ``img_size``. Defaults to None.
        checkpoint_prefix (str): Where the backbone's entries are in the
            checkpoint: ``'backbone.'`` for a classifier (``ImageClassifier``
            checkpoints), ``'visual.'`` for a converted ``CLIPZeroShot``.
            Defaults to ``'backbone.'``.
        ignore_prefixes (Sequence[str]): Checkpoint entries left out, by
            their full names: the classifier parts of a classification
            checkpoint by default; add e.g. ``'backbone.channel_reduction.'``
            to load a SAM checkpoint into a ViTSAM without its neck.
            Defaults to ``('head.', 'neck.', 'data_preprocessor.')``.
        init_cfg (dict, optional): mmengine init config; not allowed
            together with ``pretrained``. Defaults to None.
    """

    def __init__(self,
                 backbone: dict,
                 normalize: Optional[dict] = CLIP_NORMALIZE,
                 pretrained: Optional[str] = None,
                 checkpoint_prefix: str = 'backbone.',
                 ignore_prefixes: Sequence[str] = CLASSIFIER_PREFIXES,
                 init_cfg: OptConfigType = None):
        if pretrained is not None and init_cfg is not None:
            raise ValueError('pretrained and init_cfg cannot both be set')
        kind = backbone.get('type')
        if not (isinstance(kind, str) and kind.startswith('mmpretrain.')):
            raise ValueError(
                f"backbone.type must be 'mmpretrain.<Name>', got {kind!r} "
                "(in the mmseg scope a bare 'VisionTransformer' is mmseg's)")
        super().__init__(init_cfg=init_cfg)
        # Nested bare types (e.g. act_cfg=dict(type='QuickGELU')) resolve in
        # mmpretrain's scope, not in the caller's.
        self.backbone = MODELS.build(dict(backbone, _scope_='mmpretrain'))
        self.patch_size = int(self.backbone.patch_embed.projection.stride[0])
        self.pretrained = pretrained
        self.checkpoint_prefix = checkpoint_prefix
        self.ignore_prefixes = tuple(ignore_prefixes)
        self.normalizer = PixelNormalizer(normalize, type(self).__name__)

    def init_weights(self) -> None:
        """Run mmengine's init, then load ``pretrained`` strictly."""
        super().init_weights()
        if self.pretrained is None:
            return
        state_dict = {
            k: v
            for k, v in read_state_dict(self.pretrained).items()
            if not k.startswith(self.ignore_prefixes)
        }
        prefix = self.checkpoint_prefix
        outside = sorted(k for k in state_dict if not k.startswith(prefix))
        if outside:
            raise KeyError(f'{self.pretrained}: entries outside {prefix}* '
                           f'(not part of the backbone): {outside}')
        state_dict = select_prefix(state_dict, prefix)
        load_state_dict_strict(
            self.backbone,
            adapt_position_tables(state_dict, self.backbone),
            source=self.pretrained)

    def forward(self, img: torch.Tensor) -> List[torch.Tensor]:
        """Extract patch maps.

        Args:
            img (Tensor): ``(B, 3, H, W)`` RGB in 0..255; H and W multiples
                of ``patch_size``.

        Returns:
            list[Tensor]: One ``(B, C, H / p, W / p)`` map per out index.
        """
        grid = patch_grid(img.shape[-2:], self.patch_size, type(self).__name__)
        outs = list(self.backbone(self.normalizer(img)))
        for out in outs:
            if out.ndim != 4 or tuple(out.shape[-2:]) != grid:
                raise ValueError(
                    f'{type(self.backbone).__name__} returned '
                    f'{tuple(out.shape)}, not (B, C, {grid[0]}, {grid[1]}) '
                    "maps: set out_type='featmap'")
        return outs
