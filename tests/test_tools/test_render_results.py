import os.path as osp
import shutil
import sys
from types import SimpleNamespace

import pytest
import torch
import yaml
from mmengine.structures import PixelData
from mmseg.structures import SegDataSample
from tool_runner import REPO, run_tool

from sgsrf_mmseg.evaluation import ReferringSegMetric, save_test_results

#: Runs the repository's tools as subprocesses.
pytestmark = pytest.mark.slow

TOOL = osp.join(REPO, 'tools/analysis/render_results.py')
MODEL = 'sgsrf_tiny_synthetic'


def write_test_results(path):
    """Score two expressions (IoUs 1/2 and 1, oIoU 3/4) and write the
    results file as tools/test.py does."""
    metric = ReferringSegMetric()
    samples = []
    for ref_id, pred in (('a', [[1, 0], [0, 0]]), ('b', [[1, 1], [0, 0]])):
        sample = SegDataSample(metainfo=dict(ref_id=ref_id, sent_id=0))
        sample.pred_sem_seg = PixelData(data=torch.tensor([pred]))
        sample.gt_sem_seg = PixelData(data=torch.tensor([[[1, 1], [0, 0]]]))
        samples.append(sample.to_dict())
    metric.process({}, samples)
    metric.evaluate(2)
    save_test_results(
        SimpleNamespace(metrics=[metric]), [str(path)],
        command='python tools/test.py configs/sgsrf/sgsrf_tiny_synthetic.py '
        'best.pth',
        config='configs/sgsrf/sgsrf_tiny_synthetic.py',
        checkpoint='best.pth',
        dataset_cfg=dict(type='SyntheticRefSegRSDataset', split='test'))


def test_render_into_readme_and_metafile(tmp_path):
    results = tmp_path / 'test_results.json'
    write_test_results(results)
    readme = tmp_path / 'README.md'
    readme.write_text('# Results\n\n<!-- results:demo-test -->\n'
                      '<!-- /results:demo-test -->\n\nEnd.\n')
    metafile = tmp_path / 'metafile.yaml'
    shutil.copy(osp.join(REPO, 'configs/sgsrf/metafile.yaml'), metafile)
    args = [
        sys.executable, TOOL, 'test', 'test_results.json', '--target',
        f'{readme}:demo-test', '--metafile', f'{metafile}:{MODEL}',
        '--metrics', 'mIoU', 'oIoU', 'Prec@0.5', '--no-groups'
    ]
    first = run_tool(args, cwd=str(tmp_path))
    assert first.returncode == 0, first.stderr[-3000:]
    assert 'results:demo-test updated' in first.stdout
    text = readme.read_text()
    assert ('| `sgsrf_tiny_synthetic` | 2 | 75.00 | 75.00 | 100.00 |' in text)
    assert ('`python tools/test.py configs/sgsrf/sgsrf_tiny_synthetic.py '
            'best.pth` (`test_results.json`)' in text)
    assert text.startswith('# Results\n\n<!-- results:demo-test -->\n\n|')
    assert text.endswith('\n\n<!-- /results:demo-test -->\n\nEnd.\n')
    models = {
        m['Name']: m
        for m in yaml.safe_load(metafile.read_text())['Models']
    }
    assert models[MODEL]['Results'][0]['Metrics'] == {
        'mIoU': 75.0,
        'oIoU': 75.0,
        'Prec@0.5': 100.0
    }
    missing = run_tool([
        sys.executable, TOOL, 'test', 'test_results.json', '--target',
        f'{readme}:speed'
    ],
                       cwd=str(tmp_path))
    assert missing.returncode != 0
    assert (f"error: {readme}: marker '<!-- results:speed -->' not found"
            in missing.stderr)
    assert readme.read_text() == text


def test_an_absolute_path_outside_the_repository_is_refused(tmp_path):
    results = tmp_path / 'test_results.json'
    write_test_results(results)
    readme = tmp_path / 'README.md'
    readme.write_text('<!-- results:demo-test -->\n'
                      '<!-- /results:demo-test -->\n')
    args = [
        sys.executable, TOOL, 'test',
        str(results), '--target', f'{readme}:demo-test'
    ]
    refused = run_tool(args, cwd=str(tmp_path), env=dict(WORK=''))
    assert refused.returncode != 0
    error, = [
        line for line in refused.stderr.splitlines()
        if line.startswith('error:')
    ]
    assert f'absolute path {results}' in error and 'set WORK' in error
    assert readme.read_text().count('\n') == 2
    done = run_tool(args, cwd=str(tmp_path), env=dict(WORK=str(tmp_path)))
    assert done.returncode == 0, done.stderr[-3000:]
    assert '(`$WORK/test_results.json`)' in readme.read_text()
