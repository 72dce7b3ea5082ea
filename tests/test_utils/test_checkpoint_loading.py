"""One reader and one strict loader for every file of weights."""
import pytest
import torch
import torch.nn as nn
from mmengine.runner import CheckpointLoader

from sgsrf_mmseg.models.utils.weights import (load_state_dict_strict,
                                              read_state_dict)
from sgsrf_mmseg.utils.checkpoint_file import CheckpointError, read_checkpoint
from sgsrf_mmseg.utils.strict_loading import load_exactly


def test_every_reader_gives_the_same_error(tmp_path):
    """Towers, runs (StrictRunner, the inferencer) and mmengine's own
    loading read through one function: a cut file is worded the same way."""
    empty = tmp_path / 'sam_vit_b.pth'
    empty.write_bytes(b'')
    expected = (f'cannot read checkpoint {empty}: the file is empty or cut '
                'short')
    readers = (read_checkpoint, read_state_dict,
               CheckpointLoader.load_checkpoint)
    for reader in readers:
        with pytest.raises(CheckpointError) as info:
            reader(str(empty))
        assert str(info.value) == expected


def test_towers_and_models_share_the_strict_loader(tmp_path):
    module = nn.Linear(2, 1)
    state_dict = dict(module.state_dict(), extra=torch.zeros(1))
    messages = []
    for load in (load_state_dict_strict, load_exactly):
        with pytest.raises(CheckpointError) as info:
            load(module, state_dict, 'w.pth')
        messages.append(str(info.value))
    assert messages[0] == messages[1]
    assert messages[0].startswith('cannot load checkpoint w.pth into Linear: '
                                  '1 unexpected keys (extra); use weights of')
