"""Shared fixtures of the inference tests."""
import os.path as osp

import pytest
import torch

from sgsrf_mmseg.apis import ReferringSegInferencer

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
TINY_CONFIG = osp.join(REPO, 'configs', 'sgsrf', 'sgsrf_tiny_synthetic.py')


@pytest.fixture(scope='module')
def inferencer():
    """The tiny model with random weights, on one CPU thread."""
    # One thread: far faster than several on a shared, busy CPU.
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    torch.manual_seed(0)
    yield ReferringSegInferencer(TINY_CONFIG, device='cpu')
    torch.set_num_threads(threads)
