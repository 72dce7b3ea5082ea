"""The web demo: a local page to try the model on your own images.

:class:`DemoService` runs the requests and needs no web library;
:mod:`sgsrf_mmseg.webapp.page` builds the page with Gradio (the ``demo``
extra) and is imported only by ``tools/demo_app.py``.
"""
from .examples import bundled_examples, write_example_scene
from .scene_preview import draw_scene_preview
from .service import (DemoInputError, DemoService, ExpressionResult,
                      ImageResult, SceneResult)

__all__ = [
    'DemoInputError', 'DemoService', 'ExpressionResult', 'ImageResult',
    'SceneResult', 'bundled_examples', 'draw_scene_preview',
    'write_example_scene'
]
