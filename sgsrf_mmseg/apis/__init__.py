from ..utils.expression import clean_expression
from .batch_inference import BatchReport, segment_pair_list
from .geo import segment_geotiff
from .inferencer import ReferringSegInferencer, inference_pipeline
from .pair_list import Pair, PairListError, RowError, read_pair_list

__all__ = [
    'BatchReport', 'Pair', 'PairListError', 'ReferringSegInferencer',
    'RowError', 'clean_expression', 'inference_pipeline', 'read_pair_list',
    'segment_geotiff', 'segment_pair_list'
]
