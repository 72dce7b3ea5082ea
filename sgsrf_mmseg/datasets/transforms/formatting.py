"""Pack a referring sample into model inputs and a SegDataSample."""
from typing import Sequence

import numpy as np
from mmcv.transforms import to_tensor
from mmengine.structures import PixelData
from mmseg.datasets.transforms import PackSegInputs
from mmseg.registry import TRANSFORMS

REFERRING_META_KEYS = ('text', 'text_parse', 'ref_id', 'sent_id', 'image_id',
                       'category', 'tags', 'img_path', 'seg_map_path',
                       'ori_shape', 'img_shape', 'pad_shape', 'scale_factor',
                       'flip', 'flip_direction', 'reduce_zero_label')


@TRANSFORMS.register_module()
class PackReferringInputs(PackSegInputs):
    """:class:`PackSegInputs` whose metainfo carries the expression and ids.

    ``gt_sem_seg.data`` is the (1, H, W) int64 mask (1 target, 0
    background); the expression travels as metainfo ``text``, and its
    dependency parse as ``text_parse`` and its test groups as ``tags``
    when the dataset gives them (a key absent from the results is left out
    of the metainfo, as in :class:`PackSegInputs`). A ``gt_landmark_map``
    (:class:`LoadLandmarkMap`) is packed as the sample's
    ``gt_landmark_map``, a (1, H, W) int64 :class:`PixelData`.

    Args:
        meta_keys (Sequence[str]): Keys packed into the metainfo. Defaults
            to ``('text', 'text_parse', 'ref_id', 'sent_id', 'image_id',
            'category', 'tags', 'img_path', 'seg_map_path', 'ori_shape',
            'img_shape', 'pad_shape', 'scale_factor', 'flip',
            'flip_direction', 'reduce_zero_label')``.
    """

    def __init__(self, meta_keys: Sequence[str] = REFERRING_META_KEYS) -> None:
        super().__init__(meta_keys=tuple(meta_keys))

    def transform(self, results: dict) -> dict:
        """Pack as :class:`PackSegInputs`, with the landmark map if any."""
        packed = super().transform(results)
        if results.get('gt_landmark_map') is not None:
            landmark_map = results['gt_landmark_map'].astype(np.int64)
            packed['data_samples'].gt_landmark_map = PixelData(
                data=to_tensor(landmark_map[None]))
        return packed
