"""One reader and one strict loader for every file of weights."""
import pytest
import torch
import torch.nn as nn
from mmengine.runner import CheckpointLoader

from sgsrf_mmseg.models.utils.weights import (load_state_dict_strict,
                                              read_state_dict)
from sgsrf_mmseg.utils.checkpoint_file import (CheckpointError,
                                               read_checkpoint, state_dict_of)
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


class Tiny(nn.Module):
    """A float layer and an integer buffer, as a segmentor has."""

    def __init__(self):
        super().__init__()
        self.linear = nn.Linear(3, 2)
        self.register_buffer('steps', torch.zeros((), dtype=torch.long))


def _refused(checkpoint, tmp_path) -> str:
    """The error of reading and loading ``checkpoint`` into :class:`Tiny`."""
    path = str(tmp_path / 'ck.pth')
    torch.save(checkpoint, path)
    with pytest.raises(CheckpointError) as info:
        load_exactly(Tiny(), state_dict_of(read_checkpoint(path), path), path)
    return str(info.value)


def test_dtype_and_finiteness_guard_on_other_cases(tmp_path):
    """The class guard on cases not in the issue: a float where the model
    counts in integers, an infinite value, booleans; half precision of the
    same kind loads (cast, as OpenAI's fp16 CLIP file)."""
    state = Tiny().state_dict()
    message = _refused(
        dict(
            state,
            steps=torch.tensor(1.5),
            **{'linear.bias': torch.ones(2) * float('inf')}), tmp_path)
    assert 'steps: checkpoint torch.float32 vs model torch.int64' in message
    assert 'linear.bias: 2 of 2' in message
    assert 'linear.weight: checkpoint torch.bool' in _refused(
        dict(state, **{'linear.weight': torch.ones(2, 3, dtype=torch.bool)}),
        tmp_path)
    half = {
        k: v.half() if v.is_floating_point() else v
        for k, v in state.items()
    }
    model = Tiny()
    load_exactly(model, half, 'half.pth')
    torch.testing.assert_close(model.linear.weight,
                               state['linear.weight'].half().float())
