"""Visualizer drawing image | ground truth | prediction with the expression."""
from typing import Dict, List, Optional, Sequence

import cv2
import mmcv
import numpy as np
from mmengine.dist import master_only
from mmseg.registry import VISUALIZERS
from mmseg.structures import SegDataSample
from mmseg.visualization import SegLocalVisualizer

from ..utils.image_io import to_rgb_uint8
from .overlay import add_text_banner, draw_mask_overlay


@VISUALIZERS.register_module()
class ReferringSegVisualizer(SegLocalVisualizer):
    """Visualizer for referring segmentation results.

    ``add_datasample`` draws three panels side by side, the image, the ground
    truth (``gt_color``) and the prediction (``pred_color``), with the
    expression (``data_sample.metainfo['text']``) and the expression's IoU on
    a banner above them. Panels whose data is missing (no ground truth,
    ``draw_gt=False``) are left out. Masks whose size differs from the
    image's are resized with nearest interpolation. A non-uint8 image (a
    16-bit tile) is converted with :func:`sgsrf_mmseg.utils.image_io.
    to_rgb_uint8`.

    Because one image carries several expressions, ``_<ref_id>_<sent_id>``
    is appended to ``name`` when the sample has them, so
    ``SegVisualizationHook`` (``tools/test.py --show-dir``) writes one
    picture per expression.

    Args:
        name (str): Instance name. Defaults to 'visualizer'.
        image (np.ndarray, optional): Image to draw. Defaults to None.
        vis_backends (list, optional): Visual backend configs.
            Defaults to None.
        save_dir (str, optional): Save directory of the backends.
            Defaults to None.
        gt_color (Sequence[int]): RGB colour of the ground truth.
            Defaults to (64, 220, 64).
        pred_color (Sequence[int]): RGB colour of the prediction.
            Defaults to (255, 64, 64).
        alpha (float): Mask opacity. Defaults to 0.5.
        classes (Sequence[str]): Class names. Defaults to
            ('background', 'target').
        palette (list, optional): Class colours. Defaults to None (black and
            ``pred_color``).
    """

    def __init__(self,
                 name: str = 'visualizer',
                 image: Optional[np.ndarray] = None,
                 vis_backends: Optional[List[Dict]] = None,
                 save_dir: Optional[str] = None,
                 gt_color: Sequence[int] = (64, 220, 64),
                 pred_color: Sequence[int] = (255, 64, 64),
                 alpha: float = 0.5,
                 classes: Sequence[str] = ('background', 'target'),
                 palette: Optional[List[List[int]]] = None,
                 **kwargs) -> None:
        palette = palette or [[0, 0, 0], list(pred_color)]
        super().__init__(
            name=name,
            image=image,
            vis_backends=vis_backends,
            save_dir=save_dir,
            classes=classes,
            palette=palette,
            alpha=alpha,
            **kwargs)
        self.set_dataset_meta(classes=classes, palette=palette)
        self.gt_color = tuple(gt_color)
        self.pred_color = tuple(pred_color)

    @staticmethod
    def _mask_of(data_sample: SegDataSample, key: str,
                 shape: Sequence[int]) -> np.ndarray:
        mask = data_sample.get(key).data
        mask = mask.cpu().numpy() if hasattr(mask, 'cpu') else mask
        mask = np.asarray(mask)[0].astype(np.uint8)
        if mask.shape != tuple(shape):
            mask = cv2.resize(
                mask, (shape[1], shape[0]), interpolation=cv2.INTER_NEAREST)
        return mask

    def draw_referring(self,
                       image: np.ndarray,
                       data_sample: SegDataSample,
                       draw_gt: bool = True,
                       draw_pred: bool = True) -> np.ndarray:
        """Compose the image | ground truth | prediction picture.

        Args:
            image (np.ndarray): (H, W, 3) RGB image (any dtype).
            data_sample (SegDataSample): Sample with ``text`` in its metainfo
                and ``gt_sem_seg`` / ``pred_sem_seg``.
            draw_gt (bool): Draw the ground-truth panel. Defaults to True.
            draw_pred (bool): Draw the prediction panel. Defaults to True.

        Returns:
            np.ndarray: RGB uint8 picture.
        """
        if image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3:
            image = to_rgb_uint8(image)
        shape = image.shape[:2]
        panels = [image]
        gt = pred = None
        if draw_gt and 'gt_sem_seg' in data_sample:
            gt = self._mask_of(data_sample, 'gt_sem_seg', shape)
            panels.append(
                draw_mask_overlay(image, gt, self.gt_color, self.alpha))
        if draw_pred and 'pred_sem_seg' in data_sample:
            pred = self._mask_of(data_sample, 'pred_sem_seg', shape)
            panels.append(
                draw_mask_overlay(image, pred, self.pred_color, self.alpha))
        text = str(data_sample.metainfo.get('text', ''))
        if gt is not None and pred is not None:
            valid = gt != 255
            union = ((gt == 1) | (pred == 1))[valid].sum()
            inter = ((gt == 1) & (pred == 1))[valid].sum()
            iou = inter / union if union else 0.0
            text = f'{text}  [IoU {iou * 100:.1f}]'
        return add_text_banner(np.concatenate(panels, axis=1), text)

    @master_only
    def add_datasample(self,
                       name: str,
                       image: np.ndarray,
                       data_sample: Optional[SegDataSample] = None,
                       draw_gt: bool = True,
                       draw_pred: bool = True,
                       show: bool = False,
                       wait_time: float = 0,
                       out_file: Optional[str] = None,
                       step: int = 0,
                       with_labels: Optional[bool] = True) -> None:
        """Draw a sample and save it to the backends (or ``out_file``).

        Args:
            name (str): Image identifier.
            image (np.ndarray): RGB image.
            data_sample (SegDataSample, optional): The sample. Defaults to
                None (the image alone is drawn).
            draw_gt (bool): Draw the ground truth. Defaults to True.
            draw_pred (bool): Draw the prediction. Defaults to True.
            show (bool): Display the picture. Defaults to False.
            wait_time (float): Display interval in seconds. Defaults to 0.
            out_file (str, optional): Write the picture here instead of the
                backends. Defaults to None.
            step (int): Global step. Defaults to 0.
            with_labels (bool, optional): Unused, kept for the parent's
                signature. Defaults to True.
        """
        if data_sample is None:
            drawn = image if image.dtype == np.uint8 else to_rgb_uint8(image)
        else:
            drawn = self.draw_referring(image, data_sample, draw_gt, draw_pred)
            ref_id = data_sample.metainfo.get('ref_id')
            sent_id = data_sample.metainfo.get('sent_id')
            if ref_id is not None or sent_id is not None:
                name = f'{name}_{ref_id}_{sent_id}'
        self.set_image(drawn)
        if show:
            self.show(drawn, win_name=name, wait_time=wait_time)
        if out_file is not None:
            mmcv.imwrite(mmcv.rgb2bgr(drawn), out_file)
        else:
            self.add_image(name, drawn, step)
