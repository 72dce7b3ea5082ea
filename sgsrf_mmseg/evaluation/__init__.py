from .metrics import (DEFAULT_IOU_THRS, DEFAULT_SIZE_BINS, EXPRESSIONS_FILE,
                      PROTOCOLS, GroupScore, ReferringRecord,
                      ReferringSegMetric, ReferringSummary, ScoringProtocol,
                      expression_rows, resolve_protocol, summarize_records)

__all__ = [
    'DEFAULT_IOU_THRS', 'DEFAULT_SIZE_BINS', 'EXPRESSIONS_FILE', 'PROTOCOLS',
    'GroupScore', 'ReferringRecord', 'ReferringSegMetric', 'ReferringSummary',
    'ScoringProtocol', 'expression_rows', 'resolve_protocol',
    'summarize_records'
]
