"""Segment what an expression refers to in your own images.

:class:`ReferringSegInferencer` builds a model from a config, loads a
checkpoint strictly and runs (image, expression) pairs through it.

Rules:

* Images: a file path or an (H, W) / (H, W, C) numpy array of any dtype.
  Arrays are in band order (RGB for colour images; convert arrays read by
  OpenCV from BGR first). Bands and bit depth follow
  :mod:`sgsrf_mmseg.utils.image_io`: grey is replicated to three channels,
  alpha is dropped, more than four bands keep the first three (``bands``
  picks others), non-uint8 data are stretched per band from the 2nd to the
  98th percentile, nodata pixels (a GeoTIFF's ``nodata``, or ``nodata=``
  for arrays) are left out of the stretch and become 0. Unreadable,
  missing or corrupt files raise an error naming the file; files of more
  than ``max_pixels`` pixels are refused from their header, before they
  are decoded.
* Size: every image is resized to the model input of the config (e.g.
  128 x 128 for the tiny config, 512 x 512 for the full one) as the config's
  test pipeline does, whatever its size: tiny images (down to 1 x 1) are
  scaled up, large ones scaled down. Masks come back at the original size.
  A large scene loses detail this way: segment it tile by tile at full
  resolution with :meth:`ReferringSegInferencer.segment_geotiff`.
* Expressions: :func:`~sgsrf_mmseg.utils.expression.clean_expression`
  (TypeError for non-strings, ValueError for empty or blank ones, control
  characters removed, white space collapsed); longer than the text tower's
  context, they are cut by the tower with a logged warning.
* Outputs per pair: ``mask`` (H, W) uint8 0/1 at the original size (target
  where the probability exceeds the head's ``threshold``), ``score`` (the
  mean target probability over the mask's pixels, 0.0 for an empty mask:
  how sure the model is of what it segmented, not a predicted IoU),
  ``text`` (the cleaned expression), and on request ``probability`` (H, W)
  float32 and ``visualization`` (the overlay of
  :func:`~sgsrf_mmseg.visualization.draw_referring_overlay`: mask filled
  and outlined, expression on a banner above the image).
"""
import copy
import logging
import os
from typing import Dict, List, Optional, Sequence, Tuple, Union

import numpy as np
import torch
from mmcv.transforms import Compose
from mmengine.config import Config
from mmengine.logging import print_log
from mmengine.registry import init_default_scope
from mmseg.registry import MODELS, TRANSFORMS

from ..engine.config_check import check_config
from ..models.input_geometry import model_input_size
from ..utils.checkpoint_file import read_checkpoint, state_dict_of
from ..utils.expression import clean_expression
from ..utils.image_header import DEFAULT_MAX_PIXELS
from ..utils.image_io import read_image_rgb, to_rgb_uint8
from ..utils.strict_loading import MODULE_PREFIX, load_exactly
from ..visualization.overlay import draw_referring_overlay
from .geo import ProgressFn, check_raster, segment_geotiff
from .inference_pipeline import inference_pipeline
from .precision import apply_precision, check_precision, default_device
from .tile_sizes import check_tiling

ImageType = Union[str, os.PathLike, np.ndarray]


class ReferringSegInferencer:
    """Referring segmentation of (image, expression) pairs.

    See the module docstring for the input rules and the outputs.

    Example:
        >>> inferencer = ReferringSegInferencer(
        ...     'configs/sgsrf/sgsrf_tiny_synthetic.py', 'iter_2000.pth')
        >>> result = inferencer('scene.png', 'the red car on the left')
        >>> result['mask'].shape, result['score']

    Args:
        model (str | Config): Config file or loaded config.
        checkpoint (str, optional): Checkpoint of the model, read before the
            model is built and loaded exactly
            (:func:`~sgsrf_mmseg.utils.strict_loading.load_exactly`: an
            unreadable file or a missing, unexpected or mis-shaped key is a
            ``CheckpointError``). None keeps random weights and logs a
            warning. Defaults to None.
        device (str, optional): Torch device; None takes ``'cuda'`` when
            available, else ``'cpu'``. Defaults to None.
        cfg_options (dict, optional): Overrides merged into the config.
            The model's part of the config is checked before anything is
            built (:func:`~sgsrf_mmseg.engine.config_check.check_config`: a
            ``ConfigCheckError`` lists every problem). Defaults to None.
        max_pixels (int, optional): Image files with more pixels are refused
            from their header, before decoding (see
            :mod:`sgsrf_mmseg.utils.image_header`); None for no limit.
            Defaults to 2**25 (e.g. 5792 x 5792).
        precision (str): ``'fp32'``, ``'bf16'`` or ``'int8'`` (see
            :mod:`sgsrf_mmseg.apis.precision`). A precision the device
            cannot run is a ``PrecisionError`` naming what it lacks, raised
            before the model is built. Defaults to 'fp32'.
    """

    def __init__(self,
                 model: Union[str, Config],
                 checkpoint: Optional[str] = None,
                 device: Optional[str] = None,
                 cfg_options: Optional[dict] = None,
                 max_pixels: Optional[int] = DEFAULT_MAX_PIXELS,
                 precision: str = 'fp32') -> None:
        if isinstance(model, Config):
            cfg = copy.deepcopy(model)
        else:
            cfg = Config.fromfile(os.fspath(model))
        if cfg_options:
            cfg.merge_from_dict(cfg_options)
        init_default_scope(cfg.get('default_scope', 'mmseg'))
        check_config(cfg, stages=())
        self.cfg = cfg
        self.max_pixels = max_pixels
        self.input_size = model_input_size(cfg.model)
        self.pipeline = Compose(
            [TRANSFORMS.build(step) for step in inference_pipeline(cfg)])
        self.device = default_device(device)
        check_precision(precision, self.device)
        self.precision = precision
        self.model = apply_precision(
            self._build_model(cfg, checkpoint), precision, self.device)
        preprocessor = cfg.model.get('data_preprocessor', {})
        self.bgr_input = bool(preprocessor.get('bgr_to_rgb', False))

    def _build_model(self, cfg: Config,
                     checkpoint: Optional[str]) -> torch.nn.Module:
        if checkpoint is None:
            print_log(
                'ReferringSegInferencer: no checkpoint given, the model has '
                'random weights and its masks mean nothing',
                logger='current',
                level=logging.WARNING)
            weights = None
        else:
            checkpoint = os.fspath(checkpoint)
            weights = state_dict_of(read_checkpoint(checkpoint), checkpoint)
        model = MODELS.build(cfg.model)
        if weights is not None:
            load_exactly(
                model,
                weights,
                checkpoint,
                target='the model of the config '
                f'({type(model).__name__})',
                revise_keys=(MODULE_PREFIX, ))
        model.cfg = cfg
        return model.to(self.device).eval()

    @property
    def threshold(self) -> float:
        """Probability above which a pixel is target."""
        return float(getattr(self.model.decode_head, 'threshold', 0.5))

    def _read(self, image: ImageType, field: str,
              bands: Optional[Sequence[int]],
              nodata: Optional[float]) -> Tuple[np.ndarray, str]:
        """RGB uint8 image and its path ('' for arrays)."""
        if isinstance(image, (str, os.PathLike)):
            path = os.fspath(image)
            return read_image_rgb(path, bands, self.max_pixels), path
        if isinstance(image, np.ndarray):
            try:
                return to_rgb_uint8(image, bands=bands, nodata=nodata), ''
            except ValueError as err:
                raise ValueError(f'{field}: {err}') from err
        raise TypeError(f'{field} must be an image file path or a numpy '
                        f'array, got {type(image).__name__}')

    @staticmethod
    def _pairs(images, expressions) -> Tuple[list, list, bool]:
        """Both arguments as equally long lists (a single one repeated)."""
        many_images = isinstance(images, (list, tuple))
        many_texts = isinstance(expressions, (list, tuple))
        if not many_images and not many_texts:
            return [images], [expressions], True
        if not many_images:
            images = [images] * len(expressions)
        if not many_texts:
            expressions = [expressions] * len(images)
        if len(images) != len(expressions):
            raise ValueError(f'got {len(images)} images and '
                             f'{len(expressions)} expressions')
        return list(images), list(expressions), False

    def __call__(
        self,
        images: Union[ImageType, Sequence[ImageType]],
        expressions: Union[str, Sequence[str]],
        batch_size: int = 1,
        bands: Optional[Sequence[int]] = None,
        return_probability: bool = False,
        return_vis: bool = False,
        nodata: Optional[float] = None
    ) -> Union[Dict[str, object], List[Dict[str, object]]]:
        """Segment what each expression refers to in its image.

        A single image or expression is paired with every item of the other
        argument when that one is a list.

        Args:
            images (str | np.ndarray | list): Image path(s) or array(s).
            expressions (str | list[str]): Referring expression(s).
            batch_size (int): Pairs per forward pass. Defaults to 1.
            bands (Sequence[int], optional): 0-based (r, g, b) band indices,
                or one index for grey. Defaults to None (the image_io rule).
            return_probability (bool): Add the ``probability`` map.
                Defaults to False.
            return_vis (bool): Add the ``visualization`` overlay.
                Defaults to False.
            nodata (float, optional): Nodata value of array images (files
                carry their own). Defaults to None.

        Returns:
            dict | list[dict]: One result (a dict when neither argument is
            a list) per pair: ``mask``, ``score``, ``text`` and the
            requested extras.
        """
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) \
                or batch_size < 1:
            raise ValueError(
                f'batch_size must be a positive int, got {batch_size!r}')
        images, expressions, single = self._pairs(images, expressions)
        texts = [
            clean_expression(text,
                             'expression' if single else f'expression[{i}]')
            for i, text in enumerate(expressions)
        ]
        results = []
        for start in range(0, len(images), batch_size):
            batch = []
            for i in range(start, min(start + batch_size, len(images))):
                field = 'image' if single else f'image[{i}]'
                rgb, path = self._read(images[i], field, bands, nodata)
                batch.append((rgb, path, path or field, texts[i]))
            results += self._run(batch, return_probability, return_vis)
        return results[0] if single else results

    def pack(self, items: Sequence[Tuple[np.ndarray, str, str]]) -> dict:
        """A model batch of (rgb, path, text) items, as ``test_step`` takes.

        Args:
            items (Sequence[tuple]): RGB uint8 image, its file path ('' for
                an array) and the cleaned expression.

        Returns:
            dict: ``inputs`` and ``data_samples`` after the test pipeline.
        """
        inputs, samples = [], []
        for rgb, path, text in items:
            data = dict(
                img=np.ascontiguousarray(rgb[
                    ..., ::-1] if self.bgr_input else rgb),
                img_shape=rgb.shape[:2],
                ori_shape=rgb.shape[:2],
                text=text)
            if path:
                data['img_path'] = path
            packed = self.pipeline(data)
            inputs.append(packed['inputs'])
            samples.append(packed['data_samples'])
        return dict(inputs=inputs, data_samples=samples)

    def _run(self, batch: List[Tuple[np.ndarray, str, str,
                                     str]], return_probability: bool,
             return_vis: bool) -> List[Dict[str, object]]:
        """One forward pass over (rgb, path, name, text) items."""
        data = self.pack([(rgb, path, text) for rgb, path, _, text in batch])
        with torch.no_grad():
            outputs = self.model.test_step(data)
        results = []
        for (rgb, _, name, text), output in zip(batch, outputs):
            prob = output.seg_logits.data[0].float().cpu().numpy()
            if not np.isfinite(prob).all():
                raise RuntimeError(
                    f'the model gave non-finite probabilities for {name} '
                    f'and expression {text!r}')
            mask = (output.pred_sem_seg.data[0]
                    > 0).cpu().numpy().astype(np.uint8)
            result = dict(
                mask=mask,
                score=float(prob[mask > 0].mean()) if mask.any() else 0.0,
                text=text)
            if return_probability:
                result['probability'] = prob
            if return_vis:
                result['visualization'] = draw_referring_overlay(
                    rgb, mask, text)
            results.append(result)
        return results

    def predict_tiles(self,
                      tiles: List[np.ndarray],
                      text: str,
                      batch_size: int = 4) -> List[np.ndarray]:
        """Target probability maps of tiles (``predict_fn`` of geo tiling).

        Args:
            tiles (list[np.ndarray]): (H, W, 3) RGB uint8 tiles.
            text (str): The referring expression.
            batch_size (int): Tiles per forward pass. Defaults to 4.

        Returns:
            list[np.ndarray]: One (H, W) float32 map per tile.
        """
        if not tiles:
            return []
        results = self(
            list(tiles), text, batch_size=batch_size, return_probability=True)
        return [result['probability'] for result in results]

    def segment_geotiff(self,
                        src_path: str,
                        text: str,
                        out_mask_path: str,
                        out_geojson_path: Optional[str] = None,
                        tile_size: Optional[int] = None,
                        overlap: Optional[int] = None,
                        batch_size: int = 4,
                        bands: Optional[Sequence[int]] = None,
                        overwrite: bool = False,
                        progress: Optional[ProgressFn] = None) -> Dict:
        """Segment a GeoTIFF scene tile by tile at full resolution.

        Wraps :func:`sgsrf_mmseg.apis.segment_geotiff` (see its module for
        the tiling, merge and output rules) with this model. Position words
        ("top left", "leftmost") are judged within each tile, not the scene.

        Args:
            src_path (str): Input raster.
            text (str): The referring expression.
            out_mask_path (str): Output GeoTIFF mask (0/255).
            out_geojson_path (str, optional): Output GeoJSON polygons.
                Defaults to None.
            tile_size (int, optional): Tile side; None takes the longer side
                of the model input. It must be in the range of
                :func:`~sgsrf_mmseg.apis.tile_sizes.tile_size_range`.
                Defaults to None.
            overlap (int, optional): Tile overlap; None takes a quarter of
                ``tile_size``. Defaults to None.
            batch_size (int): Tiles per forward pass. Defaults to 4.
            bands (Sequence[int], optional): 0-based band indices.
                Defaults to None.
            overwrite (bool): Replace existing output files (never the
                input). Defaults to False.
            progress (Callable, optional): ``progress(done, total)`` in
                tiles, see :func:`segment_geotiff`. Defaults to None.

        Returns:
            dict: The summary of :func:`segment_geotiff`.
        """
        text = clean_expression(text)
        if tile_size is None:
            tile_size = max(self.input_size)
        overlap = tile_size // 4 if overlap is None else overlap
        scene_size = check_raster(os.fspath(src_path), bands)
        check_tiling(tile_size, overlap, self.input_size, scene_size)
        return segment_geotiff(
            os.fspath(src_path),
            text,
            lambda tiles, expression: self.predict_tiles(
                tiles, expression, batch_size),
            os.fspath(out_mask_path),
            out_geojson_path=None
            if out_geojson_path is None else os.fspath(out_geojson_path),
            tile_size=tile_size,
            overlap=overlap,
            threshold=self.threshold,
            bands=bands,
            batch_size=batch_size,
            overwrite=overwrite,
            progress=progress)
