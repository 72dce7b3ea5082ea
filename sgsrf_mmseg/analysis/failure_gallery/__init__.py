"""The failure gallery of a split (``tools/analysis/failure_gallery.py``)."""
from .expression_results import (EXPRESSIONS_CSV, FAILURE_IOU,
                                 ExpressionResult, GroupFailures,
                                 failures_by_group, rank_failures,
                                 read_expression_results)
from .gallery import GalleryEntry, write_failure_gallery

__all__ = [
    'EXPRESSIONS_CSV', 'FAILURE_IOU', 'ExpressionResult', 'GalleryEntry',
    'GroupFailures', 'failures_by_group', 'rank_failures',
    'read_expression_results', 'write_failure_gallery'
]
