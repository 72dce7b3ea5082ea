import os
import pickle

import numpy as np
import pytest
import torch

import sgsrf_mmseg  # noqa: F401
from sgsrf_mmseg.utils.checkpoint_file import CheckpointError
from sgsrf_mmseg.utils.compat import has_compiled_mmcv, load_local_checkpoint


def test_mmseg_models_import_and_point_sample_is_real():
    import mmcv.ops
    import mmseg.models  # noqa: F401
    grid = torch.rand(1, 1, 4, 4)
    points = torch.tensor([[[0.5, 0.5]]])
    out = mmcv.ops.point_sample(grid, points)
    assert out.shape == (1, 1, 1)
    assert torch.allclose(out, grid.mean().reshape(1, 1, 1), atol=1.0)


@pytest.mark.skipif(has_compiled_mmcv(), reason='compiled mmcv present')
def test_compiled_only_op_raises_clear_error():
    from mmcv.ops import sigmoid_focal_loss
    with pytest.raises(RuntimeError, match='compiled mmcv'):
        sigmoid_focal_loss(torch.zeros(1), torch.zeros(1))


def test_mmengine_checkpoint_with_history_buffer_loads(tmp_path):
    from mmengine.logging import HistoryBuffer
    buffer = HistoryBuffer()
    buffer.update(1.5)
    checkpoint = dict(
        state_dict=dict(w=torch.ones(2)),
        message_hub=dict(log_scalars=dict(loss=buffer)),
        meta=dict(seed=np.int64(3), arr=np.arange(3), dtype=np.dtype('f4')))
    path = tmp_path / 'iter_1.pth'
    torch.save(checkpoint, path)
    loaded = load_local_checkpoint(str(path))
    assert torch.equal(loaded['state_dict']['w'], torch.ones(2))
    assert loaded['message_hub']['log_scalars']['loss'].current() == 1.5
    assert loaded['meta']['seed'] == 3


class _RunsCode:

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f'touch {self.marker}', ))


def test_checkpoint_that_would_run_code_is_refused(tmp_path):
    marker = tmp_path / 'ran'
    path = tmp_path / 'evil.pth'
    with open(path, 'wb') as f:
        pickle.dump({'state_dict': _RunsCode(marker)}, f)
    with pytest.raises(CheckpointError, match='refused'):
        load_local_checkpoint(str(path))
    assert not marker.exists()


def test_mmengine_loader_is_the_safe_one(tmp_path):
    from mmengine.runner.checkpoint import CheckpointLoader
    marker = tmp_path / 'ran'
    path = tmp_path / 'evil.pth'
    torch.save({'x': _RunsCode(marker)}, path)
    with pytest.raises(CheckpointError, match='refused'):
        CheckpointLoader.load_checkpoint(str(path))
    assert not marker.exists()
