import os

import pytest
import torch
from toy_training import build_runner

from sgsrf_mmseg.engine import (CheckpointError, NothingToResumeError,
                                StrictRunner)
from sgsrf_mmseg.utils.folder_lock import FolderInUseError


def _strict(work_dir, **kwargs):
    return build_runner(str(work_dir), runner_cls=StrictRunner, **kwargs)


def test_load_from_another_model_is_an_error(tmp_path):
    other = tmp_path / 'other.pth'
    torch.save(
        dict(
            state_dict={
                'linear.weight': torch.zeros(3, 4),  # wrong shape
                'head.bias': torch.zeros(1),  # not in the model
            }),
        other)
    runner = _strict(tmp_path / 'work', load_from=str(other))
    with pytest.raises(CheckpointError) as info:
        runner.train()
    message = str(info.value)
    assert message.startswith(f'cannot load checkpoint {other} into the '
                              'model of the config (ToyModel)')
    assert '1 missing keys (linear.bias)' in message
    assert '1 unexpected keys (head.bias)' in message
    assert 'linear.weight: checkpoint (3, 4) vs model (1, 4)' in message
    assert not [n for n in os.listdir(tmp_path / 'work') if 'iter_' in n]


def test_resume_from_another_model_is_an_error(tmp_path):
    other = tmp_path / 'other.pth'
    torch.save(dict(state_dict={'head.bias': torch.zeros(1)}, meta={}), other)
    runner = _strict(tmp_path / 'work', resume=True, load_from=str(other))
    with pytest.raises(CheckpointError, match='2 missing keys'):
        runner.train()


def test_unreadable_checkpoint_names_the_file(tmp_path):
    empty = tmp_path / 'empty.pth'
    empty.write_bytes(b'')
    runner = _strict(tmp_path / 'work', load_from=str(empty))
    with pytest.raises(CheckpointError, match='empty.pth: the file is empty'):
        runner.train()


def test_explicit_resume_needs_a_checkpoint(tmp_path):
    runner = _strict(tmp_path / 'empty', resume=True)
    with pytest.raises(NothingToResumeError, match='it has no checkpoint'):
        runner.train()
    # mmengine's auto resume stays available under its own name.
    _strict(tmp_path / 'auto', resume='auto').train()
    assert (tmp_path / 'auto' / 'iter_6.pth').exists()


def test_resume_loads_exactly_and_goes_on(tmp_path):
    _strict(tmp_path).train()
    (tmp_path / 'last_checkpoint').write_text(str(tmp_path / 'iter_4.pth'))
    resumed = _strict(tmp_path, resume=True)
    resumed.train()
    assert resumed.iter == 6


def test_work_dir_in_use_is_refused(tmp_path):
    first = _strict(tmp_path)
    before = sorted(os.listdir(tmp_path))
    with pytest.raises(FolderInUseError, match='work dir .* is in use'):
        _strict(tmp_path)
    assert sorted(os.listdir(tmp_path)) == before  # nothing of its own
    first.train()  # releases the work dir when it ends
    second = _strict(tmp_path)
    second.train()


def _load_refused(tmp_path, checkpoint) -> str:
    """The error of loading ``checkpoint`` into a run's model."""
    path = tmp_path / 'ck.pth'
    torch.save(checkpoint, path)
    runner = _strict(tmp_path / 'work')
    with pytest.raises(CheckpointError) as info:
        runner.load_checkpoint(str(path))
    assert f'checkpoint {path}' in str(info.value)  # named
    return str(info.value)


def _toy_state(tmp_path):
    return _strict(tmp_path / 'toy').model.state_dict()


def test_checkpoint_of_another_dtype_is_refused(tmp_path):
    """Issue 23 item 8: floats saved as int64 (same shapes) loaded without
    a word (every weight truncated: mIoU 0.0 with exit 0, empty masks)."""
    state = {k: v.long() for k, v in _toy_state(tmp_path).items()}
    message = _load_refused(tmp_path, dict(state_dict=state))
    assert ('2 tensors of another kind of number (linear.weight: checkpoint '
            'torch.int64 vs model torch.float32, linear.bias: ') in message


def test_checkpoint_with_nan_weights_is_refused(tmp_path):
    """Issue 23 item 9: all-NaN weights gave every metric 0.0, exit 0."""
    state = {
        k: torch.full_like(v, float('nan'))
        for k, v in _toy_state(tmp_path).items()
    }
    message = _load_refused(tmp_path, dict(state_dict=state))
    assert ('2 tensors with NaN or infinite values (linear.weight: 4 of 4, '
            'linear.bias: 1 of 1)') in message


def test_checkpoint_with_numbers_instead_of_tensors_is_refused(tmp_path):
    """Issue 23 item 18: int values gave torch's bare RuntimeError."""
    state = dict(_toy_state(tmp_path), **{'linear.bias': 3})
    assert _load_refused(tmp_path, dict(state_dict=state)).endswith(
        ": 1 entries of 'state_dict' are not tensors ('linear.bias' (int)); "
        'it is not a checkpoint of a model')


def test_checkpoint_whose_state_dict_is_a_list_is_refused(tmp_path):
    """Issue 23 item 19: AttributeError: 'list' object has no attribute
    'items'."""
    assert _load_refused(tmp_path, dict(state_dict=[1, 2])).endswith(
        ": 'state_dict' is a list, not a dict of tensors; it is not a "
        'checkpoint of a model')
