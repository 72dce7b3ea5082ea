"""Inputs of a failure gallery made in a test: tiny synthetic data, the
tiny model with random weights saved as a checkpoint, a spaCy parser trained
on the data's gold trees (nothing downloaded)."""
import os.path as osp

import torch
from mmengine.config import Config
from mmseg.registry import MODELS

from sgsrf_mmseg.datasets import generate_synthetic_dataset
from sgsrf_mmseg.datasets.synthetic.layout import GOLD_PARSE_FILE
from sgsrf_mmseg.datasets.text_parse import (read_gold_parses,
                                             train_dependency_parser)

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
TINY_CONFIG = osp.join(REPO, 'configs', 'sgsrf', 'sgsrf_tiny_synthetic.py')
#: 6 test scenes: 8 to 12 expressions.
GENERATOR = dict(num_train=16, num_val=4, num_test=6, image_size=128, seed=0)


def tiny_data(folder: str) -> dict:
    """Generate the data into ``folder/data``; return the config overrides.

    The test split reads it with the training set's gold-trained parser
    (``text_parser=dict(train_on_gold=True)``), one loader process.
    """
    root = osp.join(folder, 'data')
    generate_synthetic_dataset(root, **GENERATOR)
    options = {}
    for split in ('train', 'val', 'test'):
        options.update({
            f'{split}_dataloader.dataset.data_root': root,
            f'{split}_dataloader.dataset.generator': GENERATOR,
            f'{split}_dataloader.num_workers': 0,
            f'{split}_dataloader.persistent_workers': False,
        })
    return options


def random_checkpoint(path: str, seed: int = 0) -> str:
    """The tiny model with random weights, saved as a checkpoint."""
    torch.manual_seed(seed)
    model = MODELS.build(Config.fromfile(TINY_CONFIG).model)
    model.init_weights()
    torch.save(dict(state_dict=model.state_dict(), meta=dict()), path)
    return path


def gold_trained_parser(data_root: str, folder: str) -> str:
    """A spaCy parser trained on the training split's gold trees."""
    gold = read_gold_parses(
        [osp.join(data_root, GOLD_PARSE_FILE.format(split='train'))])
    train_dependency_parser(gold, folder, seed=0, epochs=15, batch_size=8)
    return folder
