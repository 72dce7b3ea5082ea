"""SAM's prompt encoder and mask decoder over a backbone's features."""
from typing import List, Optional, Sequence, Tuple, Union

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmseg.registry import MODELS
from mmseg.utils import ConfigType
from segment_anything.modeling.common import LayerNorm2d

from ..sam.weights import load_sam_weights
from ..utils.stage_outputs import GroundedImage, SAMPrompts
from .binary_mask_losses import MASK_LOSSES
from .grounding_sam_head import GroundingSAMHead


@MODELS.register_module()
class SAMFeatureHead(GroundingSAMHead):
    """SAM's mask decoder as the binary decode head of any backbone.

    ``inputs[in_index]`` of a stock segmentor's backbone (and neck),
    ``in_channels`` channels, is projected onto SAM's image embedding
    (``feature_proj``: 1x1 conv + LayerNorm, resized to the embedding grid)
    and decoded by SAM's prompt encoder and mask decoder without prompts:
    the mask decoder's own mask token finds the foreground. No SAM image
    encoder runs and there is no grounding; losses, prediction and the
    decode-head contract are :class:`GroundingSAMHead`'s.

    SAM's three modules are built together, as segment_anything builds
    them, and the image encoder is dropped, so the random initialisation
    of ``feature_proj`` follows the same draws at a given seed.

    Args:
        in_channels (int): Channels of the features.
        sam (dict): SAM sizes (see :class:`GroundingSAMHead`).
            Defaults to ``dict(arch='vit_b', img_size=512)``.
        in_index (int): Which of the inputs to read. Defaults to -1.
        pretrained (str, optional): Official SAM state dict file whose
            prompt encoder and mask decoder load strictly in
            ``init_weights`` (its ``image_encoder.*`` entries are not used).
            Defaults to None.
        freeze_prompt_encoder (bool): Freeze SAM's prompt encoder.
            Defaults to True.
        loss_decode (dict | list[dict]): Mask losses. Defaults to sigmoid
            cross-entropy and Dice.
        loss_iou (dict, optional): IoU-head loss. Defaults to None.
        threshold (float): Probability threshold of the binary mask.
            Defaults to 0.5.
        out_channels (int): Must be 1. Defaults to 1.
        ignore_index (int): Ignored label. Defaults to 255.
        align_corners (bool): ``align_corners`` of the logit resizing.
            Defaults to False.
        init_cfg (dict, optional): Initialisation config. Defaults to None.
    """

    def __init__(self,
                 in_channels: int,
                 sam: ConfigType = dict(arch='vit_b', img_size=512),
                 in_index: int = -1,
                 pretrained: Optional[str] = None,
                 freeze_prompt_encoder: bool = True,
                 loss_decode: Union[ConfigType,
                                    List[ConfigType]] = MASK_LOSSES,
                 loss_iou: Optional[ConfigType] = None,
                 threshold: float = 0.5,
                 out_channels: int = 1,
                 ignore_index: int = 255,
                 align_corners: bool = False,
                 init_cfg: Optional[ConfigType] = None) -> None:
        super().__init__(
            sam=sam,
            in_index=in_index,
            pretrained=pretrained,
            use_grounding_adapters=False,
            freeze_prompt_encoder=freeze_prompt_encoder,
            normalize=None,
            loss_decode=loss_decode,
            loss_iou=loss_iou,
            threshold=threshold,
            out_channels=out_channels,
            ignore_index=ignore_index,
            align_corners=align_corners,
            init_cfg=init_cfg)
        self.image_encoder = None
        del self.normalizer
        prompt_dim = self.sam_cfg['prompt_embed_dim']
        self.feature_proj = nn.Sequential(
            nn.Conv2d(in_channels, prompt_dim, 1), LayerNorm2d(prompt_dim))

    def stages(self) -> List[list]:
        """No image encoder: nothing to freeze."""
        return [[]]

    def tail(self) -> List[nn.Module]:
        """No image encoder neck."""
        return []

    def load_pretrained(self, path: str) -> None:
        """Load the prompt encoder and mask decoder of an official file."""
        load_sam_weights(path, None, self.prompt_encoder, self.mask_decoder)

    def embed(
        self,
        inputs: Sequence[torch.Tensor],
        image: Optional[torch.Tensor] = None
    ) -> Tuple[torch.Tensor, Optional[SAMPrompts]]:
        """The features projected onto SAM's embedding grid; no prompts (no
        image is read: ``image`` must be None)."""
        if isinstance(inputs, GroundedImage):
            raise ValueError(
                'SAMFeatureHead decodes a backbone\'s features; a '
                'GroundedImage (SGSRF) needs GroundingSAMHead')
        embedding = F.interpolate(
            self.feature_proj(inputs[self.in_index]),
            size=self.image_embedding_size,
            mode='bilinear',
            align_corners=False)
        return embedding, None
