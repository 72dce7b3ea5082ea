import logging

import pytest
import torch
import torch.nn as nn
from mmengine.logging import MMLogger
from mmengine.model import BaseModule

from sgsrf_mmseg.analysis.logger_level import current_logger_at


class TwoLayers(BaseModule):

    def __init__(self):
        super().__init__(
            init_cfg=dict(type='Constant', layer='Linear', val=3.0, bias=0.0))
        self.first = nn.Linear(2, 2)
        self.second = nn.Linear(2, 2)


@pytest.fixture
def logger(request, capsys):
    """A new current logger at INFO, printing into ``capsys``."""
    current = MMLogger.get_instance(
        f'logger_level_{request.node.name}', log_level='INFO')
    assert MMLogger.get_current_instance() is current
    current.setLevel(logging.INFO)  # its handlers are at INFO, itself unset
    return current


def test_init_weights_without_the_parameter_report(logger, capsys):
    with current_logger_at(logging.WARNING):
        assert logger.level == logging.WARNING
        model = TwoLayers()
        model.init_weights()
    assert torch.equal(model.first.weight, torch.full((2, 2), 3.0))
    out = capsys.readouterr()
    assert 'first.weight' not in out.out + out.err
    assert logger.level == logging.INFO
    # the report the block silenced, outside it
    TwoLayers().init_weights()
    out = capsys.readouterr()
    assert 'first.weight' in out.out + out.err


def test_level_restored_after_an_error(logger):
    with pytest.raises(RuntimeError):
        with current_logger_at(logging.ERROR):
            raise RuntimeError('stop')
    assert logger.level == logging.INFO
