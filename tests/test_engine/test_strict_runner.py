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
