"""tools/infer.py --explain DIR: one stage figure per image and expression."""
import os
import os.path as osp
import subprocess
import sys

import cv2
import numpy as np
import pytest
from infer_options import infer_options

from sgsrf_mmseg.apis.infer_run import InferRun
from sgsrf_mmseg.utils.atomic_file import OutputExistsError
from sgsrf_mmseg.utils.command_line import error_line

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIG = osp.join(REPO, 'configs', 'sgsrf', 'sgsrf_tiny_synthetic.py')
TOOL = osp.join(REPO, 'tools', 'infer.py')


@pytest.fixture
def scene(tmp_path):
    path = str(tmp_path / 'scene.png')
    rgb = np.random.RandomState(0).randint(0, 256, (90, 70, 3), np.uint8)
    assert cv2.imwrite(path, rgb)
    return path


def run_in_process(inferencer, **kwargs):
    run = InferRun(infer_options(**kwargs))
    try:
        run.check_inputs()
        run.inferencer = inferencer
        return run.run()
    finally:
        run.close()


def test_one_image_writes_its_figure_and_keeps_it(inferencer, scene, tmp_path):
    figures = str(tmp_path / 'figures')
    code, message = run_in_process(
        inferencer,
        image=scene,
        text='the red car',
        out_dir=str(tmp_path / 'out'),
        explain=figures)
    assert code == 0 and 'stage figure' in message
    assert os.listdir(figures) == ['scene_stages.png']
    figure = cv2.imread(osp.join(figures, 'scene_stages.png'))
    assert figure.shape[0] > 300 and figure.shape[1] > 600
    # A second run keeps it and says so before any model runs.
    run = InferRun(
        infer_options(
            image=scene,
            text='the red car',
            out_dir=str(tmp_path / 'out2'),
            explain=figures))
    try:
        with pytest.raises(OutputExistsError, match='scene_stages.png'):
            run.check_inputs()
    finally:
        run.close()


def test_a_missing_parser_is_an_input_error(scene, tmp_path):
    run = InferRun(
        infer_options(
            image=scene,
            text='the red car',
            out_dir=str(tmp_path / 'out'),
            explain=str(tmp_path / 'figures'),
            parser=str(tmp_path / 'no_parser')))
    try:
        with pytest.raises(FileNotFoundError) as info:
            run.check_inputs()
    finally:
        run.close()
    assert 'spaCy pipeline folder not found' in error_line(info.value)


@pytest.mark.slow
def test_batch_cli_writes_one_figure_per_row(tmp_path, scene):
    pairs = tmp_path / 'pairs.csv'
    pairs.write_text(f'image,text,name\n{scene},the red car,a\n'
                     f'{scene},the white tank,b\n')
    env = {k: v for k, v in os.environ.items() if k != 'PYTHONPATH'}
    env['OMP_NUM_THREADS'] = '1'
    result = subprocess.run([
        sys.executable, TOOL, CONFIG, '--batch',
        str(pairs), '--out-dir',
        str(tmp_path / 'out'), '--explain',
        str(tmp_path / 'figures'), '--device', 'cpu'
    ],
                            cwd=str(tmp_path),
                            env=env,
                            capture_output=True,
                            text=True,
                            timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    assert sorted(os.listdir(tmp_path /
                             'figures')) == ['a_stages.png', 'b_stages.png']
    assert '2 stage figures written' in result.stderr + result.stdout
    for extra, message in ((['--image', scene, '--parser', 'en_core_web_sm'],
                            '--parser is used with --explain'),
                           (['--geotiff', scene, '--explain',
                             'f'], 'not of a --geotiff scene')):
        refused = subprocess.run(
            [sys.executable, TOOL, CONFIG, '--text', 'x', '--out-dir', 'o'] +
            extra,
            cwd=str(tmp_path),
            env=env,
            capture_output=True,
            text=True)
        assert refused.returncode == 2 and message in refused.stderr
