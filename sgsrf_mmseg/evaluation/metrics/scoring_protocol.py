"""Scoring protocols: the resolution and the rules a referring score follows.

Published referring remote-sensing numbers are not all scored the same way,
and the differences change the numbers. A protocol names every choice, and
:data:`PROTOCOLS` holds the presets:

``'original'`` (default)
    Scored at each image's original size (``ori_shape``). Ground truth: the
    mask as loaded (the test pipelines load it after ``Resize``, so it is
    never resampled). Prediction: ``pred_sem_seg`` as the segmentor returns
    it (mask logits at the input size resized bilinearly to the original
    size by MMSegmentation's ``postprocess_result``, target where the
    probability > the head's ``threshold``). ``Prec@X`` counts IoU >= X.
    An expression whose prediction and ground truth are both empty scores
    IoU 0 (in mIoU and in every ``Prec@X``; it adds nothing to oIoU).

``'lavt-480'`` (LAVT, RMSIN)
    Scored at 480 x 480, as their ``test.py`` (``--img_size 480``): the
    ground truth is resized from its original size to 480 x 480 with PIL's
    nearest filter (their ``T.Resize`` calls torchvision's ``resize`` on the
    PIL mask with ``Image.NEAREST``; PIL is called here as well, since its
    nearest sampling differs from torch's ``nearest`` and ``nearest-exact``
    at some sizes, e.g. 512 -> 480). Prediction: the probability map
    ``seg_logits`` (at the original size, as the segmentor returns it)
    resized bilinearly (``align_corners=False``) to 480 x 480, target where
    > ``threshold`` (0.5); with several channels, ``argmax == 1`` (their
    two-channel argmax); without ``seg_logits``, ``pred_sem_seg`` resized
    like the ground truth. ``Prec@X`` counts IoU >= X; an empty union
    scores IoU 0 (their ``this_iou = 0.0`` when ``U == 0``); oIoU is
    ``cum_I / cum_U``. Their network's output is upsampled to 480 with
    ``align_corners=True`` from 1/4 resolution; ours is resampled from the
    original size, the one step that cannot be the same.

``'rsrefseg'`` (RSRefSeg)
    As ``'original'`` (their mmseg test pipeline loads the mask after
    ``Resize`` and scores ``pred_sem_seg`` at the original size), but
    ``Prec@X`` counts IoU > X (strictly). Their code divides 0 by 0 for an
    empty union (NaN, which makes their mean NaN); here it scores 0 as in
    the other presets.

Any field can be overridden; the protocol's name then lists the overrides.
"""
from dataclasses import asdict, dataclass, fields, replace
from typing import Tuple, Union

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

from .referring_scores import PREC_RULES

Resolution = Union[str, Tuple[int, int]]


@dataclass(frozen=True)
class ScoringProtocol:
    """How masks are scored.

    Attributes:
        name (str): Preset name, with overrides listed.
        resolution (str | tuple[int, int]): ``'original'`` (``ori_shape``),
            ``'input'`` (``img_shape``, the network input size) or a fixed
            ``(height, width)``.
        prec_rule (str): ``'>='`` or ``'>'``.
        empty_union_iou (float): IoU of an expression whose prediction and
            ground truth are both empty.
        threshold (float): Probability threshold of the prediction when it
            is resampled (any resolution other than ``'original'``).
    """
    name: str
    resolution: Resolution
    prec_rule: str
    empty_union_iou: float
    threshold: float

    def describe(self) -> str:
        """The protocol in one sentence, as printed with the results."""
        if self.resolution == 'original':
            where = ('at the original image size (ground truth as loaded; '
                     'prediction pred_sem_seg as the segmentor returns it)')
        else:
            size = ('the network input size (img_shape)' if self.resolution
                    == 'input' else '{}x{}'.format(*self.resolution))
            where = (f'at {size} (ground truth resized with PIL nearest; '
                     'prediction: seg_logits probabilities resized '
                     f'bilinearly, target where > {self.threshold:g})')
        return (f'protocol {self.name!r}: scored {where}; Prec@X counts IoU '
                f'{self.prec_rule} X; an empty prediction with an empty '
                f'ground truth scores IoU {self.empty_union_iou:g}')

    def to_dict(self) -> dict:
        """The fields, JSON-ready, with the description."""
        fields = asdict(self)
        if isinstance(self.resolution, tuple):
            fields['resolution'] = list(self.resolution)
        fields['description'] = self.describe()
        return fields


#: Named presets; see the module docstring for what each one follows.
PROTOCOLS = {
    'original': ScoringProtocol('original', 'original', '>=', 0.0, 0.5),
    'lavt-480': ScoringProtocol('lavt-480', (480, 480), '>=', 0.0, 0.5),
    'rsrefseg': ScoringProtocol('rsrefseg', 'original', '>', 0.0, 0.5),
}


def _check_resolution(resolution) -> Resolution:
    if resolution in ('original', 'input'):
        return resolution
    if isinstance(resolution, int) and not isinstance(resolution, bool):
        resolution = (resolution, resolution)
    if (isinstance(resolution, (tuple, list)) and len(resolution) == 2
            and all(isinstance(s, int) and s > 0 for s in resolution)):
        return tuple(resolution)
    raise ValueError("resolution must be 'original', 'input', a size or "
                     f'(height, width), got {resolution!r}')


def resolve_protocol(protocol: str = 'original', **overrides) -> \
        ScoringProtocol:
    """A preset with some fields overridden.

    Args:
        protocol (str): A name in :data:`PROTOCOLS`.
        **overrides: ``resolution``, ``prec_rule``, ``empty_union_iou`` or
            ``threshold``; None keeps the preset's value.

    Returns:
        ScoringProtocol: The protocol; its name lists the fields that differ
        from the preset.
    """
    if protocol not in PROTOCOLS:
        raise ValueError(f'unknown scoring protocol {protocol!r}; choose one '
                         f'of {sorted(PROTOCOLS)}')
    preset = PROTOCOLS[protocol]
    changes = {k: v for k, v in overrides.items() if v is not None}
    if 'resolution' in changes:
        changes['resolution'] = _check_resolution(changes['resolution'])
    if changes.get('prec_rule', '>=') not in PREC_RULES:
        raise ValueError(
            f"prec_rule must be '>=' or '>', got {changes['prec_rule']!r}")
    for key in ('empty_union_iou', 'threshold'):
        if key in changes:
            changes[key] = float(changes[key])
    changes = {k: v for k, v in changes.items() if getattr(preset, k) != v}
    if 'threshold' in changes and changes.get('resolution',
                                              preset.resolution) == 'original':
        raise ValueError(
            f'threshold={changes["threshold"]} has no effect at the original '
            'resolution, where pred_sem_seg is scored as the segmentor '
            "thresholded it (set the head's threshold instead)")
    if not changes:
        return preset
    listed = ', '.join(f'{f.name}={changes[f.name]!r}' for f in fields(preset)
                       if f.name in changes)
    return replace(preset, name=f'{preset.name} ({listed})', **changes)


def _pil_nearest(mask: torch.Tensor, size: Tuple[int, int],
                 what: str) -> torch.Tensor:
    """Resize an integer mask with PIL's nearest filter."""
    if mask.min() < 0 or mask.max() > 255:
        raise ValueError(f'{what} has values outside 0..255 '
                         f'({int(mask.min())}..{int(mask.max())}); it cannot '
                         'be resized as an 8-bit mask')
    image = Image.fromarray(mask.cpu().numpy().astype(np.uint8))
    resized = image.resize((size[1], size[0]), Image.Resampling.NEAREST)
    return torch.from_numpy(np.asarray(resized).astype(np.int64)).to(
        mask.device)


def scoring_masks(protocol: ScoringProtocol, sample: dict, pred: torch.Tensor,
                  gt: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
    """Bring the prediction and the ground truth to the protocol's size.

    Args:
        protocol (ScoringProtocol): The protocol.
        sample (dict): The model output (``seg_logits``, ``img_shape``).
        pred (Tensor): ``pred_sem_seg`` (H, W), 1 = target.
        gt (Tensor): Ground truth (H, W) at the original size.

    Returns:
        tuple[Tensor, Tensor]: Prediction and ground truth to score.
    """
    if protocol.resolution == 'original':
        return pred, gt
    name = sample.get('img_path', '<unknown image>')
    if protocol.resolution == 'input':
        if 'img_shape' not in sample:
            raise KeyError(f'sample {name} has no img_shape, needed by '
                           "resolution='input'")
        size = tuple(int(s) for s in sample['img_shape'][:2])
    else:
        size = protocol.resolution
    gt = _pil_nearest(gt, size, f'the ground truth of {name}')
    if 'seg_logits' not in sample:
        return _pil_nearest(pred, size, f'the prediction of {name}'), gt
    # MMSegmentation stores sigmoid probabilities for one channel and raw
    # logits for several.
    scores = F.interpolate(
        sample['seg_logits']['data'][None].float(),
        size=size,
        mode='bilinear',
        align_corners=False)[0]
    if scores.shape[0] == 1:
        pred = (scores[0] > protocol.threshold).long()
    else:
        pred = (scores.argmax(dim=0) == 1).long()
    return pred, gt.to(pred.device)
