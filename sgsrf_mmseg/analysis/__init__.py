"""Analyses of datasets and runs built on the lower layers of the package."""
