"""Speed, memory and FLOPs of a model config (see :mod:`.runner`), and the
inference precisions (see :mod:`.precision_runner`)."""
from .comparisons import SWITCHES
from .inputs import SKIPPABLE, BenchmarkSettings
from .precision_record import PrecisionResults
from .precision_report import (load_precision_results, precision_tables,
                               render_precision_block)
from .precision_runner import PrecisionSettings, run_precisions
from .record import BenchmarkResults
from .report import load_benchmark, render, render_benchmark_block
from .runner import run

__all__ = [
    'BenchmarkResults', 'BenchmarkSettings', 'PrecisionResults',
    'PrecisionSettings', 'SKIPPABLE', 'SWITCHES', 'load_benchmark',
    'load_precision_results', 'precision_tables', 'render',
    'render_benchmark_block', 'render_precision_block', 'run', 'run_precisions'
]
