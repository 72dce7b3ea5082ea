"""Analysis of models, data and results (benchmarks, checks, reports)."""
