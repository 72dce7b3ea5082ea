"""The current mmengine logger at another level for a block of code.

The analysis tools print their own reports; what the libraries log on the
way (mmengine's per-parameter initialisation report, the loaders' warnings
that a checker lists itself) would bury them.
"""
from contextlib import contextmanager
from typing import Iterator

from mmengine.logging import MMLogger


@contextmanager
def current_logger_at(level: int) -> Iterator[None]:
    """Set the current ``MMLogger`` to ``level`` inside the block; its
    previous level is restored afterwards, also on an error."""
    logger = MMLogger.get_current_instance()
    previous = logger.level
    logger.setLevel(level)
    try:
        yield
    finally:
        logger.setLevel(previous)
