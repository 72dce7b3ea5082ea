"""SGSRF segmentor: CLIP towers -> CCR (+SCR) -> GPG -> SAM head (GMS)."""
from typing import List, Optional, Tuple

import torch
import torch.nn.functional as F
from mmengine.structures import PixelData
from mmseg.models.segmentors import BaseSegmentor
from mmseg.registry import MODELS
from mmseg.utils import (ConfigType, OptConfigType, OptMultiConfig,
                         OptSampleList, SampleList, add_prefix)
from torch import Tensor

from ..utils.stage_outputs import GroundedImage, TextFeatures


@MODELS.register_module()
class SGSRFSegmentor(BaseSegmentor):
    """Referring segmentor of SGSRF (grounding first, segmentation second).

    ``loss``: image tower + text tower -> ``refiner`` (CCR) ->
    ``prompt_generator`` (GPG) -> ``decode_head`` (SAM with grounding
    modulation, given a :class:`GroundedImage` as its inputs; its
    ``decode`` then ``loss_by_feat``) -> head losses (prefix ``decode.``)
    + ``structural_loss`` (SCR) terms (prefix ``scr.``): the structure of
    each stage, read against each expression's dependency parse (the data
    samples' metainfo ``text_parse``), CCR's attention, GPG's queries'
    attention and the head's mask logits.

    ``init_weights`` loads the pretrained files through the sub-modules
    (``pretrained`` of each tower and of the head).

    ``predict``: the same stages, ``decode_head.predict`` (mask logits at
    the input size), then :meth:`postprocess_result` (padding removed, flip
    undone, resized to ``ori_shape``, ``sigmoid > decode_head.threshold``);
    each data sample also gets the grounding cue as ``pred_cue_logits``
    (``PixelData`` ``(1, h, w)``, logits on the patch grid of the padded
    input), which the metric reads for pointing and drift. The attention
    maps of the structure terms are computed only for the loss. With
    ``autocast_dtype`` set (e.g. ``torch.bfloat16``, by
    :func:`sgsrf_mmseg.apis.precision.apply_precision`), the stages run
    under ``torch.autocast`` to that type, and the mask logits and the cue
    are cast back to float32 before they are resized and thresholded.

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
        data_preprocessor (dict, optional): ``SegDataPreProcessor`` config;
            its ``mean``/``std`` must be None: each image tower normalises
            its 0..255 input with its own statistics. Defaults to None.
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
        self.align_corners = getattr(self.decode_head, 'align_corners', False)
        self.out_channels = getattr(self.decode_head, 'out_channels', 1)
        self.train_cfg = train_cfg
        self.test_cfg = test_cfg
        self.autocast_dtype = None
        if (data_preprocessor or {}).get('mean') is not None:
            raise ValueError(
                'SGSRFSegmentor: model.data_preprocessor.mean/std must be '
                'None: the CLIP and SAM image towers read the same 0..255 '
                'image and normalise it with their own statistics '
                '(model.image_encoder.normalize, model.decode_head.normalize)')
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
                     texts: List[str]) -> Tuple[List[Tensor], TextFeatures]:
        """Run the CLIP towers.

        Args:
            inputs (Tensor): ``(B, 3, H, W)`` images, 0..255 RGB.
            texts (list[str]): One expression per image.

        Returns:
            tuple: image tower levels and the text tower's output.
        """
        if len(texts) != inputs.shape[0]:
            raise ValueError(f'{len(texts)} texts for {inputs.shape[0]} '
                             'images')
        return self.image_encoder(inputs), self.text_encoder(texts)

    def ground(self,
               inputs: Tensor,
               texts: List[str],
               need_patch_word_attn: bool = False,
               need_query_attn: bool = False) -> GroundedImage:
        """Towers -> CCR -> GPG: the head's input.

        Args:
            inputs (Tensor): ``(B, 3, H, W)`` images, 0..255 RGB.
            texts (list[str]): One expression per image.
            need_patch_word_attn (bool): Keep CCR's attention maps (for
                the structural loss). Defaults to False.
            need_query_attn (bool): Keep GPG's query attention maps (for
                the structural loss). Defaults to False.

        Returns:
            GroundedImage: the image, the grounding and the prompts.
        """
        visual_feats, text = self.extract_feat(inputs, texts)
        grounding = self.refiner(visual_feats, text, need_patch_word_attn)
        prompts = self.prompt_generator(
            grounding,
            need_query_attn) if self.prompt_generator is not None else None
        return GroundedImage(
            image=inputs, grounding=grounding, prompts=prompts)

    def encode_decode(self, inputs: Tensor,
                      batch_img_metas: List[dict]) -> Tensor:
        """Mask logits ``(B, 1, H, W)`` at the input size."""
        texts = [meta['text'] for meta in batch_img_metas]
        return self.decode_head.predict(
            self.ground(inputs, texts), batch_img_metas, self.test_cfg)

    def loss(self, inputs: Tensor, data_samples: SampleList) -> dict:
        """Head losses (``decode.*``) and SCR terms (``scr.*``)."""
        scr = self.structural_loss
        grounded = self.ground(
            inputs,
            self.get_texts(data_samples),
            need_patch_word_attn=scr is not None and scr.needs_attention,
            need_query_attn=scr is not None and scr.needs_query_attention)
        mask_logits, iou_pred = self.decode_head.decode(grounded)
        losses = add_prefix(
            self.decode_head.loss_by_feat(mask_logits, data_samples, iou_pred),
            'decode')
        if scr is not None:
            gt = torch.stack(
                [sample.gt_sem_seg.data[0] for sample in data_samples])
            parses = [s.metainfo.get('text_parse') for s in data_samples]
            losses.update(
                add_prefix(
                    scr(grounded.grounding,
                        gt,
                        parses,
                        prompts=grounded.prompts,
                        mask_logits=mask_logits,
                        landmark_gt=self.landmark_maps(data_samples, gt)),
                    'scr'))
        return losses

    @staticmethod
    def landmark_maps(data_samples: SampleList,
                      gt: Tensor) -> Optional[Tensor]:
        """The samples' ``gt_landmark_map`` as ``(B, H, W)``, padded like
        ``gt`` (bottom and right); None when no sample has one."""
        has = ['gt_landmark_map' in sample for sample in data_samples]
        if not any(has):
            return None
        if not all(has):
            raise ValueError(
                f'{has.count(False)} of {len(has)} data samples have no '
                'gt_landmark_map: every training sample needs one, or none '
                '(LoadLandmarkMap in the training pipeline)')
        height, width = gt.shape[-2:]
        maps = []
        for sample in data_samples:
            data = sample.gt_landmark_map.data[0].to(gt.device)
            maps.append(
                F.pad(data,
                      (0, width - data.shape[-1], 0, height - data.shape[-2])))
        return torch.stack(maps)

    def predict(self,
                inputs: Tensor,
                data_samples: OptSampleList = None) -> SampleList:
        """Binary masks at ``ori_shape`` in ``pred_sem_seg``, the cue in
        ``pred_cue_logits``."""
        texts = self.get_texts(data_samples)
        batch_img_metas = [sample.metainfo for sample in data_samples]
        with torch.autocast(
                inputs.device.type,
                dtype=self.autocast_dtype,
                enabled=self.autocast_dtype is not None):
            grounded = self.ground(inputs, texts)
            seg_logits = self.decode_head.predict(grounded, batch_img_metas,
                                                  self.test_cfg)
        results = self.postprocess_result(seg_logits.float(), data_samples)
        for sample, cue in zip(results, grounded.grounding.cue_logits):
            sample.set_data(dict(pred_cue_logits=PixelData(data=cue.float())))
        return results

    def _forward(self,
                 inputs: Tensor,
                 data_samples: OptSampleList = None) -> Tensor:
        """Mask logits of the head (SAM's low-resolution masks)."""
        return self.decode_head(
            self.ground(inputs, self.get_texts(data_samples)))
