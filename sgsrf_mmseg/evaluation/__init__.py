from .metrics import (DEFAULT_IOU_THRS, DEFAULT_SIZE_BINS, EXPRESSIONS_FILE,
                      GROUP_MEASURES, PROTOCOLS, GroupScore, ReferringRecord,
                      ReferringSegMetric, ReferringSummary, ScoringProtocol,
                      expression_rows, resolve_protocol, summarize_records)
from .results_file import (TEST_RESULTS_FILE, TEST_RESULTS_KIND,
                           TEST_RESULTS_VERSION, collect_test_results,
                           referring_metric_of, save_test_results,
                           write_results_json)

__all__ = [
    'DEFAULT_IOU_THRS', 'DEFAULT_SIZE_BINS', 'EXPRESSIONS_FILE',
    'GROUP_MEASURES', 'PROTOCOLS', 'GroupScore', 'ReferringRecord',
    'ReferringSegMetric', 'ReferringSummary', 'ScoringProtocol',
    'expression_rows', 'resolve_protocol', 'summarize_records',
    'TEST_RESULTS_FILE', 'TEST_RESULTS_KIND', 'TEST_RESULTS_VERSION',
    'collect_test_results', 'referring_metric_of', 'save_test_results',
    'write_results_json'
]
