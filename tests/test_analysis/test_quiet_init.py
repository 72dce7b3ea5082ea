import logging

import torch
import torch.nn as nn
from mmengine.logging import MMLogger
from mmengine.model import BaseModule

from sgsrf_mmseg.analysis.quiet_init import init_weights_quietly


class TwoLayers(BaseModule):

    def __init__(self):
        super().__init__(
            init_cfg=dict(type='Constant', layer='Linear', val=3.0, bias=0.0))
        self.first = nn.Linear(2, 2)
        self.second = nn.Linear(2, 2)


def test_initialises_without_the_parameter_report(capsys):
    MMLogger.get_instance('quiet_init_test', log_level='INFO')
    level = MMLogger.get_current_instance().level
    model = init_weights_quietly(TwoLayers())
    assert torch.equal(model.first.weight, torch.full((2, 2), 3.0))
    assert torch.equal(model.second.bias, torch.zeros(2))
    out = capsys.readouterr()
    assert 'first.weight' not in out.out + out.err
    assert MMLogger.get_current_instance().level == level


def test_plain_init_weights_prints_the_report(capsys):
    """The report the helper silences (so the test above can fail)."""
    logger = MMLogger.get_instance('quiet_init_test_plain', log_level='INFO')
    logger.setLevel(logging.INFO)
    TwoLayers().init_weights()
    out = capsys.readouterr()
    assert 'first.weight' in out.out + out.err
