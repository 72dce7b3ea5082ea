"""Speed, memory and FLOPs of a model config (see :mod:`.runner`)."""
from .report import render
from .runner import run
from .settings import SKIPPABLE, BenchmarkSettings
from .switches import SWITCHES

__all__ = ['BenchmarkSettings', 'SKIPPABLE', 'SWITCHES', 'render', 'run']
