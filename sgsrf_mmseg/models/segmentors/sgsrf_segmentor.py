"""SGSRF segmentor: CLIP towers -> CCR (+SCR) -> GPG -> SAM head (GMS)."""
from typing import List, Tuple

import torch
from torch import Tensor

from mmseg.models.segmentors import BaseSegmentor
from mmseg.registry import MODELS
from mmseg.utils import (ConfigType, OptConfigType, OptMultiConfig,
                         OptSampleList, SampleList, add_prefix)


@MODELS.register_module()
class SGSRFSegmentor(BaseSegmentor):
    """Referring segmentor of SGSRF (grounding first, segmentation second).

    ``loss``: image tower + text tower -> ``refiner`` (CCR) ->
    ``prompt_generator`` (GPG) -> ``decode_head`` (SAM with grounding
    modulation) -> head losses (prefix ``decode.``) + ``structural_loss``
    (SCR) terms (prefix ``scr.``).

    ``init_weights`` loads the pretrained files through the sub-modules
    (``pretrained`` of each tower and of the head).

    ``predict``: the same forward on the whole image, mask logits at the
    input size, then :meth:`postprocess_result` (padding removed, flip
    undone, resized to ``ori_shape``, ``sigmoid > decode_head.threshold``).

    The expression of each image is read from ``data_sample.metainfo
    ['text']``. Ablations are config changes: ``refiner.num_blocks=0`` (no
    CCR refinement), ``prompt_generator=None`` (SAM gets no sparse prompt and
    its own no-mask dense embedding), ``decode_head.use_grounding_adapters=
    False`` (no GMS modulation), ``structural_loss=None`` or per-term
    weights 0 (no SCR).

    Args:
        image_encoder (dict): CLIP image tower (``CLIPImageEncoder``).
        text_encoder (dict): CLIP text tower (``CLIPTextEncoderTower``).
        refiner (dict): CCR (``CrossModalConsistencyRefiner``).
        decode_head (dict): SAM head (``GroundingSAMHead``).
        prompt_generator (dict, optional): GPG
            (``GroundingPromptGenerator``). Defaults to None.
        structural_loss (dict, optional): SCR
            (``StructuralConsistencyLoss``). Defaults to None.
        train_cfg (dict, optional): Unused training options.
            Defaults to None.
        test_cfg (dict, optional): ``dict(mode='whole')`` (the only mode).
            Defaults to None.
        data_preprocessor (dict, optional): ``SegDataPreProcessor`` config.
            Defaults to None.
        init_cfg (dict, optional): Initialisation config. Defaults to None.
    """

    def __init__(self,
                 image_encoder: ConfigType,
                 text_encoder: ConfigType,
                 refiner: ConfigType,
                 decode_head: ConfigType,
                 prompt_generator: OptConfigType = None,
                 structural_loss: OptConfigType = None,
                 train_cfg: OptConfigType = None,
                 test_cfg: OptConfigType = None,
                 data_preprocessor: OptConfigType = None,
                 init_cfg: OptMultiConfig = None):
        super().__init__(
            data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        self.image_encoder = MODELS.build(image_encoder)
        self.text_encoder = MODELS.build(text_encoder)
        self.refiner = MODELS.build(refiner)
        self.prompt_generator = MODELS.build(
            prompt_generator) if prompt_generator is not None else None
        self.decode_head = MODELS.build(decode_head)
        self.structural_loss = MODELS.build(
            structural_loss) if structural_loss is not None else None
        self.align_corners = getattr(self.decode_head, 'align_corners',
                                     False)
        self.out_channels = getattr(self.decode_head, 'out_channels', 1)
        self.train_cfg = train_cfg
        self.test_cfg = test_cfg
        mode = (test_cfg or {}).get('mode', 'whole')
        if mode != 'whole':
            raise ValueError(f"SGSRFSegmentor supports test_cfg.mode='whole' "
                             f'only, got {mode!r}')

    @staticmethod
    def get_texts(data_samples: OptSampleList) -> List[str]:
        """Read the referring expressions from the data samples."""
        if data_samples is None:
            raise ValueError(
                'SGSRFSegmentor needs data_samples whose metainfo carries '
                "'text' (the referring expression)")
        texts = []
        for i, sample in enumerate(data_samples):
            if 'text' not in sample.metainfo:
                raise KeyError(
                    f"data_samples[{i}].metainfo has no 'text': add 'text' "
                    'to the meta_keys of PackReferringInputs')
            texts.append(sample.metainfo['text'])
        return texts

    def extract_feat(self, inputs: Tensor,
                     texts: List[str]) -> Tuple[List[Tensor], dict]:
        """Run the CLIP towers.

        Args:
            inputs (Tensor): ``(B, 3, H, W)`` images, 0..255 RGB.
            texts (list[str]): One expression per image.

        Returns:
            tuple: image tower levels and text tower output.
        """
        if len(texts) != inputs.shape[0]:
            raise ValueError(f'{len(texts)} texts for {inputs.shape[0]} '
                             'images')
        return self.image_encoder(inputs), self.text_encoder(texts)

    def ground_and_decode(self, inputs: Tensor,
                          texts: List[str]) -> Tuple[dict, dict]:
        """Towers -> CCR -> GPG -> SAM head.

        Returns:
            tuple[dict, dict]: CCR output and head output (``mask_logits``,
            ``iou_pred``).
        """
        visual_feats, text = self.extract_feat(inputs, texts)
        ccr_out = self.refiner(visual_feats, text)
        if self.prompt_generator is not None:
            prompts = self.prompt_generator(
                ccr_out, self.decode_head.prompt_encoder,
                self.decode_head.image_embedding_size)
        else:
            prompts = dict(sparse=None, dense=None)
        return ccr_out, self.decode_head(inputs, ccr_out, prompts)

    def encode_decode(self, inputs: Tensor,
                      batch_img_metas: List[dict]) -> Tensor:
        """Mask logits ``(B, 1, H, W)`` at the input size."""
        texts = [meta['text'] for meta in batch_img_metas]
        _, head_out = self.ground_and_decode(inputs, texts)
        return self.decode_head.predict_by_feat(head_out, batch_img_metas)

    def loss(self, inputs: Tensor, data_samples: SampleList) -> dict:
        """Head losses (``decode.*``) and SCR terms (``scr.*``)."""
        ccr_out, head_out = self.ground_and_decode(
            inputs, self.get_texts(data_samples))
        losses = add_prefix(
            self.decode_head.loss_by_feat(head_out, data_samples), 'decode')
        if self.structural_loss is not None:
            gt = torch.stack(
                [sample.gt_sem_seg.data[0] for sample in data_samples])
            losses.update(
                add_prefix(self.structural_loss(ccr_out, gt), 'scr'))
        return losses

    def predict(self,
                inputs: Tensor,
                data_samples: OptSampleList = None) -> SampleList:
        """Binary masks at ``ori_shape`` in ``pred_sem_seg``."""
        self.get_texts(data_samples)
        batch_img_metas = [sample.metainfo for sample in data_samples]
        seg_logits = self.encode_decode(inputs, batch_img_metas)
        return self.postprocess_result(seg_logits, data_samples)

    def _forward(self,
                 inputs: Tensor,
                 data_samples: OptSampleList = None) -> Tensor:
        """Mask logits of the head (SAM's low-resolution masks)."""
        _, head_out = self.ground_and_decode(inputs,
                                             self.get_texts(data_samples))
        return head_out['mask_logits']
