from .referring_metric import EXPRESSIONS_FILE, ReferringSegMetric
from .referring_scores import (DEFAULT_IOU_THRS, DEFAULT_SIZE_BINS, GroupScore,
                               ReferringRecord, ReferringSummary,
                               expression_rows, summarize_records)
from .scoring_protocol import PROTOCOLS, ScoringProtocol, resolve_protocol

__all__ = [
    'DEFAULT_IOU_THRS', 'DEFAULT_SIZE_BINS', 'EXPRESSIONS_FILE', 'PROTOCOLS',
    'GroupScore', 'ReferringRecord', 'ReferringSegMetric', 'ReferringSummary',
    'ScoringProtocol', 'expression_rows', 'resolve_protocol',
    'summarize_records'
]
