"""``tools/analysis/benchmark.py`` end to end on the tiny model config."""
import json
import os
import os.path as osp
import subprocess
import sys

import pytest

from sgsrf_mmseg.analysis.benchmark import (BenchmarkResults,
                                            render_benchmark_block)
from sgsrf_mmseg.utils.portable_paths import PortablePaths

#: Runs the repository's tools as subprocesses.
pytestmark = pytest.mark.slow

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
TOOL = osp.join('tools', 'analysis', 'benchmark.py')
TINY = osp.join('configs', '_base_', 'models', 'sgsrf_tiny.py')

TOP_FIELDS = ('config', 'device', 'device_name', 'torch', 'threads', 'dtype',
              'batch_size', 'input_size', 'warmup', 'iters', 'texts', 'params',
              'train', 'infer', 'flops', 'stages', 'floor', 'compare', 'notes',
              'command')
TRAIN_FIELDS = ('step_ms', 'step_ms_min', 'images_per_s', 'forward_ms',
                'backward_ms', 'optimizer_ms', 'peak_mib', 'peak_delta_mib',
                'tflops_per_s', 'tflops_per_s_counted')
INFER_FIELDS = ('ms_per_batch', 'ms_per_image', 'images_per_s', 'peak_mib',
                'peak_delta_mib', 'tflops_per_s')
FLOP_FIELDS = ('forward_train', 'backward_train', 'train_step_3x',
               'forward_infer')
FORWARD_STAGES = ('clip_image', 'clip_text', 'ccr', 'gpg', 'sam_encoder',
                  'sam_prompt_decoder', 'other')
FLOOR_PARTS = ('clip_image', 'clip_text', 'sam_image_encoder')
COMPARE_FIELDS = ('changes', 'step_ms', 'images_per_s', 'peak_mib',
                  'peak_delta_mib', 'speedup')


def _is_number(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool)


@pytest.fixture(scope='module')
def result(tmp_path_factory):
    out = tmp_path_factory.mktemp('bench') / 'tiny.json'
    # from the repo root without PYTHONPATH; one thread keeps the run short
    # on a busy machine (only the fields are checked, not the speed)
    env = {k: v for k, v in os.environ.items() if k != 'PYTHONPATH'}
    env['OMP_NUM_THREADS'] = '1'
    proc = subprocess.run([
        sys.executable, TOOL, TINY, '--device', 'cpu', '--batch-size', '2',
        '--input-size', '64', '--warmup', '1', '--iters', '1', '--compare',
        'use_sdpa', 'freeze_encoders', '--out',
        str(out)
    ],
                          cwd=REPO,
                          env=env,
                          capture_output=True,
                          text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    with open(out) as f:
        return json.load(f), proc.stdout


def test_run_settings(result):
    data, _ = result
    for field in TOP_FIELDS:
        assert field in data, field
    assert data['device'] == 'cpu' and data['dtype'] == 'fp32'
    assert data['batch_size'] == 2 and data['input_size'] == 64
    assert len(data['texts']) == 2 and all(data['texts'])
    assert data['params']['trainable'] <= data['params']['total']
    assert {'image_encoder', 'text_encoder', 'refiner',
            'decode_head'} <= set(data['params']['by_module'])


def test_train_infer_flops(result):
    data, _ = result
    for field in TRAIN_FIELDS:
        assert _is_number(data['train'][field]), field
    assert data['train']['error'] is None
    for field in INFER_FIELDS:
        assert _is_number(data['infer'][field]), field
    for field in FLOP_FIELDS:
        assert _is_number(data['flops'][field]) and data['flops'][field] > 0
    assert data['flops']['error'] is None
    assert 'image_encoder' in data['flops']['forward_train_by_module']


def test_stages(result):
    data, _ = result
    train, infer = data['stages']['train'], data['stages']['infer']
    for name in FORWARD_STAGES:
        for stages in (train, infer):
            assert _is_number(stages[name]['ms']), name
            assert _is_number(stages[name]['share']), name
    assert 'losses' in train and 'postprocess' in infer


def test_floor_and_compare(result):
    data, stdout = result
    floor = data['floor']
    for part in FLOOR_PARTS:
        assert _is_number(floor[part]['forward_ms']), part
        assert _is_number(floor[part]['forward_backward_ms']), part
        assert _is_number(floor[part]['peak_mib']), part
    assert _is_number(floor['total']['forward_backward_ms'])
    assert _is_number(floor['train_step_over_floor'])
    assert _is_number(floor['predict_over_floor'])
    compare = data['compare']
    assert list(compare) == ['baseline', 'use_sdpa', 'freeze_encoders']
    for entry in compare.values():
        for field in COMPARE_FIELDS:
            assert field in entry, field
        assert _is_number(entry['step_ms']) and entry['error'] is None
    assert compare['use_sdpa']['changes'] == {'decode_head.use_sdpa': False}
    assert compare['freeze_encoders']['changes'] == {
        'image_encoder.frozen_stages': 3,
        'text_encoder.frozen_stages': 2,
        'decode_head.frozen_stages': 2
    }
    for title in ('training step', 'inference', 'stage (forward)',
                  'floor (library towers)', 'switch'):
        assert title in stdout, title


def test_the_file_reads_back_and_renders(result):
    data, _ = result
    out = data['command'].split(' --out ')[1]
    assert data['command'] == (
        f'python {TOOL} {TINY} --device cpu --batch-size 2 --input-size 64 '
        f'--warmup 1 --iters 1 --compare use_sdpa freeze_encoders --out {out}')
    record = BenchmarkResults.from_dict(data, 'tiny.json')
    assert record.to_dict() == data
    block = render_benchmark_block([(out, record)],
                                   PortablePaths(work=osp.dirname(out)))
    assert (f'- `python {TOOL} {TINY} --device cpu --batch-size 2 '
            '--input-size 64 --warmup 1 --iters 1 --compare use_sdpa '
            'freeze_encoders --out $WORK/tiny.json` (torch ') in block
    assert '| `sgsrf_tiny` | ' in block
