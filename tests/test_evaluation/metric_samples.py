"""Model outputs as the evaluator receives them."""
import numpy as np
import torch
from mmengine.structures import PixelData
from mmseg.structures import SegDataSample


def make_sample(pred, gt=None, probs=None, **meta):
    """A model output dict: ``pred_sem_seg``, optional ``gt_sem_seg`` and
    ``seg_logits`` (one channel holds probabilities, as MMSegmentation's
    ``postprocess_result`` writes it)."""
    pred = torch.as_tensor(np.asarray(pred)).long()[None]
    meta.setdefault('img_path', 'data/img_0.png')
    meta.setdefault('ori_shape', tuple(pred.shape[1:]))
    meta.setdefault('img_shape', tuple(pred.shape[1:]))
    sample = SegDataSample(metainfo=meta)
    sample.pred_sem_seg = PixelData(data=pred)
    if gt is not None:
        sample.gt_sem_seg = PixelData(
            data=torch.as_tensor(np.asarray(gt)).long()[None])
    if probs is not None:
        sample.seg_logits = PixelData(
            data=torch.as_tensor(np.asarray(probs)).float()[None])
    return sample.to_dict()


def masks_with_iou(inter, union, size=4):
    """A (pred, gt) pair on a size x size grid with the given I and U."""
    flat_gt = np.zeros(size * size, np.int64)
    flat_pred = np.zeros(size * size, np.int64)
    flat_gt[:union] = 1  # gt covers the whole union
    flat_pred[:inter] = 1  # prediction is a subset of gt
    return flat_pred.reshape(size, size), flat_gt.reshape(size, size)
