"""Input size and patch sizes of an SGSRF model config.

The one place that reads them from a config, and sets the input size in
one (without building the model): the start-up config check, the benchmark
and the inferencer all ask here. It reads CLIP's and SAM's configs, so it
sits above ``clip/`` and ``sam/`` and below the modules that build towers,
which take their size helpers (:func:`as_size`, :func:`patch_grid`) from
here too.
"""
from typing import Dict, List, Optional, Sequence, Tuple, Union

from .clip.builder import resolve_clip_config
from .sam.builder import sam_config

Size = Tuple[int, int]
#: Decode heads configured by a ``sam`` dict.
SAM_HEADS = ('GroundingSAMHead', 'SAMFeatureHead')


def as_size(size: Union[int, Sequence[int]]) -> Size:
    """``size`` as an ``(h, w)`` pair of ints."""
    if isinstance(size, int):
        return size, size
    return int(size[0]), int(size[1])


def patch_grid(size: Sequence[int], patch_size: int, owner: str) -> Size:
    """The ``(h, w)`` patch grid of an input of ``size`` ``(H, W)``.

    Raises ``ValueError`` naming ``owner`` when H or W is not a multiple of
    ``patch_size``.
    """
    height, width = int(size[0]), int(size[1])
    if height % patch_size or width % patch_size:
        raise ValueError(f'{owner}: input size {height}x{width} is not a '
                         f'multiple of the patch size {patch_size}')
    return height // patch_size, width // patch_size


def clip_patch_size(encoder_cfg: dict) -> Optional[int]:
    """Patch size of a ``CLIPImageEncoder`` config, None if it is not one.

    Args:
        encoder_cfg (dict): ``model.image_encoder`` of a config.

    Returns:
        int | None: The ViT patch size (explicit ``vision_cfg`` or the
        named open_clip config).
    """
    if encoder_cfg.get('type') != 'CLIPImageEncoder':
        return None
    cfg = resolve_clip_config(
        encoder_cfg.get('model_name', 'ViT-B-16'), 'vision_cfg',
        encoder_cfg.get('vision_cfg'), encoder_cfg.get('embed_dim', 1), None)
    return int(cfg['tower_cfg'].get('patch_size', 16))


def _sam_sizes(head_cfg: dict) -> Optional[dict]:
    """``sam`` of a SAM head config (ViT-B if unset), else None."""
    if 'sam' not in head_cfg and head_cfg.get('type') not in SAM_HEADS:
        return None
    return dict(head_cfg.get('sam') or dict(arch='vit_b'))


def sam_patch_size(head_cfg: dict) -> Optional[int]:
    """Patch size of SAM in a ``GroundingSAMHead`` config, None otherwise."""
    sam = _sam_sizes(head_cfg)
    return None if sam is None else int(sam_config(**sam)['patch_size'])


def tower_patch_sizes(model_cfg: dict) -> Dict[str, int]:
    """Patch size of each image tower of a model config.

    Args:
        model_cfg (dict): The ``model`` of a config.

    Returns:
        dict[str, int]: Config field -> patch size, e.g.
        ``{'model.image_encoder': 16, 'model.decode_head.sam': 16}``.
    """
    patches = {}
    clip = clip_patch_size(model_cfg.get('image_encoder') or {})
    if clip:
        patches['model.image_encoder'] = clip
    sam = sam_patch_size(model_cfg.get('decode_head') or {})
    if sam:
        patches['model.decode_head.sam'] = sam
    return patches


def configured_input_sizes(
        model_cfg: dict) -> List[Tuple[str, Union[int, Sequence[int]]]]:
    """Every field of a model config that fixes an input size.

    Returns:
        list[tuple[str, int | Sequence[int]]]: ``(field, size as written)``
        for ``data_preprocessor.size``, ``image_encoder.img_size`` and
        ``decode_head.sam.img_size`` where they are set.
    """
    fields = [('model.data_preprocessor.size',
               (model_cfg.get('data_preprocessor') or {}).get('size')),
              ('model.image_encoder.img_size', (model_cfg.get('image_encoder')
                                                or {}).get('img_size')),
              ('model.decode_head.sam.img_size',
               ((model_cfg.get('decode_head') or {}).get('sam')
                or {}).get('img_size'))]
    return [(field, size) for field, size in fields if size]


def model_input_size(model_cfg: dict) -> Size:
    """``(h, w)`` of the model input: ``data_preprocessor.size``.

    Args:
        model_cfg (dict): The ``model`` of a config.

    Returns:
        tuple[int, int]: The size every image is resized and padded to.
    """
    size = (model_cfg.get('data_preprocessor') or {}).get('size')
    if not size:
        raise ValueError('cannot tell the model input size: set '
                         'model.data_preprocessor.size')
    return as_size(size)


def set_model_input_size(model_cfg: dict, size: Union[int,
                                                      Sequence[int]]) -> None:
    """Set, in place, every field :func:`configured_input_sizes` reads.

    ``data_preprocessor.size`` where a preprocessor is configured,
    ``image_encoder.img_size`` of a ``CLIPImageEncoder`` (or wherever it is
    written) and ``decode_head.sam.img_size`` of a SAM head.

    Args:
        model_cfg (dict): The ``model`` of a config.
        size (int | Sequence[int]): The input size, ``s`` or ``(h, w)``.
    """
    h, w = as_size(size)
    if model_cfg.get('data_preprocessor') is not None:
        model_cfg['data_preprocessor']['size'] = (h, w)
    image_cfg = model_cfg.get('image_encoder') or {}
    if image_cfg.get('type') == 'CLIPImageEncoder' or 'img_size' in image_cfg:
        image_cfg['img_size'] = h if h == w else (h, w)
    head_cfg = model_cfg.get('decode_head') or {}
    sam = _sam_sizes(head_cfg)
    if sam is not None:
        if h != w:
            raise ValueError(f'model.decode_head.sam.img_size: SAM takes a '
                             f'square input, got {(h, w)}')
        head_cfg['sam'] = dict(sam, img_size=h)
