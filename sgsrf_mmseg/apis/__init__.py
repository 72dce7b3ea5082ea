from ..utils.expression import clean_expression
from .batch_inference import BatchReport, segment_pair_list
from .geo import segment_geotiff
from .inference_pipeline import inference_pipeline
from .inferencer import ReferringSegInferencer
from .pair_list import Pair, PairListError, RowError, read_pair_list
from .stage_explain import (ExpressionParser, explain_expression,
                            stage_figure_path, write_stage_figure)
from .stage_recorder import StageRecorder
from .stage_trace import trace_stages

__all__ = [
    'BatchReport', 'ExpressionParser', 'Pair', 'PairListError',
    'ReferringSegInferencer', 'RowError', 'StageRecorder', 'clean_expression',
    'explain_expression', 'inference_pipeline', 'read_pair_list',
    'segment_geotiff', 'segment_pair_list', 'stage_figure_path',
    'trace_stages', 'write_stage_figure'
]
