import pytest
import torch

from sgsrf_mmseg.models.utils.weights import read_state_dict
from sgsrf_mmseg.utils.checkpoint_file import CheckpointError


def test_empty_and_cut_files_name_the_file(tmp_path):
    empty = tmp_path / 'sam_vit_b.pth'
    empty.write_bytes(b'')
    with pytest.raises(CheckpointError) as info:
        read_state_dict(str(empty))
    assert str(info.value) == (f'cannot read checkpoint {empty}: the file is '
                               'empty or cut short')

    from safetensors.torch import save_file
    whole = tmp_path / 'whole.safetensors'
    save_file({'w': torch.zeros(100)}, str(whole))
    cut = tmp_path / 'open_clip_model.safetensors'
    cut.write_bytes(whole.read_bytes()[:200])
    with pytest.raises(CheckpointError) as info:
        read_state_dict(str(cut))
    assert str(info.value).startswith(
        f'cannot read checkpoint {cut}: not a whole safetensors file (corrupt '
        'or cut short?): ')
    assert read_state_dict(str(whole))['w'].shape == (100, )
