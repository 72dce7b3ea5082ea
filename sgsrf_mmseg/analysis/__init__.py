"""Analysis of finished runs: tables and figures from their output files."""
