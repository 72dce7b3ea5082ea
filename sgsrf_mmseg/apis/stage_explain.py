"""Stage panels of your own image and expression, and their PNG files.

:func:`explain_expression` runs one image and one expression through a
:class:`~.inferencer.ReferringSegInferencer`'s model under
:func:`~.stage_trace.trace_stages`. An expression has a dependency parse
only when one is made for it: give a parse, or an
:class:`ExpressionParser` (a spaCy pipeline, e.g. ``en_core_web_sm`` or the
folder ``tools/misc/train_parser.py`` writes); without one the panels say
that there is none.
"""
import os
from typing import List, Optional, Sequence, Tuple, Union

import cv2
import numpy as np

from ..datasets.text_parse.spacy_pipeline import (doc_to_parse,
                                                  load_spacy_pipeline)
from ..utils.atomic_file import write_bytes_atomic
from ..utils.dependency_parse import DependencyParse
from ..utils.expression import clean_expression
from ..utils.image_io import read_image_rgb, to_rgb_uint8
from ..visualization.stage_figure import draw_stage_figure
from ..visualization.stage_panels import StagePanels
from .inferencer import ImageType, ReferringSegInferencer
from .stage_trace import trace_stages

#: What the panels say when no parser was given.
NO_PARSER = 'no parser given'


class ExpressionParser:
    """A spaCy pipeline that parses one expression at a time.

    Args:
        model (str): An installed pipeline (``'en_core_web_sm'``) or a
            pipeline folder; loaded once, here.

    Raises:
        ValueError: spaCy or the pipeline is missing (the message says how
            to install them), or the pipeline has no parser.
    """

    def __init__(self, model: str) -> None:
        self.source = f'spaCy pipeline {model}'
        try:
            self.nlp = load_spacy_pipeline(model)
        except ImportError as err:
            raise ValueError(str(err)) from err

    def __call__(self, text: str) -> DependencyParse:
        """The parse of ``text`` (its words spell ``text`` exactly)."""
        return doc_to_parse(self.nlp(text))


def stage_figure_path(folder: str, name: str) -> str:
    """``<folder>/<name>_stages.png``."""
    return os.path.join(folder, f'{name}_stages.png')


def explain_expression(inferencer: ReferringSegInferencer,
                       image: ImageType,
                       expression: str,
                       parser: Union[ExpressionParser, DependencyParse,
                                     None] = None,
                       bands: Optional[Sequence[int]] = None,
                       nodata: Optional[float] = None) -> StagePanels:
    """The stage panels of one image and one expression.

    The image is read and prepared as the inferencer does (same band rule,
    pixel limit and test pipeline) and the model runs once.

    Args:
        inferencer (ReferringSegInferencer): The model.
        image (str | np.ndarray): Image file or RGB array.
        expression (str): The referring expression (cleaned as the
            inferencer cleans it).
        parser (ExpressionParser | DependencyParse, optional): Parses the
            cleaned expression, or its parse. Defaults to None (no parse).
        bands (Sequence[int], optional): 0-based bands shown as R G B.
            Defaults to None.
        nodata (float, optional): Nodata value of an array image.
            Defaults to None.

    Returns:
        StagePanels: What the pass computed.
    """
    text = clean_expression(expression)
    if isinstance(image, np.ndarray):
        rgb, path = to_rgb_uint8(image, bands=bands, nodata=nodata), ''
    else:
        path = os.fspath(image)
        rgb = read_image_rgb(path, bands, inferencer.max_pixels)
    if isinstance(parser, ExpressionParser):
        parse, source = parser(text), parser.source
    elif parser is not None:
        parse, source = parser, 'the given parse'
    else:
        parse, source = None, NO_PARSER
    data = inferencer.pack([(rgb, path, text)])
    [panels] = trace_stages(inferencer.model, data, [parse], source)
    return panels


def write_stage_figure(path: str,
                       panels: StagePanels,
                       overwrite: bool = False) -> str:
    """Draw the panels as one figure and write it as a PNG, atomically.

    Args:
        path (str): The PNG file.
        panels (StagePanels): The panels.
        overwrite (bool): Replace an existing file. Defaults to False.

    Returns:
        str: ``path``.
    """
    figure = np.ascontiguousarray(draw_stage_figure(panels)[..., ::-1])
    ok, data = cv2.imencode('.png', figure)
    if not ok:
        raise OSError(f'could not encode {path} as PNG')
    write_bytes_atomic(path, data.tobytes(), overwrite)
    return path


def explain_pairs(inferencer: ReferringSegInferencer,
                  pairs: Sequence[Tuple[str, ImageType, str]],
                  folder: str,
                  parser: Optional[ExpressionParser] = None,
                  bands: Optional[Sequence[int]] = None,
                  overwrite: bool = False,
                  on_error: str = 'stop') -> Tuple[int, List[str]]:
    """Write ``<name>_stages.png`` into ``folder`` for each (name, image,
    expression), one forward pass each.

    Args:
        inferencer (ReferringSegInferencer): The model.
        pairs (Sequence[tuple]): ``(name, image, expression)`` items.
        folder (str): Existing output folder.
        parser (ExpressionParser, optional): Parses the expressions.
            Defaults to None.
        bands (Sequence[int], optional): Band choice. Defaults to None.
        overwrite (bool): Replace existing figures. Defaults to False.
        on_error (str): 'stop' at the first failure or 'skip' it.
            Defaults to 'stop'.

    Returns:
        tuple: Figures written and one message per failure.
    """
    written, errors = 0, []
    for name, image, text in pairs:
        try:
            panels = explain_expression(inferencer, image, text, parser, bands)
            write_stage_figure(
                stage_figure_path(folder, name), panels, overwrite)
            written += 1
        except (ValueError, TypeError, OSError, RuntimeError) as err:
            errors.append(f'stage panels of {name}: {err}')
            if on_error == 'stop':
                break
    return written, errors
