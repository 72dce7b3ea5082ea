"""Build SAM's image encoder, prompt encoder and mask decoder at any size."""
from functools import partial
from typing import Dict, Optional, Tuple

import torch.nn as nn
from segment_anything.modeling import (ImageEncoderViT, PromptEncoder,
                                       TwoWayTransformer)

from .attention import use_sdpa_attention
from .batched_decoder import BatchedMaskDecoder

#: Image-encoder sizes of the official SAM checkpoints.
SAM_ARCHS: Dict[str, dict] = {
    'vit_b':
    dict(
        embed_dim=768,
        depth=12,
        num_heads=12,
        global_attn_indexes=(2, 5, 8, 11)),
    'vit_l':
    dict(
        embed_dim=1024,
        depth=24,
        num_heads=16,
        global_attn_indexes=(5, 11, 17, 23)),
    'vit_h':
    dict(
        embed_dim=1280,
        depth=32,
        num_heads=16,
        global_attn_indexes=(7, 15, 23, 31)),
}

#: Sizes shared by all official SAM models; any of them can be overridden.
SAM_DEFAULTS: Dict[str, object] = dict(
    patch_size=16,
    mlp_ratio=4.0,
    window_size=14,
    prompt_embed_dim=256,
    mask_in_chans=16,
    decoder_depth=2,
    decoder_num_heads=8,
    decoder_mlp_dim=2048,
    num_multimask_outputs=3,
    iou_head_depth=3,
    iou_head_hidden_dim=256,
)


def sam_config(arch: Optional[str] = None, **overrides) -> dict:
    """Full SAM size config from an arch name and/or explicit sizes.

    Args:
        arch (str, optional): 'vit_b', 'vit_l' or 'vit_h'. Without it,
            ``embed_dim``, ``depth``, ``num_heads`` and
            ``global_attn_indexes`` must be given. Defaults to None.
        **overrides: Any key of :data:`SAM_ARCHS` / :data:`SAM_DEFAULTS`
            and ``img_size``.

    Returns:
        dict: The sizes, with ``img_size`` (defaults to 1024).
    """
    cfg = dict(SAM_DEFAULTS, img_size=1024)
    if arch is not None:
        if arch not in SAM_ARCHS:
            raise KeyError(f'sam.arch={arch!r} is not one of '
                           f'{sorted(SAM_ARCHS)}')
        cfg.update(SAM_ARCHS[arch])
    unknown = set(overrides) - set(cfg) - set(SAM_ARCHS['vit_b'])
    if unknown:
        raise KeyError(f'unknown sam config keys {sorted(unknown)}')
    cfg.update(overrides)
    missing = set(SAM_ARCHS['vit_b']) - set(cfg)
    if missing:
        raise KeyError(f'sam config needs arch or {sorted(missing)}')
    if cfg['img_size'] % cfg['patch_size']:
        raise ValueError(f"sam.img_size={cfg['img_size']} is not a multiple "
                         f"of the patch size {cfg['patch_size']}")
    cfg['global_attn_indexes'] = tuple(cfg['global_attn_indexes'])
    return cfg


def build_sam_modules(
    arch: Optional[str] = None,
    use_sdpa: bool = True,
    **overrides,
) -> Tuple[ImageEncoderViT, PromptEncoder, BatchedMaskDecoder]:
    """Build SAM's three modules with segment_anything's classes.

    Same construction as segment_anything's ``build_sam`` (which fixes the
    image size to 1024), at any ``img_size``; the mask decoder is a
    :class:`BatchedMaskDecoder` (same parameters as ``MaskDecoder``).

    Args:
        arch (str, optional): 'vit_b', 'vit_l' or 'vit_h'. Defaults to None.
        use_sdpa (bool): Swap the encoder attention for
            :class:`SDPARelPosAttention`. Defaults to True.
        **overrides: Explicit sizes, see :func:`sam_config`.

    Returns:
        tuple: ``(image_encoder, prompt_encoder, mask_decoder)``.
    """
    cfg = sam_config(arch, **overrides)
    img_size, patch = cfg['img_size'], cfg['patch_size']
    prompt_dim = cfg['prompt_embed_dim']
    grid = img_size // patch
    image_encoder = ImageEncoderViT(
        img_size=img_size,
        patch_size=patch,
        embed_dim=cfg['embed_dim'],
        depth=cfg['depth'],
        num_heads=cfg['num_heads'],
        mlp_ratio=cfg['mlp_ratio'],
        out_chans=prompt_dim,
        qkv_bias=True,
        norm_layer=partial(nn.LayerNorm, eps=1e-6),
        use_rel_pos=True,
        window_size=cfg['window_size'],
        global_attn_indexes=cfg['global_attn_indexes'])
    if use_sdpa:
        use_sdpa_attention(image_encoder)
    prompt_encoder = PromptEncoder(
        embed_dim=prompt_dim,
        image_embedding_size=(grid, grid),
        input_image_size=(img_size, img_size),
        mask_in_chans=cfg['mask_in_chans'])
    mask_decoder = BatchedMaskDecoder(
        transformer_dim=prompt_dim,
        transformer=TwoWayTransformer(
            depth=cfg['decoder_depth'],
            embedding_dim=prompt_dim,
            num_heads=cfg['decoder_num_heads'],
            mlp_dim=cfg['decoder_mlp_dim']),
        num_multimask_outputs=cfg['num_multimask_outputs'],
        iou_head_depth=cfg['iou_head_depth'],
        iou_head_hidden_dim=cfg['iou_head_hidden_dim'])
    return image_encoder, prompt_encoder, mask_decoder
