"""Analysis of models, data and results: benchmarks, dataset checks, reports.

Imported on demand (``import sgsrf_mmseg.analysis.benchmark``); importing
``sgsrf_mmseg`` does not load it.
"""
