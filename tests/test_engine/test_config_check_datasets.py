import os.path as osp

import pytest
from mmengine.config import Config

import sgsrf_mmseg  # noqa: F401
from sgsrf_mmseg.engine.config_check import ConfigCheckError, check_config

TINY_MODEL = 'configs/_base_/models/sgsrf_tiny.py'


def test_missing_dataset_files_in_the_one_message(tmp_path):
    cfg = Config.fromfile(TINY_MODEL)
    cfg.train_dataloader = dict(
        dataset=dict(
            type='RefSegRSDataset',
            data_root=str(tmp_path),
            split='train',
            pipeline=[],
            text_parser=dict(model=str(tmp_path / 'parser'))))
    cfg.val_dataloader = dict(
        dataset=dict(
            type='RepeatDataset',
            times=2,
            dataset=dict(
                type='SyntheticRefSegRSDataset',
                data_root=str(tmp_path / 'synthetic'))))
    with pytest.raises(ConfigCheckError) as info:
        check_config(
            cfg,
            stages=('train', 'val'),
            checkpoint=str(tmp_path / 'missing.pth'))
    message = str(info.value)
    root = str(tmp_path)
    assert (f'train_dataloader.dataset: data_root {root} has no '
            'output_phrase_train.txt (ann_file)') in message
    assert f'data_root {root} has no folder images' in message
    assert f'data_root {root} has no folder masks' in message
    assert 'val_dataloader' not in message
    assert 'missing.pth does not exist' in message
    assert message.count('\n  - ') == 4
    assert not osp.exists(tmp_path / 'synthetic')


@pytest.mark.parametrize('text_parser,expected', [
    (None, 'train_dataloader.dataset has no text_parser'),
    (dict(model='en_core_web_nothere'),
     "the spaCy pipeline 'en_core_web_nothere' is not installed"),
])
def test_a_structure_loss_on_parses_needs_a_parser(tmp_path, text_parser,
                                                   expected):
    cfg = Config.fromfile(TINY_MODEL)
    cfg.train_dataloader = dict(
        dataset=dict(
            type='SyntheticRefSegRSDataset',
            data_root=str(tmp_path / 'synthetic'),
            text_parser=text_parser))
    with pytest.raises(ConfigCheckError, match=expected) as info:
        check_config(cfg, stages=('train', ))
    assert 'python -m spacy download' in str(info.value)
    # the model's own word similarity needs no parser, unless the GPG term
    # (which reads the roles of the words) is on
    cfg.model.structural_loss.language_structure = 'self_similarity'
    with pytest.raises(ConfigCheckError, match=expected):
        check_config(cfg, stages=('train', ))
    cfg.model.structural_loss.prompt_weight = 0
    check_config(cfg, stages=('train', ))
