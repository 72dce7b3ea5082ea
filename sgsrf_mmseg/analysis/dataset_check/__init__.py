"""Check a referring segmentation dataset with the loaders' own readers."""
from .checker import (DATASETS, DatasetChecker, Preview, SplitCheck,
                      check_dataset)
from .preview import write_previews
from .report import DefectReport

__all__ = [
    'DATASETS', 'DatasetChecker', 'DefectReport', 'Preview', 'SplitCheck',
    'check_dataset', 'write_previews'
]
