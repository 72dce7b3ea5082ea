from .grounding_scores import cue_on_original, grounding_measures
from .referring_metric import EXPRESSIONS_FILE, ReferringSegMetric
from .referring_scores import (DEFAULT_IOU_THRS, DEFAULT_SIZE_BINS,
                               GROUP_MEASURES, GroupScore, ReferringRecord,
                               ReferringSummary, expression_rows,
                               summarize_records)
from .scoring_protocol import PROTOCOLS, ScoringProtocol, resolve_protocol

__all__ = [
    'DEFAULT_IOU_THRS', 'DEFAULT_SIZE_BINS', 'EXPRESSIONS_FILE', 'PROTOCOLS',
    'GROUP_MEASURES', 'cue_on_original', 'grounding_measures', 'GroupScore',
    'ReferringRecord', 'ReferringSegMetric', 'ReferringSummary',
    'ScoringProtocol', 'expression_rows', 'resolve_protocol',
    'summarize_records'
]
