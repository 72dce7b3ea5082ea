import glob
import json
import os
import os.path as osp
import sys

import pytest
from tool_runner import REPO, run_tool

#: Runs the repository's tools as subprocesses.
pytestmark = pytest.mark.slow


def _last_metrics(work_dir):
    """The metrics tools/test.py wrote to its JSON log."""
    logs = []
    for root, _, files in os.walk(work_dir):
        logs += [
            osp.join(root, f) for f in files
            if f.endswith('.json') and not f.startswith(('scalars',
                                                         'test_results'))
        ]
    with open(sorted(logs)[-1]) as f:
        return json.loads(f.read().strip().splitlines()[-1])


def test_train_then_test_as_subprocesses(tmp_path, write_config):
    config = write_config(max_iters=4, interval=2)
    work_dir = str(tmp_path / 'work')
    train = run_tool([
        sys.executable,
        osp.join(REPO, 'tools/train.py'), config, '--work-dir', work_dir
    ],
                     cwd=str(tmp_path))
    assert train.returncode == 0, train.stderr[-3000:]
    assert osp.isfile(osp.join(work_dir, 'iter_4.pth'))
    best = open(osp.join(work_dir, 'best_checkpoint')).read()
    assert osp.isfile(best)

    test = run_tool([
        sys.executable,
        osp.join(REPO, 'tools/test.py'), config, best, '--work-dir',
        str(tmp_path / 'test'), '--out',
        str(tmp_path / 'masks'), '--show-dir', 'vis', '--results',
        str(tmp_path / 'results.json')
    ],
                    cwd=str(tmp_path),
                    env=dict(WORK=str(tmp_path)))
    assert test.returncode == 0, test.stderr[-3000:]
    metrics = _last_metrics(str(tmp_path / 'test'))
    for key in ('mIoU', 'oIoU', 'Prec@0.5', 'Prec@0.9'):
        assert 0.0 <= metrics[key] <= 100.0
    with open(tmp_path / 'results.json') as f:
        results = json.load(f)
    logged, = glob.glob(str(tmp_path / 'test' / '*' / 'test_results.json'))
    assert json.load(open(logged)) == results
    assert results['metrics']['mIoU'] == metrics['mIoU']
    assert results['protocol']['name'] == 'original'
    # the command as a reader can type it: no machine's absolute path
    assert results['command'] == (
        'python tools/test.py $WORK/run_config.py $WORK/work/' +
        osp.basename(best) + ' --work-dir $WORK/test --out $WORK/masks '
        '--show-dir vis --results $WORK/results.json')
    assert "protocol 'original'" in test.stdout
    masks = [m for m in os.listdir(tmp_path / 'masks') if m.endswith('.png')]
    records = open(tmp_path / 'masks' / 'expressions.csv').read().splitlines()
    assert len(masks) == results['expressions'] == len(records) - 1 > 0
    pictures = os.listdir(tmp_path / 'vis' / 'vis_data' / 'vis_image')
    assert pictures and all(p.endswith('.png') for p in pictures)


def test_bad_config_is_reported_before_training(tmp_path, write_config):
    config = write_config(
        extra=("model = dict(decode_head=dict(pretrained='no/such/sam.pth'), "
               "image_encoder=dict(img_size=100))\n"))
    result = run_tool([
        sys.executable,
        osp.join(REPO, 'tools/train.py'), config, '--work-dir',
        str(tmp_path / 'work')
    ],
                      cwd=str(tmp_path))
    assert result.returncode != 0
    assert 'no/such/sam.pth does not exist' in result.stderr
    assert 'img_size=100 is not a multiple' in result.stderr
    assert not osp.exists(tmp_path / 'work' / 'iter_2.pth')
