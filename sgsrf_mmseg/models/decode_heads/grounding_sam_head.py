"""GMS: the Segment Anything Model as a decode head, modulated by grounding."""
from typing import List, Optional, Sequence, Tuple, Union

import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.utils.checkpoint as cp
from mmengine.model import BaseModule
from mmseg.registry import MODELS
from mmseg.utils import ConfigType, SampleList

from ..sam.builder import build_sam_modules, sam_config
from ..sam.prompts import encode_prompts
from ..sam.weights import load_sam_weights
from ..utils.frozen_stages import FrozenStagesMixin, GradGate
from ..utils.grounding_adapter import GroundingAdapter
from ..utils.mask_detail_stem import MaskDetailStem
from ..utils.pixel_normalizer import PixelNormalizer
from ..utils.stage_outputs import GroundedImage, Grounding, SAMPrompts
from .binary_mask_losses import MASK_LOSSES, BinaryMaskLossMixin

#: SAM's pixel statistics (0..255 scale).
SAM_NORMALIZE = dict(
    mean=(123.675, 116.28, 103.53), std=(58.395, 57.12, 57.375))
HeadInputs = Union[GroundedImage, Sequence[torch.Tensor]]


@MODELS.register_module()
class GroundingSAMHead(BinaryMaskLossMixin, FrozenStagesMixin, BaseModule):
    """Grounding Modulated Segmentation (GMS) head: SAM driven by grounding.

    A binary decode head (``out_channels=1``, target where
    ``sigmoid(logit) > threshold``) with mmseg's decode-head contract:
    ``loss(inputs, batch_data_samples, train_cfg): forward() ->
    loss_by_feat()`` and ``predict(inputs, batch_img_metas, test_cfg):
    forward() -> predict_by_feat()``. SAM's image encoder encodes the
    0..255 image of its ``inputs``, which are either

    * a :class:`GroundedImage` (SGSRF): the image, CCR's grounding and
      GPG's prompts. The encoder runs with a :class:`GroundingAdapter` after
      each of its global-attention blocks (zero-initialised: SAM is
      unchanged at step 0); the head encodes the prompts with SAM's own
      prompt encoder (queries and encoded points/boxes as sparse tokens;
      the dense residual resized to the embedding grid and added to SAM's
      ``no_mask_embed``, once);
    * a sequence of tensors from a stock segmentor's backbone:
      ``inputs[in_index]`` is the image (use the ``RawImageBackbone``
      backbone). Without prompts the mask decoder's own mask token finds
      the foreground. :class:`SAMFeatureHead` decodes a backbone's features
      instead, without SAM's image encoder.

    ``image_encoder``, ``prompt_encoder`` and ``mask_decoder`` are
    segment_anything's modules under their own names (an official
    ``sam_vit_*.pth`` loads strictly, see ``pretrained``); the mask decoder
    runs batched over images, one prompt set per image.

    Parameters that never receive a gradient are frozen at construction:
    the prompt encoder's ``mask_downscaling``, the hypernetwork MLPs of the
    multimask outputs and, without ``loss_iou``, the IoU head;
    ``freeze_prompt_encoder`` (default) freezes the whole prompt encoder.

    Args:
        sam (dict): SAM sizes: ``arch`` ('vit_b' | 'vit_l' | 'vit_h') and/or
            explicit sizes (see ``sam_config``), and ``img_size``.
            Defaults to ``dict(arch='vit_b', img_size=512)``.
        in_index (int): Which of a sequence of inputs to read.
            Defaults to -1.
        pretrained (str, optional): Official SAM state dict file, loaded
            strictly in ``init_weights`` (position embeddings and
            relative-position tables interpolated to ``img_size``).
            Defaults to None.
        use_grounding_adapters (bool): Build and apply the adapters (needs
            grounding). Defaults to True.
        cue_channels (int): Channels D of the sentence feature s'.
            Defaults to 256.
        use_sdpa (bool): Encoder attention through
            ``scaled_dot_product_attention``. Defaults to True.
        grad_checkpointing (bool): Activation checkpointing of the encoder
            blocks that run with gradients. Defaults to False.
        frozen_stages (int): Frozen leading stages of the image encoder
            (:class:`FrozenStagesMixin`; >= depth freezes its neck too);
            adapters stay trainable. Defaults to -1.
        freeze_prompt_encoder (bool): Freeze SAM's prompt encoder.
            Defaults to True.
        detail_stem (dict, optional): Build a :class:`MaskDetailStem` with
            these arguments (e.g. ``dict(channels=16)``): image detail added
            to the mask decoder's upscaled embedding (zero at
            initialisation). Defaults to None (SAM's decoder as it is).
        normalize (dict, optional): Pixel statistics the image encoder
            normalises its 0..255 input with (see
            :class:`PixelNormalizer`); None when the data preprocessor
            normalises. Defaults to SAM's.
        loss_decode (dict | list[dict]): Mask losses, each called as
            ``loss(logits (B, 1, H, W), label (B, H, W), ignore_index=)``.
            Defaults to sigmoid ``CrossEntropyLoss`` named 'loss_mask_bce'
            and :class:`MaskDiceLoss`.
        loss_iou (dict, optional): IoU-head loss, ``dict(loss_weight=1.0,
            loss_name='loss_iou')``: MSE between SAM's IoU prediction and
            the detached IoU of the thresholded mask. Defaults to None.
        threshold (float): Probability threshold of the binary mask.
            Defaults to 0.5.
        out_channels (int): Must be 1. Defaults to 1.
        ignore_index (int): Ignored label. Defaults to 255.
        align_corners (bool): ``align_corners`` of the logit resizing.
            Defaults to False.
        init_cfg (dict, optional): Initialisation config. Defaults to None.
    """

    def __init__(self,
                 sam: ConfigType = dict(arch='vit_b', img_size=512),
                 in_index: int = -1,
                 pretrained: Optional[str] = None,
                 use_grounding_adapters: bool = True,
                 cue_channels: int = 256,
                 use_sdpa: bool = True,
                 grad_checkpointing: bool = False,
                 frozen_stages: int = -1,
                 freeze_prompt_encoder: bool = True,
                 detail_stem: Optional[dict] = None,
                 normalize: Optional[dict] = SAM_NORMALIZE,
                 loss_decode: Union[ConfigType,
                                    List[ConfigType]] = MASK_LOSSES,
                 loss_iou: Optional[ConfigType] = None,
                 threshold: float = 0.5,
                 out_channels: int = 1,
                 ignore_index: int = 255,
                 align_corners: bool = False,
                 init_cfg: Optional[ConfigType] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        if out_channels != 1:
            raise ValueError(f'{type(self).__name__} predicts one binary '
                             f'mask: out_channels must be 1, got '
                             f'{out_channels}')
        self.sam_cfg = sam_config(**dict(sam))
        self.img_size = self.sam_cfg['img_size']
        self.in_index = in_index
        image_encoder, self.prompt_encoder, self.mask_decoder = \
            build_sam_modules(use_sdpa=use_sdpa, **dict(sam))
        self.image_encoder = image_encoder
        self.normalizer = PixelNormalizer(normalize, type(self).__name__)
        self.adapter_indexes: Tuple[int, ...] = ()
        self.grounding_adapters = nn.ModuleList()
        if use_grounding_adapters:
            self.adapter_indexes = self.sam_cfg['global_attn_indexes']
            self.grounding_adapters.extend(
                GroundingAdapter(self.sam_cfg['embed_dim'], cue_channels)
                for _ in self.adapter_indexes)
        self.detail_stem = None
        if detail_stem is not None:
            height = self.image_embedding_size[0]
            self.detail_stem = MaskDetailStem(
                out_channels=self.mask_decoder.transformer_dim // 8,
                stride=self.img_size // (4 * height),
                **dict(detail_stem))
        self.pretrained = pretrained
        self.grad_checkpointing = grad_checkpointing
        self.frozen_stages = frozen_stages
        self.freeze_prompt_encoder = freeze_prompt_encoder
        if isinstance(loss_decode, dict):
            loss_decode = [loss_decode]
        self.loss_decode = nn.ModuleList(MODELS.build(c) for c in loss_decode)
        self.loss_iou = dict(loss_iou) if loss_iou is not None else None
        self.threshold = threshold
        self.out_channels = out_channels
        self.num_classes = 2
        self.ignore_index = ignore_index
        self.align_corners = align_corners
        self._freeze_unused()

    @property
    def image_embedding_size(self) -> Tuple[int, int]:
        """(He, We): the grid of SAM's image embedding."""
        return tuple(self.prompt_encoder.image_embedding_size)

    def stages(self) -> List[list]:
        """SAM image encoder: patch and position embeddings, then blocks."""
        enc = self.image_encoder
        embedding = [enc.patch_embed
                     ] + ([enc.pos_embed] if enc.pos_embed is not None else [])
        return [embedding] + [[b] for b in enc.blocks]

    def tail(self) -> List[nn.Module]:
        """The image encoder's neck."""
        return [self.image_encoder.neck]

    def _freeze_unused(self) -> None:
        """Freeze frozen stages and the parameters that get no gradient."""
        self.freeze_stages()
        self.prompt_encoder.mask_downscaling.requires_grad_(False)
        if self.freeze_prompt_encoder:
            self.prompt_encoder.requires_grad_(False)
        for mlp in self.mask_decoder.output_hypernetworks_mlps[1:]:
            mlp.requires_grad_(False)
        if self.loss_iou is None:
            self.mask_decoder.iou_prediction_head.requires_grad_(False)

    def init_weights(self) -> None:
        """Initialise the adapters and load ``pretrained`` SAM weights."""
        super().init_weights()
        if self.pretrained is not None:
            self.load_pretrained(self.pretrained)

    def load_pretrained(self, path: str) -> None:
        """Load an official SAM file strictly into SAM's three modules."""
        load_sam_weights(
            path,
            self.image_encoder,
            self.prompt_encoder,
            self.mask_decoder,
            pixel_mean=self.normalizer.mean,
            pixel_std=self.normalizer.std)

    def encode_image(self,
                     img: torch.Tensor,
                     grounding: Optional[Grounding] = None) -> torch.Tensor:
        """SAM's image encoder, block by block, with the adapters.

        Args:
            img (Tensor): (B, 3, H, W) RGB in 0..255.
            grounding (Grounding, optional): Needed when adapters are used.

        Returns:
            Tensor: Image embedding (B, prompt_dim, He, We).
        """
        return self._encode(self.prepare_image(img), grounding)

    def prepare_image(self, img: torch.Tensor) -> torch.Tensor:
        """The 0..255 image as the encoder reads it: resized (bilinear) to
        SAM's ``img_size`` and normalised."""
        if tuple(img.shape[-2:]) != (self.img_size, self.img_size):
            img = F.interpolate(
                img,
                size=(self.img_size, self.img_size),
                mode='bilinear',
                align_corners=False)
        return self.normalizer(img)

    def _encode(self, image: torch.Tensor,
                grounding: Optional[Grounding]) -> torch.Tensor:
        """:meth:`encode_image` of a prepared image."""
        enc = self.image_encoder
        adapters = dict(zip(self.adapter_indexes, self.grounding_adapters))
        if adapters and grounding is None:
            raise ValueError('GroundingSAMHead with use_grounding_adapters='
                             'True needs grounding: give it a GroundedImage, '
                             'or set use_grounding_adapters=False')
        stages = self.stages()
        gate = GradGate()
        with gate.stage(*stages[0]):
            x = enc.patch_embed(image)
            if enc.pos_embed is not None:
                x = x + enc.pos_embed
        for i, block in enumerate(enc.blocks):
            with gate.stage(block):
                if gate.active and self.grad_checkpointing:
                    x = cp.checkpoint(block, x, use_reentrant=False)
                else:
                    x = block(x)
            if i in adapters:
                cues = (grounding.sentence, grounding.cue_logits)
                with gate.stage(adapters[i], inputs=cues):
                    x = adapters[i](x, *cues)
        with gate.stage(*self.tail()):
            return enc.neck(x.permute(0, 3, 1, 2))

    def _image(self, inputs: HeadInputs) -> torch.Tensor:
        """The 0..255 image of ``inputs``."""
        if isinstance(inputs, GroundedImage):
            return inputs.image
        return inputs[self.in_index]

    def embed(
        self,
        inputs: HeadInputs,
        image: Optional[torch.Tensor] = None
    ) -> Tuple[torch.Tensor, Optional[SAMPrompts]]:
        """SAM's image embedding of ``inputs`` and their prompts (if any).

        Args:
            inputs (GroundedImage | Sequence[Tensor]): See the class.
            image (Tensor, optional): The image of ``inputs`` already
                prepared (:meth:`prepare_image`). Defaults to None.
        """
        if image is None:
            image = self.prepare_image(self._image(inputs))
        if isinstance(inputs, GroundedImage):
            return self._encode(image, inputs.grounding), inputs.prompts
        return self._encode(image, None), None

    def decode(self, inputs: HeadInputs) -> Tuple[torch.Tensor, torch.Tensor]:
        """Mask logits ``(B, 1, 4He, 4We)`` and IoU prediction ``(B, 1)``."""
        image = detail = None
        if self.detail_stem is not None:
            image = self.prepare_image(self._image(inputs))
            detail = self.detail_stem(image)
        embedding, prompts = self.embed(inputs, image)
        sparse, dense = encode_prompts(self.prompt_encoder, prompts, embedding,
                                       self.img_size)
        return self.mask_decoder(
            image_embeddings=embedding,
            image_pe=self.prompt_encoder.get_dense_pe(),
            sparse_prompt_embeddings=sparse,
            dense_prompt_embeddings=dense.to(embedding.dtype),
            multimask_output=False,
            detail=detail)

    def forward(self, inputs: HeadInputs) -> torch.Tensor:
        """Mask logits ``(B, 1, 4He, 4We)`` (SAM's low-resolution masks)."""
        return self.decode(inputs)[0]

    def loss(self,
             inputs: HeadInputs,
             batch_data_samples: SampleList,
             train_cfg: Optional[ConfigType] = None) -> dict:
        """Forward and compute the losses (``loss_decode``, ``loss_iou``).

        Args:
            inputs (GroundedImage | Sequence[Tensor]): See the class.
            batch_data_samples (list[SegDataSample]): With ``gt_sem_seg``
                (1, H, W) in {0, 1, ignore_index}.
            train_cfg (dict, optional): Unused. Defaults to None.

        Returns:
            dict[str, Tensor]: Losses keyed by their ``loss_name``.
        """
        mask_logits, iou_pred = self.decode(inputs)
        return self.loss_by_feat(mask_logits, batch_data_samples, iou_pred)

    def predict(self,
                inputs: HeadInputs,
                batch_img_metas: List[dict],
                test_cfg: Optional[ConfigType] = None) -> torch.Tensor:
        """Forward; logits resized to the (padded) input size (B, 1, H, W)."""
        return self.predict_by_feat(self.forward(inputs), batch_img_metas)

    def predict_by_feat(self, mask_logits: torch.Tensor,
                        batch_img_metas: List[dict]) -> torch.Tensor:
        """Logits resized to the input size, as mmseg's decode heads do: the
        crop size in a stock segmentor's slide inference (``img_shape`` a
        ``torch.Size``), else the padded input size.

        Args:
            mask_logits (Tensor): Output of :meth:`forward`.
            batch_img_metas (list[dict]): Image metas (``img_shape``,
                ``pad_shape``).

        Returns:
            Tensor: Logits (B, 1, H, W).
        """
        meta = batch_img_metas[0]
        if isinstance(meta['img_shape'], torch.Size):
            size = meta['img_shape']
        elif 'pad_shape' in meta:
            size = meta['pad_shape'][:2]
        else:
            size = meta['img_shape']
        return self._resize(mask_logits, size)
