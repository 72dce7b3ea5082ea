"""Speed, memory and FLOPs of a model config (see :mod:`.runner`)."""
from .comparisons import SWITCHES
from .inputs import SKIPPABLE, BenchmarkSettings
from .record import BenchmarkResults
from .report import load_benchmark, render, render_benchmark_block
from .runner import run

__all__ = [
    'BenchmarkResults', 'BenchmarkSettings', 'SKIPPABLE', 'SWITCHES',
    'load_benchmark', 'render', 'render_benchmark_block', 'run'
]
