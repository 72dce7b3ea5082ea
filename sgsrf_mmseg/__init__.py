"""sgsrf_mmseg: SGSRF referring remote sensing segmentation for MMSegmentation.

Importing the package registers its datasets, transforms, metrics, hooks and
models into MMSegmentation's registries (``mmseg`` scope).
"""
from .utils.compat import apply_compat

apply_compat()

from . import datasets, engine, evaluation, models, visualization
from .version import __version__

__all__ = ['__version__']
