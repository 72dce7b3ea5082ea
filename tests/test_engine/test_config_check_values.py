"""Config values are checked at start-up, before anything is built."""
import os.path as osp

import pytest
from mmengine.config import Config
from mmseg.registry import MODELS

from sgsrf_mmseg.apis import ReferringSegInferencer
from sgsrf_mmseg.engine.config_check import ConfigCheckError, check_config

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
TINY = osp.join(REPO, 'configs', 'sgsrf', 'sgsrf_tiny_synthetic.py')


def _problems(options, stages) -> str:
    cfg = Config.fromfile(TINY)
    cfg.merge_from_dict(options)
    with pytest.raises(ConfigCheckError) as info:
        check_config(cfg, stages)
    return str(info.value)


def test_threshold_out_of_range_is_refused_before_the_model(monkeypatch):
    """Issue 23 item 13: model.decode_head.threshold=50 was accepted (every
    mask empty, exit 0)."""
    monkeypatch.setattr(MODELS, 'build', None)  # nothing may be built
    with pytest.raises(ConfigCheckError) as info:
        ReferringSegInferencer(
            TINY, cfg_options={'model.decode_head.threshold': 50})
    assert str(info.value) == (
        f'{TINY} cannot run (1 problem; fix them in the config or with '
        '--cfg-options KEY=VALUE):\n  - model.decode_head.threshold=50 is '
        'out of range: a probability, in [0, 1]')


def test_datasets_generating_into_one_folder_differently_are_refused():
    """Issue 23 item 10: a training set with generator seed 1 and a val set
    with seed 0 on one data_root: building the val set regenerated the
    folder under the training set."""
    message = _problems({'train_dataloader.dataset.generator.seed': 1},
                        ('train', 'val'))
    root = osp.abspath('data/synthetic_refsegrs')
    assert (
        f'train_dataloader.dataset and val_dataloader.dataset generate '
        f'the synthetic dataset into the same data_root {root} with '
        'different generator settings (seed: 1 vs 0): building the '
        'second would generate the folder again under the first; give '
        'both the same generator settings, or different data_roots') in message


def test_mistyped_scoring_protocol_is_refused_at_start_up():
    """Issue 23 item 23: a mistyped protocol was reported only after the
    model was built."""
    message = _problems({'test_evaluator.protocol': 'lavt480'}, ('test', ))
    assert ("test_evaluator: unknown scoring protocol 'lavt480'; choose one "
            "of ['lavt-480', 'original', 'rsrefseg']") in message


def test_every_range_on_other_values():
    """The range guard on values not in the issue, all in one message."""
    message = _problems(
        {
            'val_evaluator.iou_thrs': [0.5, 50],
            'optim_wrapper.optimizer.lr': 0.0,
            'train_dataloader.batch_size': 0,
            'model.structural_loss.ground_weight': -1.0,
            'model.decode_head.threshold': float('nan'),
        }, ('train', 'val'))
    for line in ('val_evaluator.iou_thrs[1]=50 is out of range: an IoU, in '
                 '[0, 1]', 'optim_wrapper.optimizer.lr=0.0 is out of range: '
                 'a learning rate, > 0', 'train_dataloader.batch_size=0 is '
                 'out of range: a count, >= 1',
                 'model.structural_loss.ground_weight=-1.0 is out of range: '
                 'a loss weight, >= 0', 'model.decode_head.threshold=nan is '
                 'out of range: a probability, in [0, 1]'):
        assert f'\n  - {line}' in message
    assert message.startswith(f'{TINY} cannot run (5 problems; ')
