"""tools/test.py never writes over an input or a user's file, and writes
its files whole (issue 23, items 1-3)."""
import os
import os.path as osp
import signal
import sys

import pytest
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmseg.registry import MODELS
from tool_runner import REPO, run_tool

from sgsrf_mmseg.utils.folder_lock import FolderLock

pytestmark = pytest.mark.slow
TEST_TOOL = osp.join(REPO, 'tools', 'test.py')
FAULT_INJECTION = osp.join(REPO, 'tests', 'fault_injection.py')


@pytest.fixture
def run(tmp_path, write_config):
    """A config, a checkpoint of its model, and tools/test.py on them."""
    config = write_config()
    init_default_scope('mmseg')
    torch.manual_seed(0)
    checkpoint = str(tmp_path / 'ck.pth')
    model = MODELS.build(Config.fromfile(config).model)
    torch.save(dict(state_dict=model.state_dict()), checkpoint)

    def test(*args, wrapper=()):
        return run_tool([
            sys.executable, *wrapper, TEST_TOOL, config, checkpoint,
            '--work-dir',
            str(tmp_path / 'work'), *args
        ],
                        cwd=str(tmp_path))

    test.config, test.checkpoint = config, checkpoint
    return test


def _last_error(result) -> str:
    lines = result.stderr.strip().splitlines()
    assert 'Traceback' not in result.stderr
    return lines[-1]


def test_results_never_replace_the_checkpoint_or_config(run):
    """Item 1: --results ck.pth replaced the 16 MB checkpoint with 2.5 KB
    of JSON, exit 0 (the same with the config file)."""
    for victim, options in ((run.checkpoint, ()), (run.config,
                                                   ('--overwrite', ))):
        before = open(victim, 'rb').read()
        result = run('--results', victim, *options)
        assert result.returncode == 2, result.stderr[-2000:]
        assert _last_error(result) == (
            f'error: the output {victim} is the input {victim}; refusing to '
            'replace an input: choose another output path')
        assert open(victim, 'rb').read() == before


def test_out_folder_keeps_user_files_and_is_locked(run, tmp_path):
    """Item 2: --out DIR replaced a user's expressions.csv and same-named
    mask PNGs without a word; the folder was not locked."""
    out = tmp_path / 'masks'
    out.mkdir()
    (out / 'expressions.csv').write_text('my own notes\n')
    result = run('--out', str(out))
    assert result.returncode == 2
    assert _last_error(result) == (
        f'error: --out {out} already holds 1 file(s) ({out}/expressions.csv)'
        '; they are kept: choose a new or empty folder, or --overwrite to '
        'replace the files this run writes (others are kept)')
    assert (out / 'expressions.csv').read_text() == 'my own notes\n'
    with FolderLock(str(out), role='--out folder'):
        result = run('--out', str(out), '--overwrite')
    assert result.returncode == 1
    assert _last_error(result).startswith(
        f'error: the --out folder {out} is in use by another run (pid '
        f'{os.getpid()} on ')
    assert (out / 'expressions.csv').read_text() == 'my own notes\n'


def test_sigkill_while_writing_expressions_keeps_the_previous_file(
        run, tmp_path):
    """Item 3: kill -9 while --out wrote expressions.csv left the previous
    complete file with 0 bytes (a write to it answered by SIGKILL)."""
    out = tmp_path / 'masks'
    first = run('--out', str(out))
    assert first.returncode == 0, first.stderr[-3000:]
    previous = (out / 'expressions.csv').read_bytes()
    assert previous.count(b'\n') > 1
    killed = run(
        '--out',
        str(out),
        '--overwrite',
        wrapper=(FAULT_INJECTION, '*expressions.csv*', '0'))
    assert killed.returncode == -signal.SIGKILL
    assert (out / 'expressions.csv').read_bytes() == previous
