"""Every tool ends a refusal with one ``error:`` line (issue 23)."""
import ast
import glob
import json
import os
import os.path as osp
import shutil
import signal
import sys

import pytest
from tool_runner import GENERATOR, REPO, run_tool

from sgsrf_mmseg.datasets import generate_synthetic_dataset
from sgsrf_mmseg.datasets.text_parse import read_parse_file

TOOLS = sorted(
    glob.glob(osp.join(REPO, 'tools', '*.py')) +
    glob.glob(osp.join(REPO, 'tools', '*', '*.py')))
TINY = osp.join(REPO, 'configs', 'sgsrf', 'sgsrf_tiny_synthetic.py')
FAULT_INJECTION = osp.join(REPO, 'tests', 'fault_injection.py')


def _tool(name, *args, cwd):
    return run_tool(
        [sys.executable, osp.join(REPO, 'tools', name), *args], cwd=str(cwd))


def _error_line(result) -> str:
    """The error that ends stderr: its ``error:`` line and any detail lines
    under it (a list of files, of config problems), without a traceback."""
    assert 'Traceback' not in result.stderr, result.stderr[-3000:]
    lines = result.stderr.strip().splitlines()
    starts = [i for i, line in enumerate(lines) if line.startswith('error:')]
    assert starts, result.stderr[-3000:]
    start = starts[-1]
    return '\n'.join(lines[start:])


def _config(tmp_path, root) -> str:
    """The tiny config on the synthetic dataset in ``root``."""
    path = tmp_path / 'tiny_here.py'
    loader = f'dict(dataset=dict(data_root={root!r}, generator={GENERATOR!r}))'
    path.write_text(f'_base_ = {TINY!r}\ntrain_dataloader = {loader}\n'
                    f'val_dataloader = {loader}\ntest_dataloader = {loader}\n')
    return str(path)


@pytest.mark.parametrize('path', TOOLS, ids=lambda p: osp.relpath(p, REPO))
def test_every_tool_has_debug_and_the_shared_error_line(path):
    """One helper for all tools: each parser gets --debug from it and each
    main runs through run_tool (no copy of either per tool)."""
    tree = ast.parse(open(path).read())
    called = {
        node.func.id if isinstance(node.func, ast.Name) else node.func.attr
        for node in ast.walk(tree) if isinstance(node, ast.Call)
    }
    assert called & {
        'add_debug_option', 'add_common_arguments', 'model_check_parser'
    }, path
    assert 'run_tool' in called, path


@pytest.fixture
def foreign_root(tmp_path):
    """A RefSegRS-layout folder (no generator marker) missing an image."""
    root = str(tmp_path / 'refsegrs')
    generate_synthetic_dataset(root, **GENERATOR)
    os.remove(osp.join(root, 'synthetic_info.json'))
    with open(osp.join(root, 'output_phrase_test.txt')) as f:
        first_test = f.readline().split(' ', 1)[0]
    missing = osp.join(root, 'images', f'{first_test}.tif')
    os.remove(missing)
    return root, missing


@pytest.mark.slow
def test_missing_file_at_dataset_build_is_one_line(tmp_path, write_config,
                                                   foreign_root):
    """Issue 23 item 23: a missing file found when the dataset is built
    arrived as a full traceback; --debug still shows it."""
    root, missing = foreign_root
    config = write_config(extra=f'test_dataloader = dict(dataset=dict('
                          f'data_root={root!r}))\n')
    checkpoint = tmp_path / 'ck.pth'
    checkpoint.write_bytes(b'')
    args = [config, str(checkpoint), '--work-dir', str(tmp_path / 'w')]
    result = _tool('test.py', *args, cwd=tmp_path)
    assert result.returncode == 1
    line = _error_line(result)
    assert line.startswith('error: ') and missing in line, line
    debug = _tool('test.py', *args, '--debug', cwd=tmp_path)
    assert debug.returncode == 1 and 'Traceback' in debug.stderr
    assert debug.stderr.rstrip().endswith(line)


@pytest.mark.slow
def test_corrupt_cache_and_demo_start_up_are_one_line(tmp_path,
                                                      synthetic_root):
    """Issue 23 item 23: a corrupt parse cache and the demo's start-up
    errors arrived as tracebacks."""
    cache = tmp_path / 'parses.json'
    cache.write_text('{"format": 1, "parser"')
    result = _tool(
        'misc/parse_expressions.py',
        _config(tmp_path, synthetic_root),
        '--split',
        'val',
        '--cache-file',
        str(cache),
        cwd=tmp_path)
    assert result.returncode == 1
    assert _error_line(result).startswith(
        f'error: parse file {cache} is not valid JSON: ')
    missing = tmp_path / 'nowhere.pth'
    result = _tool(
        'demo_app.py', TINY, '--checkpoint', str(missing), cwd=tmp_path)
    assert result.returncode == 1
    assert _error_line(result) == f'error: checkpoint {missing} not found'


@pytest.mark.slow
def test_parse_expressions_works_on_the_tiny_config(tmp_path):
    """Issue 20: parse_expressions.py failed on the shipped tiny config
    both ways the README suggests ("the dataset has no text_parser"; with
    --parser, "text_parser=dict(train_on_gold=True) takes no ['model']")."""
    root = str(tmp_path / 'synthetic')
    generate_synthetic_dataset(root, **GENERATOR)
    config = _config(tmp_path, root)
    result = _tool('misc/parse_expressions.py', config, cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    for split in ('train', 'val', 'test'):
        cache = osp.join(root, f'output_phrase_{split}.parses.json')
        assert f'{split}: ' in result.stdout and f'parsed in {cache}' in \
            result.stdout
        parser, parses = read_parse_file(cache)
        assert parser.startswith('en_gold_trained_parser ') and parses
    result = _tool(
        'misc/parse_expressions.py',
        config,
        '--split',
        'train',
        '--parser',
        'en_core_web_sm',
        cwd=tmp_path)
    if result.returncode:  # the package is not installed here
        assert _error_line(result).startswith(
            "error: the spaCy pipeline 'en_core_web_sm' is not installed: "
            'pip install spacy, then python -m spacy download en_core_web_sm')
    else:
        assert 'train: ' in result.stdout


@pytest.mark.slow
def test_train_parser_refuses_a_users_folder(tmp_path):
    """Issue 23 item 5 at the command line: exit status 2, one line."""
    gold = tmp_path / 'gold.json'
    gold.write_text(
        json.dumps(
            dict(
                format=1,
                parser='gold',
                parses={
                    'a red car':
                    dict(
                        words=['a', 'red', 'car'],
                        spaces=[True, True, False],
                        heads=[2, 2, 2],
                        deps=['det', 'amod', 'ROOT'])
                })))
    project = tmp_path / 'myproj'
    project.mkdir()
    (project / 'config.cfg').write_text('[mine]\n')
    result = _tool(
        'misc/train_parser.py', str(gold), '--out', str(project), cwd=tmp_path)
    assert result.returncode == 2
    assert _error_line(result) == (
        f'error: {project} already holds config.cfg, which saving the parser '
        'would replace; they are kept: choose a new or empty folder, or '
        '--overwrite to replace them (other files there are kept)')
    assert (project / 'config.cfg').read_text() == '[mine]\n'


def _scalars(tmp_path):
    vis = tmp_path / 'run' / '20260101_000000' / 'vis_data'
    vis.mkdir(parents=True)
    path = vis / 'scalars.json'
    path.write_text(''.join(
        json.dumps(dict(loss=1.0 / step, lr=1e-3, step=step, iter=step)) + '\n'
        for step in (10, 20, 30)))
    return str(path)


@pytest.mark.slow
def test_class_guards_on_cases_not_in_the_issue(tmp_path):
    """Outputs: an output that is an input is a usage error (exit 2); an
    existing output is kept without --overwrite; killed while replacing
    it, the previous version stays whole. Ranges: an option out of its
    range is a usage error. Errors: one line, exit 1."""
    scalars = _scalars(tmp_path)
    before = open(scalars, 'rb').read()
    result = _tool(
        'analysis/plot_curves.py', scalars, '--out', scalars, cwd=tmp_path)
    assert result.returncode == 2
    assert _error_line(result) == (
        f'error: the output {scalars} is the input {scalars}; refusing to '
        'replace an input: choose another output path')
    assert open(scalars, 'rb').read() == before

    out = str(tmp_path / 'curves.png')
    assert _tool(
        'analysis/plot_curves.py', scalars, '--out', out,
        cwd=tmp_path).returncode == 0
    plot = open(out, 'rb').read()
    result = _tool(
        'analysis/plot_curves.py', scalars, '--out', out, cwd=tmp_path)
    assert result.returncode == 2 and _error_line(result).startswith(
        f'error: 1 output file(s) already exist: {out}; they are kept')
    killed = run_tool([
        sys.executable, FAULT_INJECTION, '*curves.png*', '0',
        osp.join(REPO, 'tools', 'analysis', 'plot_curves.py'), scalars,
        '--out', out, '--overwrite'
    ],
                      cwd=str(tmp_path))
    assert killed.returncode == -signal.SIGKILL
    assert open(out, 'rb').read() == plot

    result = _tool(
        'misc/check_dataset.py',
        'refsegrs',
        str(tmp_path),
        '--max-empty-fraction',
        '2',
        cwd=tmp_path)
    assert result.returncode == 2  # argparse's usage error, and its line
    assert result.stderr.strip().splitlines()[-1] == (
        'check_dataset.py: error: argument --max-empty-fraction: must be in '
        '[0, 1], got 2')
    result = _tool(
        'analysis/plot_curves.py',
        str(tmp_path / 'nowhere'),
        '--out',
        str(tmp_path / 'other.png'),
        cwd=tmp_path)
    assert result.returncode == 1
    assert _error_line(result).startswith('error: ') and 'nowhere' in \
        _error_line(result)
    shutil.rmtree(tmp_path / 'run')
