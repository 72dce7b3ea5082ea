"""Grounding measures of one expression: pointing and drift.

A model that grounds first (SGSRF) predicts, besides the mask, its cue
``G`` on the image tower's patch grid (``pred_cue_logits`` of the data
sample). Both measures are taken at the original image size, whatever the
scoring protocol of the IoU, with the cue's cells mapped onto the image as
the segmentor maps its mask logits (padding removed, a test-time flip
undone, resized to ``ori_shape``), nearest so that cells keep their edges:

* **pointing**: the peak cell of the cue holds a target pixel;
* **drift**: the share of the predicted mask outside the cue's region
  (:func:`~sgsrf_mmseg.utils.cue_region.cue_region`: cells with
  ``sigmoid(G) > 0.5`` and the peak cell); undefined for an empty
  prediction.
"""
from typing import Optional, Tuple

import torch.nn.functional as F
from torch import Tensor

from ...utils.cue_region import cue_region, peak_cells, upsample_cells


def cue_on_original(cue_logits: Tensor, meta: dict) -> Tensor:
    """The cue's cells laid over the original image.

    Args:
        cue_logits (Tensor): ``(1, h, w)`` or ``(h, w)`` logits on the patch
            grid of the (padded) network input.
        meta (dict): The sample's metainfo: ``img_shape`` (the input before
            padding), optional ``padding_size`` / ``img_padding_size``
            (left, right, top, bottom), ``flip``/``flip_direction``,
            ``ori_shape``.

    Returns:
        Tensor: ``(H, W)`` logits at ``ori_shape``, constant over each
        cell's footprint.
    """
    cue = cue_logits.reshape(1, 1, *cue_logits.shape[-2:]).float()
    left, right, top, bottom = meta.get(
        'img_padding_size', meta.get('padding_size', None)) or (0, 0, 0, 0)
    height, width = meta['img_shape'][:2]
    cue = upsample_cells(cue, (height + top + bottom, width + left + right))
    cue = cue[..., top:top + height, left:left + width]
    if meta.get('flip'):
        dim = 3 if meta.get('flip_direction') == 'horizontal' else 2
        cue = cue.flip(dims=(dim, ))
    return F.interpolate(
        cue, size=tuple(meta['ori_shape'][:2]), mode='nearest')[0, 0]


def grounding_measures(cue_logits: Tensor, meta: dict, pred_fg: Tensor,
                       gt_fg: Tensor,
                       valid: Tensor) -> Tuple[bool, Optional[float]]:
    """Pointing hit and drift of one expression at the original size.

    Args:
        cue_logits (Tensor): The cue on the patch grid (see
            :func:`cue_on_original`).
        meta (dict): The sample's metainfo.
        pred_fg (Tensor): ``(H, W)`` bool predicted target at
            ``ori_shape``.
        gt_fg (Tensor): ``(H, W)`` bool ground-truth target.
        valid (Tensor): ``(H, W)`` bool scored pixels (not ignored).

    Returns:
        tuple[bool, float | None]: Whether the peak cell holds a target
        pixel, and the share of the (valid) predicted pixels outside the
        cue's region (None for an empty prediction).
    """
    cue = cue_on_original(cue_logits.to(pred_fg.device), meta)
    if cue.shape != pred_fg.shape:
        raise ValueError(f'the cue maps to {tuple(cue.shape)} at ori_shape '
                         f'but the prediction is {tuple(pred_fg.shape)}')
    hit = bool((peak_cells(cue) & gt_fg & valid).any())
    pred = pred_fg & valid
    total = int(pred.sum())
    if total == 0:
        return hit, None
    outside = int((pred & ~cue_region(cue)).sum())
    return hit, outside / total
