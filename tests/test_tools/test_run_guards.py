"""tools/train.py and tools/test.py refuse what would give wrong numbers."""
import os
import os.path as osp
import sys

import pytest
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmseg.registry import MODELS
from tool_runner import REPO, run_tool

from sgsrf_mmseg.utils.folder_lock import FolderLock

#: Runs the repository's tools as subprocesses.
pytestmark = pytest.mark.slow


def _tool(name, *args, cwd):
    return run_tool(
        [sys.executable, osp.join(REPO, 'tools', name), *args], cwd=cwd)


def test_test_refuses_a_checkpoint_of_another_model(tmp_path, write_config):
    config = write_config()
    cfg = Config.fromfile(config)
    cfg.model.refiner.num_blocks = 1  # another model: one CCR block, not 2
    init_default_scope('mmseg')
    other = str(tmp_path / 'other_model.pth')
    torch.save(dict(state_dict=MODELS.build(cfg.model).state_dict()), other)

    result = _tool(
        'test.py',
        config,
        other,
        '--work-dir',
        str(tmp_path / 'test'),
        cwd=str(tmp_path))
    assert result.returncode == 1, result.stderr[-3000:]
    error = result.stderr.strip().splitlines()[-1]
    assert error.startswith(f'error: cannot load checkpoint {other} into the '
                            'model of the config (SGSRFSegmentor): ')
    assert 'missing keys (refiner.blocks.1.' in error
    assert 'Iter(test)' not in result.stdout + result.stderr  # no metrics


def test_resume_with_nothing_to_resume_is_an_error(tmp_path, write_config):
    work_dir = tmp_path / 'work_dri'  # mistyped: holds nothing
    result = _tool(
        'train.py',
        write_config(),
        '--work-dir',
        str(work_dir),
        '--resume',
        cwd=str(tmp_path))
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1] == (
        f'error: --resume: nothing to resume in {work_dir}: it has no '
        'checkpoint (no last_checkpoint, iter_*.pth or epoch_*.pth). Check '
        'the work dir, give the checkpoint (--resume PATH), train without '
        '--resume to start from scratch, or use --auto-resume to resume '
        'only when there is something to resume')
    assert not work_dir.exists()


def test_work_dir_in_use_is_refused(tmp_path, write_config):
    work_dir = tmp_path / 'work'
    with FolderLock(str(work_dir), role='work dir'):
        result = _tool(
            'train.py',
            write_config(),
            '--work-dir',
            str(work_dir),
            cwd=str(tmp_path))
        assert result.returncode == 1
        error = result.stderr.strip().splitlines()[-1]
        assert error.startswith(f'error: the work dir {work_dir} is in use '
                                f'by another run (pid {os.getpid()} on ')
        assert error.endswith('wait until it ends or choose another work dir')
        assert os.listdir(work_dir) == ['.sgsrf_mmseg.lock']
