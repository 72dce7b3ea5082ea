"""``tools/analysis/ablation.py`` end to end: two variants, one seed, two
training iterations each, on the small synthetic dataset."""
import glob
import json
import os.path as osp
import sys

import pytest
from mmengine.config import Config
from tool_runner import run_tool

from sgsrf_mmseg.utils.portable_paths import PortablePaths

#: Runs the repository's tools as subprocesses.
pytestmark = pytest.mark.slow


def test_two_variants_trained_chosen_on_val_and_tested(tmp_path, write_config):
    config = write_config(max_iters=2, interval=2)
    work = tmp_path / 'ablation'
    done = run_tool([
        sys.executable, 'tools/analysis/ablation.py', '--config', config,
        '--variants', 'full', 'no_scr_terms', '--seeds', '0', '--jobs', '2',
        '--work-dir',
        str(work)
    ])
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert '2 of 2 runs finished' in done.stdout
    ablation = json.loads((work / 'ablation.json').read_text())
    assert ablation['failed'] == []
    assert [v['name']
            for v in ablation['variants']] == ['full', 'no_scr_terms']
    for variant in ablation['variants']:
        run, = variant['runs']
        assert run['seed'] == 0 and run['val']['iter'] == 2
        assert run['val']['metric'] == 'mIoU'
        assert 0.0 <= run['val']['score'] <= 100.0
        results = json.loads((work / run['results']).read_text())
        assert PortablePaths().path(results['checkpoint']) == \
            run['checkpoint']
        assert results['dataset']['split'] == 'test'
        assert run['metrics']['mIoU'] == results['metrics']['mIoU']
        assert variant['summary']['mIoU']['mean'] == results['metrics']['mIoU']
        assert run['train_s'] > 0 and run['test_s'] > 0
    # what each run trained: the variant's change and the seed reached it
    trained = {
        name:
        Config.fromfile(
            glob.glob(
                str(work / name / 'seed0' / 'train' / '*' / 'vis_data' /
                    'config.py'))[0])
        for name in ('full', 'no_scr_terms')
    }
    assert trained['no_scr_terms'].model.structural_loss is None
    assert trained['full'].model.structural_loss.type == \
        'StructuralConsistencyLoss'
    assert trained['full'].randomness.seed == 0
    assert osp.isfile(work / 'no_scr_terms' / 'seed0' / 'test.log')
