from ..utils.expression import clean_expression
from .geo import segment_geotiff
from .inferencer import ReferringSegInferencer, inference_pipeline

__all__ = [
    'ReferringSegInferencer', 'clean_expression', 'inference_pipeline',
    'segment_geotiff'
]
