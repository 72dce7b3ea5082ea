"""The requests of the web demo, without the web page.

:class:`DemoService` answers the page's two kinds of request with one model
(a :class:`~sgsrf_mmseg.apis.ReferringSegInferencer`):

* an image and one or more expressions (one per line): one forward pass,
  an overlay (one expression: drawn as ``tools/infer.py`` draws it; several:
  each mask in its own colour with a legend), the score of each expression
  and one mask PNG (0/255, the image's size) per expression;
* a GeoTIFF scene and an expression: segmented tile by tile as
  ``tools/infer.py --geotiff`` does, giving the GeoTIFF mask, the GeoJSON
  polygons and a preview of the scene with the polygons drawn on it;
* an image and one expression, explained: the stage panels of one forward
  pass (:func:`~sgsrf_mmseg.apis.explain_expression`), asked for only when
  the page's "How it decided" section is opened, so a plain request never
  pays for them.

Each request writes into a fresh folder of its own under the service's
working folder (a temporary folder removed when the process ends; the
oldest request folders are removed as new ones come), never next to its
input. Bad input raises :class:`DemoInputError` with the inferencer's own
message, in which the upload's server-side path is replaced by its file
name; where the inferencer advises ``--geotiff`` (an image over its pixel
limit), the page's GeoTIFF tab is named too. Every input has a bound
checked before the model runs: at most :attr:`DemoService.max_expressions`
expressions of at most
:data:`~sgsrf_mmseg.utils.expression.MAX_EXPRESSION_CHARS` characters each,
a tile size in the range of :func:`~sgsrf_mmseg.apis.tile_sizes.
tile_size_range` for the scene and the model input.
"""
import os
import os.path as osp
import re
import shutil
import tempfile
import time
from dataclasses import dataclass
from typing import List, Optional, Tuple

import cv2
import numpy as np

from ..apis import ExpressionParser, ReferringSegInferencer
from ..apis.geo import ProgressFn
from ..apis.stage_explain import explain_expression
from ..utils.atomic_file import write_bytes_atomic
from ..utils.expression import MAX_EXPRESSION_CHARS, clean_expression
from ..utils.image_io import read_image_rgb
from ..visualization import LEGEND_COLORS, StagePanels, draw_referring_overlays
from .scene_preview import draw_scene_preview

#: Errors of a request that mean its input is bad (they carry a message for
#: the user); anything else is a failure of the app.
INPUT_ERRORS = (ValueError, TypeError, OSError)
#: The inferencer's advice for images too large to resize (over its pixel
#: limit) names the command-line option; the page names its own tab.
_GEOTIFF_ADVICE = '--geotiff'
GEOTIFF_TAB_HINT = 'On this page: use the GeoTIFF scene tab.'


class DemoInputError(ValueError):
    """Bad input of a request; the message is meant for the page."""


@dataclass
class ExpressionResult:
    """What one expression of an image request gave.

    Attributes:
        text (str): The expression as the model read it (cleaned).
        score (float): Mean target probability over the mask (0.0 if empty).
        target_pixels (int): Pixels of the mask.
        color (tuple): RGB colour of its mask in the overlay.
        mask_path (str): Mask PNG, 0/255, the image's size.
    """
    text: str
    score: float
    target_pixels: int
    color: Tuple[int, int, int]
    mask_path: str


@dataclass
class ImageResult:
    """What an image request gave.

    Attributes:
        overlay (np.ndarray): RGB overlay: masks filled and outlined, the
            expression or the legend on a banner above the image.
        expressions (list[ExpressionResult]): One per expression, in order.
        image_size (tuple): (H, W) of the image.
        seconds (float): Time of the request (reading, model, drawing).
    """
    overlay: np.ndarray
    expressions: List[ExpressionResult]
    image_size: Tuple[int, int]
    seconds: float


@dataclass
class SceneResult:
    """What a GeoTIFF request gave.

    Attributes:
        preview (np.ndarray): RGB preview of the scene with the polygons.
        text (str): The expression as the model read it.
        mask_path (str): GeoTIFF mask (0/255, the scene's CRS and transform).
        geojson_path (str): GeoJSON polygons in the scene's CRS.
        num_tiles (int): Tiles segmented.
        num_polygons (int): Polygons written.
        target_pixels (int): Target pixels of the scene.
        seconds (float): Time of the request.
    """
    preview: np.ndarray
    text: str
    mask_path: str
    geojson_path: str
    num_tiles: int
    num_polygons: int
    target_pixels: int
    seconds: float


def file_stem(path: str) -> str:
    """A file name stem safe for output names ('image' if nothing is left).

    Args:
        path (str): Any file path.

    Returns:
        str: The stem with characters other than letters, digits, ``.``,
        ``_`` and ``-`` replaced by ``_``.
    """
    stem = osp.splitext(osp.basename(path))[0]
    stem = re.sub(r'[^A-Za-z0-9._-]', '_', stem).strip('._')
    return stem or 'image'


class DemoService:
    """Run the web demo's requests with one model.

    Args:
        inferencer (ReferringSegInferencer): The model.
        work_dir (str, optional): Folder for the request folders; None makes
            a temporary folder removed when the process ends. Defaults to
            None.
        keep_requests (int): Request folders kept; older ones are removed
            when a new request starts (the page has copied their files by
            then). Defaults to 32.
        parser (ExpressionParser, optional): Parses the expressions for
            the stage panels; None draws them without a parse.
            Defaults to None.
        debug (bool): Log the traceback of a request that fails for a reason
            other than its input (``tools/demo_app.py --debug``). Defaults to
            False.
    """

    def __init__(self,
                 inferencer: ReferringSegInferencer,
                 work_dir: Optional[str] = None,
                 keep_requests: int = 32,
                 parser: Optional[ExpressionParser] = None,
                 debug: bool = False) -> None:
        self.inferencer = inferencer
        self.parser = parser
        self.debug = debug
        if work_dir is None:
            self._tmp = tempfile.TemporaryDirectory(prefix='sgsrf_demo_')
            work_dir = self._tmp.name
        os.makedirs(work_dir, exist_ok=True)
        self.work_dir = work_dir
        self.keep_requests = keep_requests

    @property
    def max_expressions(self) -> int:
        """Expressions per image request (one colour each)."""
        return len(LEGEND_COLORS)

    @property
    def max_text_chars(self) -> int:
        """Longest text of an image request (all its lines)."""
        return self.max_expressions * (MAX_EXPRESSION_CHARS + 1)

    def _request_folder(self) -> str:
        """A fresh folder for one request; removes the oldest beyond keep."""
        folders = sorted(
            (entry.path for entry in os.scandir(self.work_dir)
             if entry.is_dir() and entry.name.startswith('request_')),
            key=osp.getmtime)
        for old in folders[:max(0, len(folders) - self.keep_requests + 1)]:
            shutil.rmtree(old, ignore_errors=True)
        return tempfile.mkdtemp(prefix='request_', dir=self.work_dir)

    @staticmethod
    def _input_error(err: Exception, upload: str) -> DemoInputError:
        """The error's message with the upload's path replaced by its name.

        Advice to segment the image tile by tile gets the page's hint.
        """
        message = str(err).replace(upload, osp.basename(upload))
        if _GEOTIFF_ADVICE in message:
            message = f'{message}. {GEOTIFF_TAB_HINT}'
        return DemoInputError(message)

    def _expressions(self, text: Optional[str]):
        """The expression argument of the inferencer for the text box.

        One expression per non-blank line. None or blank text is passed on
        as it is, so that the inferencer's rule words the error.
        """
        if text and len(text) > self.max_text_chars:
            raise DemoInputError(
                f'the expressions are {len(text):,} characters long, over the '
                f'limit of {self.max_text_chars:,}: shorten them')
        lines = [line for line in (text or '').splitlines() if line.strip()]
        if len(lines) > self.max_expressions:
            raise DemoInputError(
                f'at most {self.max_expressions} expressions at once (one '
                f'per line), got {len(lines)}')
        if len(lines) > 1:
            return lines
        return lines[0] if lines else text

    def segment_image(self, image_path: Optional[str],
                      expressions: Optional[str]) -> ImageResult:
        """Segment what each expression (one per line) refers to.

        Args:
            image_path (str, optional): The uploaded image file.
            expressions (str, optional): One expression per line.

        Returns:
            ImageResult: Overlay, per-expression results and mask files.
        """
        start = time.perf_counter()
        texts = self._expressions(expressions)
        if not image_path:
            raise DemoInputError('no image: upload one or pick an example')
        many = isinstance(texts, list)
        try:
            results = self.inferencer(
                image_path,
                texts,
                batch_size=len(texts) if many else 1,
                return_vis=not many)
        except INPUT_ERRORS as err:
            raise self._input_error(err, image_path) from err
        results = results if many else [results]
        if many:
            overlay = draw_referring_overlays(
                read_image_rgb(image_path), [r['mask'] for r in results],
                [r['text'] for r in results])
        else:
            overlay = results[0]['visualization']
        folder = self._request_folder()
        stem = file_stem(image_path)
        outputs = []
        for k, (result, colour) in enumerate(zip(results, LEGEND_COLORS)):
            name = f'{stem}_{k + 1}_mask.png' if many else f'{stem}_mask.png'
            mask_path = osp.join(folder, name)
            ok, png = cv2.imencode('.png', result['mask'] * 255)
            if not ok:
                raise OSError(f'could not encode {mask_path}')
            write_bytes_atomic(mask_path, png.tobytes(), overwrite=False)
            outputs.append(
                ExpressionResult(result['text'], result['score'],
                                 int(result['mask'].sum()), colour, mask_path))
        return ImageResult(overlay, outputs, results[0]['mask'].shape,
                           time.perf_counter() - start)

    def segment_scene(self,
                      scene_path: Optional[str],
                      expression: Optional[str],
                      tile_size: Optional[int] = None,
                      progress: Optional[ProgressFn] = None) -> SceneResult:
        """Segment a GeoTIFF scene tile by tile.

        Args:
            scene_path (str, optional): The uploaded GeoTIFF.
            expression (str, optional): The referring expression.
            tile_size (int, optional): Tile side; None takes the model
                input size. Defaults to None.
            progress (Callable, optional): ``progress(done, total)`` in
                tiles. Defaults to None.

        Returns:
            SceneResult: Preview, output files and counts.
        """
        start = time.perf_counter()
        if not scene_path:
            raise DemoInputError('no scene: upload a GeoTIFF or pick the '
                                 'example')
        try:
            text = clean_expression(expression)
            folder = self._request_folder()
            stem = file_stem(scene_path)
            summary = self.inferencer.segment_geotiff(
                scene_path,
                text,
                osp.join(folder, f'{stem}_mask.tif'),
                osp.join(folder, f'{stem}.geojson'),
                tile_size=tile_size,
                progress=progress)
        except INPUT_ERRORS as err:
            raise self._input_error(err, scene_path) from err
        preview = draw_scene_preview(scene_path, summary['geojson_path'], text)
        return SceneResult(preview, text, summary['mask_path'],
                           summary['geojson_path'], summary['num_tiles'],
                           summary['num_polygons'], summary['target_pixels'],
                           time.perf_counter() - start)

    def explain(self, image_path: Optional[str],
                expression: Optional[str]) -> Tuple[StagePanels, float]:
        """The stage panels of one image and one expression.

        Args:
            image_path (str, optional): The uploaded image file.
            expression (str, optional): One expression.

        Returns:
            tuple: The panels and the seconds they took (model and
            tracing; drawing is the page's).
        """
        start = time.perf_counter()
        if not image_path:
            raise DemoInputError('no image: upload one or pick an example')
        try:
            panels = explain_expression(self.inferencer, image_path,
                                        expression, self.parser)
        except INPUT_ERRORS as err:
            raise self._input_error(err, image_path) from err
        return panels, time.perf_counter() - start
