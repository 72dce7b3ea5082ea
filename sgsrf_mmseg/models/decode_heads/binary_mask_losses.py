"""The mask losses of a binary decode head (one logit per pixel)."""
from typing import Optional, Sequence

import torch
import torch.nn.functional as F
from mmseg.utils import SampleList

#: The default mask losses: sigmoid cross-entropy and Dice.
MASK_LOSSES = [
    dict(
        type='CrossEntropyLoss',
        use_sigmoid=True,
        avg_non_ignore=True,
        loss_weight=1.0,
        loss_name='loss_mask_bce'),
    dict(type='MaskDiceLoss', loss_weight=1.0, loss_name='loss_dice')
]


class BinaryMaskLossMixin:
    """``loss_by_feat`` of a decode head that predicts one binary mask.

    The head sets ``loss_decode`` (an ``nn.ModuleList`` of losses, each
    called as ``loss(logits (B, 1, H, W), label (B, H, W), ignore_index=)``
    and named by its ``loss_name``), ``loss_iou`` (a dict or None),
    ``threshold``, ``ignore_index`` and ``align_corners``.
    """

    def _resize(self, logits: torch.Tensor,
                size: Sequence[int]) -> torch.Tensor:
        """Bilinear resize of logits to ``size``."""
        if tuple(logits.shape[-2:]) == tuple(size):
            return logits
        return F.interpolate(
            logits,
            size=tuple(size),
            mode='bilinear',
            align_corners=self.align_corners)

    @staticmethod
    def _labels(batch_data_samples: SampleList) -> torch.Tensor:
        """``(B, H, W)`` labels of the batch."""
        return torch.stack([s.gt_sem_seg.data
                            for s in batch_data_samples]).squeeze(1)

    def loss_by_feat(self,
                     mask_logits: torch.Tensor,
                     batch_data_samples: SampleList,
                     iou_pred: Optional[torch.Tensor] = None) -> dict:
        """Mask losses at the label resolution (and the IoU-head loss).

        Args:
            mask_logits (Tensor): ``(B, 1, h, w)`` mask logits.
            batch_data_samples (list[SegDataSample]): With ``gt_sem_seg``.
            iou_pred (Tensor, optional): ``(B, 1)`` predicted IoU, scored
                by ``loss_iou`` when both are given. Defaults to None.

        Returns:
            dict[str, Tensor]: Losses keyed by their ``loss_name``.
        """
        label = self._labels(batch_data_samples)
        logits = self._resize(mask_logits.float(), label.shape[-2:])
        losses = {}
        for loss_module in self.loss_decode:
            value = loss_module(logits, label, ignore_index=self.ignore_index)
            name = loss_module.loss_name
            losses[name] = losses[name] + value if name in losses else value
        if self.loss_iou is not None and iou_pred is not None:
            name = self.loss_iou.get('loss_name', 'loss_iou')
            losses[name] = self.loss_iou.get('loss_weight', 1.0) * F.mse_loss(
                iou_pred[:, 0].float(), self._mask_iou(logits.detach(), label))
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
