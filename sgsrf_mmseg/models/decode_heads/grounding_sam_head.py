"""GMS: SAM with grounding-modulated image encoder as a decode head."""
from typing import Dict, List, Optional, Sequence, Tuple, Union

import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.utils.checkpoint as cp
from mmengine.model import BaseModule
from mmseg.registry import MODELS
from mmseg.utils import ConfigType, SampleList

from ..utils.frozen_modules import FrozenInEvalMixin
from ..utils.grounding_adapter import GroundingAdapter
from ..sam.builder import build_sam_modules, sam_config
from ..sam.weights import load_sam_weights

SAM_PIXEL_MEAN = (123.675, 116.28, 103.53)
SAM_PIXEL_STD = (58.395, 57.12, 57.375)


def _requires_grad(module: nn.Module) -> bool:
    """Whether any parameter of ``module`` is trainable."""
    return any(p.requires_grad for p in module.parameters())


def _freeze(module: Union[nn.Module, nn.Parameter]) -> None:
    """Stop gradients to ``module``'s parameters (or to one parameter)."""
    params = [module] if isinstance(module, nn.Parameter) else \
        module.parameters()
    for param in params:
        param.requires_grad = False


@MODELS.register_module()
class GroundingSAMHead(FrozenInEvalMixin, BaseModule):
    """Grounding Modulated Segmentation (GMS) head: SAM driven by grounding.

    Contract of an mmseg decode head with ``out_channels=1``:
    ``loss(): forward() -> loss_by_feat()`` and
    ``predict(): forward() -> predict_by_feat()``. It is a ``BaseModule``
    rather than a ``BaseDecodeHead``: ``forward`` takes the image, the
    grounding output and the prompts instead of a feature list, and
    ``BaseDecodeHead`` would build ``conv_seg``, a layer that never runs.

    ``image_encoder``, ``prompt_encoder`` and ``mask_decoder`` are
    segment_anything's modules under their own names (an official
    ``sam_vit_*.pth`` loads strictly, see ``pretrained``); the mask decoder
    runs batched over images, one prompt set per image. A
    :class:`GroundingAdapter` follows each global-attention block of the
    image encoder (``grounding_adapters``, outside ``image_encoder``),
    zero-initialised, so that SAM is unchanged at step 0.

    Parameters that never receive a gradient in this model are frozen at
    construction: the prompt encoder's ``mask_downscaling`` (dense prompts
    come from the prompt generator, never from a mask), the mask-decoder
    hypernetwork MLPs of the multimask outputs (``multimask_output`` is
    always False) and the IoU prediction head when ``loss_iou`` is None.
    ``freeze_prompt_encoder`` (default) freezes the whole prompt encoder:
    which of its embeddings are reached (positive/negative point, box
    corner, padding, no-mask) depends on the prompt generator's settings.

    Args:
        sam (dict): SAM sizes: ``arch`` ('vit_b' | 'vit_l' | 'vit_h') and/or
            explicit sizes (see ``sam_config``), and ``img_size``.
            Defaults to ``dict(arch='vit_b', img_size=512)``.
        pretrained (str, optional): Official SAM state dict file, loaded
            strictly in ``init_weights`` (position embeddings and
            relative-position tables interpolated to ``img_size``).
            Defaults to None.
        use_grounding_adapters (bool): Build and apply the adapters.
            Defaults to True.
        cue_channels (int): Channels D of the sentence feature s'.
            Defaults to 256.
        use_sdpa (bool): Encoder attention through
            ``scaled_dot_product_attention``. Defaults to True.
        grad_checkpointing (bool): Activation checkpointing of the encoder
            blocks that run with gradients. Defaults to False.
        frozen_stages (int): -1 trains the whole image encoder; k freezes
            the patch/position embeddings and the first k blocks; >= depth
            freezes the whole encoder (neck included). The frozen prefix
            runs under ``no_grad`` up to the first trainable block or
            adapter; adapters stay trainable and applied. Defaults to -1.
        freeze_prompt_encoder (bool): Freeze SAM's prompt encoder.
            Defaults to True.
        loss_mask (dict | list[dict]): Mask losses, each called as
            ``loss(logits (B, 1, H, W), label (B, H, W), ignore_index=)``.
            Defaults to sigmoid ``CrossEntropyLoss`` (``avg_non_ignore``)
            named 'loss_mask_bce' and :class:`MaskDiceLoss`.
        loss_iou (dict, optional): IoU-head loss, ``dict(loss_weight=1.0,
            loss_name='loss_iou')``: MSE between ``iou_pred`` and the
            detached IoU of the thresholded prediction. Defaults to None.
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
                 pretrained: Optional[str] = None,
                 use_grounding_adapters: bool = True,
                 cue_channels: int = 256,
                 use_sdpa: bool = True,
                 grad_checkpointing: bool = False,
                 frozen_stages: int = -1,
                 freeze_prompt_encoder: bool = True,
                 loss_mask: Union[ConfigType, List[ConfigType]] = [
                     dict(type='CrossEntropyLoss', use_sigmoid=True,
                          avg_non_ignore=True, loss_weight=1.0,
                          loss_name='loss_mask_bce'),
                     dict(type='MaskDiceLoss', loss_weight=1.0,
                          loss_name='loss_dice')
                 ],
                 loss_iou: Optional[ConfigType] = None,
                 threshold: float = 0.5,
                 out_channels: int = 1,
                 ignore_index: int = 255,
                 align_corners: bool = False,
                 init_cfg: Optional[ConfigType] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        if out_channels != 1:
            raise ValueError('GroundingSAMHead predicts one binary mask: '
                             f'out_channels must be 1, got {out_channels}')
        sam = dict(sam)
        self.sam_cfg = sam_config(**sam)
        self.img_size = self.sam_cfg['img_size']
        self.image_encoder, self.prompt_encoder, self.mask_decoder = \
            build_sam_modules(use_sdpa=use_sdpa, **sam)
        self.register_buffer(
            'pixel_mean', torch.tensor(SAM_PIXEL_MEAN).view(1, 3, 1, 1),
            persistent=False)
        self.register_buffer(
            'pixel_std', torch.tensor(SAM_PIXEL_STD).view(1, 3, 1, 1),
            persistent=False)

        self.use_grounding_adapters = use_grounding_adapters
        self.adapter_indexes: Tuple[int, ...] = ()
        self.grounding_adapters = nn.ModuleList()
        if use_grounding_adapters:
            self.adapter_indexes = self.sam_cfg['global_attn_indexes']
            self.grounding_adapters.extend(
                GroundingAdapter(self.sam_cfg['embed_dim'], cue_channels)
                for _ in self.adapter_indexes)

        self.pretrained = pretrained
        self.grad_checkpointing = grad_checkpointing
        self.frozen_stages = frozen_stages
        self.freeze_prompt_encoder = freeze_prompt_encoder
        if isinstance(loss_mask, dict):
            loss_mask = [loss_mask]
        self.loss_mask = nn.ModuleList(MODELS.build(c) for c in loss_mask)
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

    def frozen_modules(self) -> List[nn.Module]:
        """Image-encoder modules frozen by ``frozen_stages``."""
        if self.frozen_stages < 0:
            return []
        enc = self.image_encoder
        parts = [enc.patch_embed, *enc.blocks[:self.frozen_stages]]
        if self.frozen_stages >= len(enc.blocks):
            parts.append(enc.neck)
        return parts

    def _freeze_unused(self) -> None:
        """Freeze frozen stages and the parameters that get no gradient."""
        for module in self.frozen_modules():
            _freeze(module)
        pos_embed = self.image_encoder.pos_embed
        if self.frozen_stages >= 0 and pos_embed is not None:
            _freeze(pos_embed)
        _freeze(self.prompt_encoder.mask_downscaling)
        if self.freeze_prompt_encoder:
            _freeze(self.prompt_encoder)
        for mlp in self.mask_decoder.output_hypernetworks_mlps[1:]:
            _freeze(mlp)
        if self.loss_iou is None:
            _freeze(self.mask_decoder.iou_prediction_head)

    def init_weights(self) -> None:
        """Initialise the adapters and load ``pretrained`` SAM weights."""
        super().init_weights()
        if self.pretrained is not None:
            load_sam_weights(
                self.pretrained,
                self.image_encoder,
                self.prompt_encoder,
                self.mask_decoder,
                pixel_mean=self.pixel_mean,
                pixel_std=self.pixel_std)

    def preprocess(self, img: torch.Tensor) -> torch.Tensor:
        """Resize 0..255 RGB images to ``img_size`` and normalise them."""
        if tuple(img.shape[-2:]) != (self.img_size, self.img_size):
            img = F.interpolate(
                img, size=(self.img_size, self.img_size), mode='bilinear',
                align_corners=False)
        return (img - self.pixel_mean) / self.pixel_std

    def encode_image(self, img: torch.Tensor,
                     grounding: Optional[Dict[str, torch.Tensor]] = None
                     ) -> torch.Tensor:
        """Run the image encoder block by block with the adapters.

        Args:
            img (Tensor): (B, 3, H, W) RGB in 0..255.
            grounding (dict, optional): Needs ``sentence`` (B, D) and
                ``cue_logits`` (B, 1, h, w) when adapters are used.

        Returns:
            Tensor: Image embedding (B, prompt_dim, He, We).
        """
        enc = self.image_encoder
        adapters = dict(zip(self.adapter_indexes, self.grounding_adapters)
                        ) if self.use_grounding_adapters else {}
        if adapters:
            if grounding is None or 'sentence' not in grounding or \
                    'cue_logits' not in grounding:
                raise KeyError('GroundingSAMHead with use_grounding_adapters '
                               'needs grounding=dict(sentence, cue_logits)')
            sentence, cue = grounding['sentence'], grounding['cue_logits']
            grounding_grad = sentence.requires_grad or cue.requires_grad
        grad = torch.is_grad_enabled()
        # Track gradients from the first trainable step on.
        track = grad and (_requires_grad(enc.patch_embed) or (
            enc.pos_embed is not None and enc.pos_embed.requires_grad))
        with torch.set_grad_enabled(track):
            x = enc.patch_embed(self.preprocess(img))
            if enc.pos_embed is not None:
                x = x + enc.pos_embed
        for i, block in enumerate(enc.blocks):
            track = track or (grad and _requires_grad(block))
            with torch.set_grad_enabled(track):
                if track and self.grad_checkpointing:
                    x = cp.checkpoint(block, x, use_reentrant=False)
                else:
                    x = block(x)
            if i in adapters:
                track = track or (grad and (_requires_grad(adapters[i])
                                            or grounding_grad))
                with torch.set_grad_enabled(track):
                    x = adapters[i](x, sentence, cue)
        track = track or (grad and _requires_grad(enc.neck))
        with torch.set_grad_enabled(track):
            return enc.neck(x.permute(0, 3, 1, 2))

    def forward(self,
                img: torch.Tensor,
                grounding: Optional[Dict[str, torch.Tensor]] = None,
                prompts: Optional[Dict[str, Optional[torch.Tensor]]] = None
                ) -> Dict[str, torch.Tensor]:
        """Predict one low-resolution mask per image.

        Args:
            img (Tensor): (B, 3, H, W) RGB in 0..255.
            grounding (dict, optional): CCR output (``sentence``,
                ``cue_logits``). Defaults to None.
            prompts (dict, optional): ``sparse`` (B, K, C) or None (no
                sparse prompt) and ``dense`` (B, C, He, We) or None (SAM's
                no-mask embedding). Defaults to None.

        Returns:
            dict: ``mask_logits`` (B, 1, 4He, 4We) and ``iou_pred`` (B, 1).
        """
        embedding = self.encode_image(img, grounding)
        b, c, h, w = embedding.shape
        prompts = prompts or {}
        sparse = prompts.get('sparse')
        if sparse is None:
            sparse = embedding.new_zeros((b, 0, c))
        elif sparse.ndim != 3 or sparse.shape[0] != b or sparse.shape[2] != c:
            raise ValueError(f'prompts["sparse"] must be ({b}, K, {c}), got '
                             f'{tuple(sparse.shape)}')
        dense = prompts.get('dense')
        if dense is None:
            dense = self.prompt_encoder.no_mask_embed.weight.reshape(
                1, -1, 1, 1).expand(b, -1, h, w)
        elif tuple(dense.shape) != (b, c, h, w):
            raise ValueError(f'prompts["dense"] must be {(b, c, h, w)}, got '
                             f'{tuple(dense.shape)}')
        mask_logits, iou_pred = self.mask_decoder(
            image_embeddings=embedding,
            image_pe=self.prompt_encoder.get_dense_pe(),
            sparse_prompt_embeddings=sparse,
            dense_prompt_embeddings=dense,
            multimask_output=False)
        return dict(mask_logits=mask_logits, iou_pred=iou_pred)

    def loss(self, img: torch.Tensor, grounding: Optional[dict],
             prompts: Optional[dict], batch_data_samples: SampleList,
             train_cfg: Optional[ConfigType] = None) -> dict:
        """Forward and compute the losses.

        Args:
            img (Tensor): (B, 3, H, W) RGB in 0..255.
            grounding (dict, optional): CCR output.
            prompts (dict, optional): ``sparse`` / ``dense`` prompts.
            batch_data_samples (list[SegDataSample]): With ``gt_sem_seg``.
            train_cfg (dict, optional): Unused. Defaults to None.

        Returns:
            dict[str, Tensor]: The losses.
        """
        return self.loss_by_feat(
            self.forward(img, grounding, prompts), batch_data_samples)

    def predict(self, img: torch.Tensor, grounding: Optional[dict],
                prompts: Optional[dict], batch_img_metas: List[dict],
                test_cfg: Optional[ConfigType] = None) -> torch.Tensor:
        """Forward and return logits at the input size.

        Args:
            img (Tensor): (B, 3, H, W) RGB in 0..255.
            grounding (dict, optional): CCR output.
            prompts (dict, optional): ``sparse`` / ``dense`` prompts.
            batch_img_metas (list[dict]): Image metas.
            test_cfg (dict, optional): Unused. Defaults to None.

        Returns:
            Tensor: Mask logits (B, 1, H, W).
        """
        return self.predict_by_feat(
            self.forward(img, grounding, prompts), batch_img_metas)

    def _resize(self, logits: torch.Tensor,
                size: Sequence[int]) -> torch.Tensor:
        """Bilinear resize of logits to ``size``."""
        if tuple(logits.shape[-2:]) == tuple(size):
            return logits
        return F.interpolate(
            logits, size=tuple(size), mode='bilinear',
            align_corners=self.align_corners)

    def loss_by_feat(self, head_out: Dict[str, torch.Tensor],
                     batch_data_samples: SampleList) -> dict:
        """Mask losses (and IoU-head loss) at the label resolution.

        Args:
            head_out (dict): Output of :meth:`forward`.
            batch_data_samples (list[SegDataSample]): With ``gt_sem_seg``
                (1, H, W) in {0, 1, ignore_index}.

        Returns:
            dict[str, Tensor]: Losses keyed by their ``loss_name``.
        """
        label = torch.stack(
            [s.gt_sem_seg.data for s in batch_data_samples]).squeeze(1)
        logits = self._resize(head_out['mask_logits'].float(),
                              label.shape[-2:])
        losses = {}
        for loss_module in self.loss_mask:
            value = loss_module(logits, label, ignore_index=self.ignore_index)
            name = loss_module.loss_name
            losses[name] = losses[name] + value if name in losses else value
        if self.loss_iou is not None:
            name = self.loss_iou.get('loss_name', 'loss_iou')
            losses[name] = self.loss_iou.get('loss_weight', 1.0) * F.mse_loss(
                head_out['iou_pred'][:, 0].float(),
                self._mask_iou(logits.detach(), label))
        return losses

    def _mask_iou(self, logits: torch.Tensor,
                  label: torch.Tensor) -> torch.Tensor:
        """IoU of the thresholded prediction per image (1 if both empty)."""
        valid = label != self.ignore_index
        pred = (logits[:, 0].sigmoid() > self.threshold) & valid
        target = (label == 1) & valid
        inter = (pred & target).flatten(1).sum(1).float()
        union = (pred | target).flatten(1).sum(1).float()
        return torch.where(union > 0, inter / union.clamp(min=1),
                           torch.ones_like(union))

    def predict_by_feat(self, head_out: Dict[str, torch.Tensor],
                        batch_img_metas: List[dict]) -> torch.Tensor:
        """Mask logits resized to the (padded) input size.

        Args:
            head_out (dict): Output of :meth:`forward`.
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
        return self._resize(head_out['mask_logits'], size)
