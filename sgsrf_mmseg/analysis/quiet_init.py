"""Random initialisation without mmengine's per-parameter report.

Outside a runner (no log file), ``BaseModule.init_weights`` prints one
INFO record per parameter; the analysis tools only want their own output.
"""
import logging

import torch.nn as nn
from mmengine.logging import MMLogger


def init_weights_quietly(model: nn.Module) -> nn.Module:
    """``model.init_weights()`` with the current logger at WARNING."""
    logger = MMLogger.get_current_instance()
    level = logger.level
    logger.setLevel(logging.WARNING)
    try:
        model.init_weights()
    finally:
        logger.setLevel(level)
    return model
