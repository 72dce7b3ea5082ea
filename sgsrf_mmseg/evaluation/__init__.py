from .metrics import (DEFAULT_SIZE_BINS, ReferringRecord, ReferringSegMetric,
                      compute_referring_metrics)

__all__ = [
    'DEFAULT_SIZE_BINS', 'ReferringRecord', 'ReferringSegMetric',
    'compute_referring_metrics'
]
