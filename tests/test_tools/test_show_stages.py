"""tools/test.py --show-dir DIR --show-stages: a stage figure per drawn
expression, the scores untouched."""
import csv
import os
import os.path as osp
import sys

import cv2
import pytest
from tiny_gallery import random_checkpoint
from tool_runner import REPO, run_tool

pytestmark = pytest.mark.slow


def test_stage_figures_beside_the_pictures(tmp_path, write_config):
    config = write_config()
    checkpoint = random_checkpoint(str(tmp_path / 'random.pth'))
    test = run_tool([
        sys.executable,
        osp.join(REPO, 'tools/test.py'), config, checkpoint, '--work-dir',
        str(tmp_path / 'work'), '--out',
        str(tmp_path / 'out'), '--show-dir', 'vis', '--show-stages'
    ],
                    cwd=str(tmp_path))
    assert test.returncode == 0, test.stderr[-3000:]
    rows = list(csv.DictReader(open(tmp_path / 'out' / 'expressions.csv')))
    figures = sorted(os.listdir(tmp_path / 'vis' / 'stages'))
    expected = sorted(
        f"{osp.splitext(osp.basename(r['img_path']))[0]}_{r['ref_id']}_"
        f"{r['sent_id']}_stages.png" for r in rows)
    assert figures == expected
    figure = cv2.imread(str(tmp_path / 'vis' / 'stages' / figures[0]))
    assert figure is not None and figure.shape[1] > 600
    plain = run_tool([
        sys.executable,
        osp.join(REPO, 'tools/test.py'), config, checkpoint, '--work-dir',
        str(tmp_path / 'work2'), '--out',
        str(tmp_path / 'out2')
    ],
                     cwd=str(tmp_path))
    assert plain.returncode == 0, plain.stderr[-3000:]
    assert open(tmp_path / 'out2' / 'expressions.csv').read() == open(
        tmp_path / 'out' / 'expressions.csv').read()


def test_show_stages_needs_show_dir(tmp_path, write_config):
    result = run_tool([
        sys.executable,
        osp.join(REPO, 'tools/test.py'),
        write_config(), 'none.pth', '--show-stages'
    ],
                      cwd=str(tmp_path))
    assert result.returncode == 2
    assert '--show-stages needs --show-dir' in result.stderr
