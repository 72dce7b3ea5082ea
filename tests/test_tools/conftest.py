"""Fixtures for the tool tests: a small synthetic dataset and run configs."""
import os.path as osp

import pytest
from tool_runner import GENERATOR, REPO

from sgsrf_mmseg.datasets import generate_synthetic_dataset

TINY_CONFIG = 'configs/sgsrf/sgsrf_tiny_synthetic.py'


@pytest.fixture(scope='session')
def synthetic_root(tmp_path_factory):
    root = str(tmp_path_factory.mktemp('synthetic'))
    generate_synthetic_dataset(root, **GENERATOR)
    return root


@pytest.fixture
def write_config(tmp_path, synthetic_root):
    """Write a short-run variant of the tiny synthetic config; return it."""

    def write(max_iters=4, interval=2, extra=''):
        path = tmp_path / 'run_config.py'
        loader = (f"dict(num_workers=1, persistent_workers=False, "
                  f"batch_size=2, dataset=dict(data_root={synthetic_root!r},"
                  f" generator={GENERATOR!r}))")
        path.write_text(
            f"_base_ = {osp.join(REPO, TINY_CONFIG)!r}\n"
            f"train_dataloader = {loader}\n"
            f"val_dataloader = {loader}\n"
            f"test_dataloader = {loader}\n"
            f"train_cfg = dict(max_iters={max_iters}, "
            f"val_interval={max_iters})\n"
            "param_scheduler = [dict(type='ConstantLR', factor=1.0, "
            "by_epoch=False)]\n"
            f"default_hooks = dict(logger=dict(interval=1), checkpoint=dict("
            f"interval={interval}, max_keep_ckpts=3))\n" + extra)
        return str(path)

    return write
