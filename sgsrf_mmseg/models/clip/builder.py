"""Build ``open_clip.CLIP`` towers from a named or an explicit config."""
import copy
from typing import Optional

import open_clip
import torch.nn as nn

# A tower of this size is built in place of the tower a wrapper discards, so
# that ``open_clip.CLIP`` (which always builds both) stays cheap to build.
_STUB_VISION_CFG = dict(
    image_size=1, patch_size=1, width=8, head_width=8, layers=1)
_STUB_TEXT_CFG = dict(
    context_length=1, vocab_size=1, width=8, heads=1, layers=1)


def resolve_clip_config(model_name: Optional[str], tower: str,
                        tower_cfg: Optional[dict], embed_dim: Optional[int],
                        quick_gelu: Optional[bool]) -> dict:
    """Merge a named open_clip config with explicit overrides.

    Args:
        model_name (str, optional): A config bundled with open_clip
            (``open_clip.list_models()``), e.g. ``'ViT-B-16'``.
        tower (str): ``'vision_cfg'`` or ``'text_cfg'``.
        tower_cfg (dict, optional): Fields of that tower; they override the
            named config, or define the tower when ``model_name`` is None.
        embed_dim (int, optional): Joint embedding size; overrides the named
            config.
        quick_gelu (bool, optional): QuickGELU activations (OpenAI weights
            were trained with them); None takes the named config's value
            (False when absent).

    Returns:
        dict: ``embed_dim``, ``quick_gelu`` and the tower's config.
    """
    if model_name is not None:
        if model_name not in open_clip.list_models():
            raise ValueError(
                f'model_name={model_name!r} is not a config bundled with '
                'open_clip (see open_clip.list_models())')
        named = open_clip.get_model_config(model_name)
        cfg = dict(named[tower])
        cfg.update(tower_cfg or {})
        embed_dim = named['embed_dim'] if embed_dim is None else embed_dim
        if quick_gelu is None:
            quick_gelu = named.get('quick_gelu', False)
    else:
        if tower_cfg is None or embed_dim is None:
            raise ValueError(f'without model_name, both {tower} and '
                             'embed_dim must be given')
        cfg = copy.deepcopy(dict(tower_cfg))
    return dict(
        embed_dim=embed_dim, quick_gelu=bool(quick_gelu), tower_cfg=cfg)


def build_clip(embed_dim: int,
               quick_gelu: bool,
               vision_cfg: Optional[dict] = None,
               text_cfg: Optional[dict] = None) -> nn.Module:
    """Build ``open_clip.CLIP``; a missing tower config gets a tiny stub.

    Args:
        embed_dim (int): Joint embedding size.
        quick_gelu (bool): Use QuickGELU activations.
        vision_cfg (dict, optional): Image tower config. Defaults to None
            (a stub).
        text_cfg (dict, optional): Text tower config. Defaults to None
            (a stub).

    Returns:
        open_clip.CLIP: The model; the caller keeps the tower it needs.
    """
    return open_clip.CLIP(
        embed_dim=embed_dim,
        vision_cfg=vision_cfg or _STUB_VISION_CFG,
        text_cfg=text_cfg or _STUB_TEXT_CFG,
        quick_gelu=quick_gelu)
