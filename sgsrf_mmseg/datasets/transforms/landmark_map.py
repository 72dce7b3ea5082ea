"""Draw the landmarks an expression names into a map beside its mask."""
import numpy as np
from mmcv.transforms import BaseTransform
from mmseg.registry import TRANSFORMS


@TRANSFORMS.register_module()
class LoadLandmarkMap(BaseTransform):
    """Draw ``results['landmark_boxes']`` into ``results['gt_landmark_map']``.

    The map has the image's size, 1 inside the boxes of the landmarks the
    expression's relation names and 0 elsewhere (all 0 for an expression
    without a relation). It is added to ``seg_fields``, so that ``Resize``,
    :class:`TextAwareRandomFlip` and the other geometric transforms move it
    with the mask, and :class:`PackReferringInputs` packs it as the data
    sample's ``gt_landmark_map``: the landmark term of the structural loss
    (``landmark_weight``) then asks CCR's landmark to lie on it.

    :class:`SyntheticRefSegRSDataset` gives the boxes (inclusive pixel
    corners ``(x0, y0, x1, y1)``) on the data it generated. Put the step
    after the image is loaded and before any resize or flip.

    Required Keys: ``img``, ``landmark_boxes``.

    Added Keys: ``gt_landmark_map``; ``seg_fields`` gains it.
    """

    def transform(self, results: dict) -> dict:
        """Draw the map; refuse an item without boxes or a moved image."""
        where = f'{results.get("img_path")} ({results.get("text")!r})'
        if results.get('landmark_boxes') is None:
            raise ValueError(
                f'LoadLandmarkMap: the item {where} has no landmark_boxes; '
                'only SyntheticRefSegRSDataset gives them, on data it '
                'generated (remove LoadLandmarkMap from the pipeline and '
                'set model.structural_loss.landmark_weight=0 for other '
                'data)')
        if 'scale_factor' in results or 'flip' in results:
            raise ValueError(
                f'LoadLandmarkMap: the item {where} was already resized or '
                'flipped; put LoadLandmarkMap before Resize and the flips')
        height, width = results['img'].shape[:2]
        landmark_map = np.zeros((height, width), dtype=np.uint8)
        for box in results['landmark_boxes']:
            x0, y0, x1, y1 = box
            if x1 >= width or y1 >= height:
                raise ValueError(
                    f'LoadLandmarkMap: the landmark box {list(box)} of '
                    f'{where} lies outside its {width}x{height} image')
            landmark_map[y0:y1 + 1, x0:x1 + 1] = 1
        results['gt_landmark_map'] = landmark_map
        results.setdefault('seg_fields', []).append('gt_landmark_map')
        return results
