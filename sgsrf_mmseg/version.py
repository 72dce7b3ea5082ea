"""Version of sgsrf_mmseg."""

__version__ = '0.1.0'
