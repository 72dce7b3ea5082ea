"""CLIP ViT image tower returning multi-level patch token maps."""
from typing import List, Optional, Sequence, Tuple, Union

import torch
import torch.nn as nn
from mmengine.model import BaseModule
from mmseg.registry import MODELS
from mmseg.utils import OptConfigType
from open_clip.transformer import VisionTransformer
from torch.utils.checkpoint import checkpoint

from ..clip.builder import build_clip, resolve_clip_config
from ..clip.weights import load_clip_visual, resize_pos_embed
from ..input_geometry import as_size
from ..utils.frozen_stages import FrozenStagesMixin, GradGate
from ..utils.pixel_normalizer import PixelNormalizer

#: CLIP's pixel statistics on the 0..255 scale.
CLIP_NORMALIZE = dict(
    mean=(122.770938, 116.7460125, 104.09373615),
    std=(68.5005327, 66.6321579, 70.32316305))


@MODELS.register_module()
class CLIPImageEncoder(FrozenStagesMixin, BaseModule):
    """The image tower of an ``open_clip`` CLIP ViT as a dense backbone.

    ``self.visual`` is open_clip's own ``VisionTransformer`` (so the
    ``visual.*`` entries of an official checkpoint load strictly), built with
    its position embedding on the ``img_size`` patch grid. ``forward`` runs
    its patch embedding, ``ln_pre`` and residual blocks (open_clip's blocks:
    ``nn.MultiheadAttention`` with ``need_weights=False``, which PyTorch
    computes with ``F.scaled_dot_product_attention``, or its fused kernel at
    inference) and returns the patch tokens of the blocks in
    ``out_indices``. ``ln_post`` and ``proj`` (the pooled image embedding)
    are not applied, so every map is a raw residual-stream output; they and
    the blocks after the last out index do not take part in the output and
    are kept frozen (``requires_grad=False``) but still load from the file.

    Input: ``(B, 3, H, W)`` RGB. With ``normalize`` (the default, CLIP's
    statistics) the tower takes 0..255 pixels and normalises them itself;
    an input with negative values has been normalised already (by a data
    preprocessor with ``mean``/``std``) and is refused with an error that
    names both fields. With ``normalize=None`` the tower takes input that
    the data preprocessor normalised (give it CLIP's statistics there).

    Args:
        model_name (str, optional): An open_clip config name, e.g.
            ``'ViT-B-16'`` or ``'ViT-L-14'`` (``'ViT-B-16-quickgelu'`` for
            OpenAI's weights). Defaults to 'ViT-B-16'.
        vision_cfg (dict, optional): ``open_clip.CLIPVisionCfg`` fields;
            they override the named config, or define the tower when
            ``model_name`` is None. Defaults to None.
        embed_dim (int, optional): CLIP's joint embedding size (size of the
            unused ``proj``); required without ``model_name``.
            Defaults to None.
        img_size (int | tuple[int, int]): The input size the position
            embedding is built and loaded for; other sizes (multiples of the
            patch size) interpolate it on the fly. Defaults to 512.
        out_indices (int | Sequence[int]): Residual blocks whose outputs are
            returned, in block order; negative values count from the end.
            Defaults to (3, 7, 11).
        frozen_stages (int): -1 trains everything; k >= 0 freezes the patch
            embedding, class and position embeddings, ``ln_pre`` and the
            first k blocks; k >= depth freezes the whole tower (see
            :class:`FrozenStagesMixin`). Defaults to -1.
        pretrained (str, optional): A CLIP checkpoint (see
            ``sgsrf_mmseg.models.clip.weights``) loaded strictly in
            ``init_weights``. Defaults to None.
        grad_checkpointing (bool): Recompute each trainable block in the
            backward pass (``torch.utils.checkpoint``). Defaults to False.
        quick_gelu (bool, optional): QuickGELU activations; None takes the
            named config's value. Defaults to None.
        normalize (dict, optional): ``mean`` and ``std`` (0..255 scale) the
            tower normalises its input with; None when the data preprocessor
            normalises. Defaults to CLIP's statistics.
        init_cfg (dict, optional): mmengine init config; not allowed
            together with ``pretrained``. Defaults to None.
    """

    def __init__(self,
                 model_name: Optional[str] = 'ViT-B-16',
                 vision_cfg: Optional[dict] = None,
                 embed_dim: Optional[int] = None,
                 img_size: Union[int, Tuple[int, int]] = 512,
                 out_indices: Union[int, Sequence[int]] = (3, 7, 11),
                 frozen_stages: int = -1,
                 pretrained: Optional[str] = None,
                 grad_checkpointing: bool = False,
                 quick_gelu: Optional[bool] = None,
                 normalize: Optional[dict] = CLIP_NORMALIZE,
                 init_cfg: OptConfigType = None):
        if pretrained is not None and init_cfg is not None:
            raise ValueError('pretrained and init_cfg cannot both be set')
        super().__init__(init_cfg=init_cfg)
        cfg = resolve_clip_config(model_name, 'vision_cfg', vision_cfg,
                                  embed_dim, quick_gelu)
        vision_cfg = cfg['tower_cfg']
        self._check_vision_cfg(vision_cfg)
        self.patch_size = int(vision_cfg.get('patch_size', 16))
        self.img_size = as_size(img_size)
        if any(s % self.patch_size for s in self.img_size):
            raise ValueError(f'img_size={self.img_size} is not a multiple of '
                             f'the patch size {self.patch_size}')
        vision_cfg['image_size'] = self.img_size

        self.visual = build_clip(
            cfg['embed_dim'], cfg['quick_gelu'], vision_cfg=vision_cfg).visual
        if not isinstance(self.visual, VisionTransformer):
            raise ValueError('vision_cfg must describe an open_clip '
                             'VisionTransformer')
        self.embed_dims = self.visual.transformer.width
        self.num_layers = len(self.visual.transformer.resblocks)
        self.grid_size = tuple(self.visual.grid_size)
        self.out_indices = self._normalise_indices(out_indices)
        self.frozen_stages = frozen_stages
        self.grad_checkpointing = grad_checkpointing
        self.pretrained = pretrained

        self.normalizer = PixelNormalizer(normalize, type(self).__name__)
        self._freeze()

    @staticmethod
    def _check_vision_cfg(vision_cfg: dict) -> None:
        """Reject vision configs that are not a plain ViT on patch tokens."""
        if vision_cfg.get('timm_model_name') or not isinstance(
                vision_cfg.get('layers', 12), int):
            raise ValueError('vision_cfg must describe an open_clip ViT '
                             '(no timm_model_name, an int number of layers)')
        if not isinstance(vision_cfg.get('patch_size', 16), int):
            raise ValueError('vision_cfg.patch_size must be an int')
        if vision_cfg.get('patch_dropout', 0.):
            raise ValueError('vision_cfg.patch_dropout must be 0: dense '
                             'outputs need every patch')

    def _normalise_indices(
            self, out_indices: Union[int, Sequence[int]]) -> Tuple[int, ...]:
        """Out indices as sorted non-negative block indices."""
        if isinstance(out_indices, int):
            out_indices = [out_indices]
        indices = []
        for index in out_indices:
            if not -self.num_layers <= index < self.num_layers:
                raise ValueError(f'out_indices={tuple(out_indices)} out of '
                                 f'range for {self.num_layers} blocks')
            indices.append(index % self.num_layers)
        return tuple(sorted(set(indices)))

    def stages(self) -> List[list]:
        """Embedding, then one stage per residual block."""
        visual = self.visual
        embedding = [
            visual.conv1, visual.class_embedding, visual.positional_embedding,
            visual.patch_dropout, visual.ln_pre
        ]
        return [embedding] + [[b] for b in visual.transformer.resblocks]

    def whole_tower(self) -> List[nn.Module]:
        """A fully frozen tower freezes all of ``visual``."""
        return [self.visual]

    def _freeze(self) -> None:
        """Freeze the frozen stages and the parts the output never uses."""
        visual = self.visual
        unused = [
            visual.ln_post, visual.proj,
            *visual.transformer.resblocks[self.out_indices[-1] + 1:]
        ]
        for part in unused:
            if part is not None:
                part.requires_grad_(False)
        self.freeze_stages()

    def init_weights(self) -> None:
        """Run mmengine's init, then load ``pretrained`` strictly."""
        super().init_weights()
        if self.pretrained is not None:
            load_clip_visual(self.visual, self.pretrained)

    def _embed(self, img: torch.Tensor) -> torch.Tensor:
        """Normalise, patchify and add class token and position embedding."""
        visual = self.visual
        x = visual.conv1(self.normalizer(img))
        grid = x.shape[-2:]
        x = x.flatten(2).transpose(1, 2)
        cls_token = visual.class_embedding.to(x.dtype).expand(
            x.shape[0], 1, -1)
        pos_embed = resize_pos_embed(visual.positional_embedding,
                                     self.grid_size, grid)
        x = torch.cat([cls_token, x], dim=1) + pos_embed.to(x.dtype)
        return visual.ln_pre(visual.patch_dropout(x))

    def forward(self, img: torch.Tensor) -> List[torch.Tensor]:
        """Extract patch token maps.

        Args:
            img (Tensor): ``(B, 3, H, W)`` RGB in 0..255; H and W multiples
                of ``patch_size``.

        Returns:
            list[Tensor]: One ``(B, embed_dims, H / p, W / p)`` map per out
            index (block outputs without the class token; views with
            channels-last strides, call ``.contiguous()`` if needed).
        """
        height, width = img.shape[-2:]
        if height % self.patch_size or width % self.patch_size:
            raise ValueError(
                f'{type(self).__name__}: input size {height}x{width} is not '
                f'a multiple of the patch size {self.patch_size}')
        grid = (height // self.patch_size, width // self.patch_size)
        stages = self.stages()
        gate = GradGate(img.requires_grad)
        with gate.stage(*stages[0]):
            x = self._embed(img)
        outs = []
        blocks = self.visual.transformer.resblocks
        for index in range(self.out_indices[-1] + 1):
            with gate.stage(blocks[index]):
                if gate.active and self.grad_checkpointing:
                    x = checkpoint(blocks[index], x, use_reentrant=False)
                else:
                    x = blocks[index](x)
            if index in self.out_indices:
                outs.append(x[:, 1:].unflatten(1, grid).permute(0, 3, 1, 2))
        return outs
