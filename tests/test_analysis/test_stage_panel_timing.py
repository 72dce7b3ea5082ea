"""The timing of the stage panels: measured on the real paths, rendered."""
import os.path as osp

import pytest
import torch

from sgsrf_mmseg.analysis.document_blocks import replace_marker_block
from sgsrf_mmseg.analysis.stage_panel_timing import (render_timing_block,
                                                     time_stage_panels)
from sgsrf_mmseg.apis import ReferringSegInferencer
from sgsrf_mmseg.utils.portable_paths import REPOSITORY
from sgsrf_mmseg.webapp import bundled_examples

TINY_CONFIG = 'configs/sgsrf/sgsrf_tiny_synthetic.py'


def test_times_of_a_request_and_of_its_panels():
    torch.manual_seed(0)
    inferencer = ReferringSegInferencer(TINY_CONFIG, device='cpu')
    example = bundled_examples()[0]
    times = time_stage_panels(
        inferencer, example.image, 'the black car', repeat=2, warmup=0)
    assert set(times) == {'request_s', 'panels_s', 'trace_s', 'html_s'}
    assert all(value > 0 for value in times.values())
    checkpoint = osp.join(REPOSITORY, 'work_dirs', 'demo', 'best.pth')
    block = render_timing_block(
        times,
        ['python', 'tools/analysis/x.py', 'C', '--checkpoint', checkpoint],
        'tiny, cpu')
    assert f'{1000 * times["request_s"]:.0f} ms' in block
    # a path in the repository is written relative to it
    assert ('- `python tools/analysis/x.py C --checkpoint '
            'work_dirs/demo/best.pth`') in block
    with pytest.raises(ValueError, match='absolute path /elsewhere/c.pth'):
        render_timing_block(times, ['python', 'x.py', '/elsewhere/c.pth'],
                            'tiny, cpu')
    text = 'a\n<!-- results:t -->\nold\n<!-- /results:t -->\nb\n'
    assert 'old' not in replace_marker_block(text, 't', block, 'README.md')
