"""sgsrf_mmseg: SGSRF referring remote sensing segmentation for MMSegmentation.

Importing the package registers its datasets, transforms, metrics, hooks and
models into MMSegmentation's registries (``mmseg`` scope).
"""
from .utils.compat import apply_compat

apply_compat()

from . import (datasets, engine, evaluation, models,  # noqa: E402,F401
               visualization)
from .version import __version__  # noqa: E402

__all__ = ['__version__']
