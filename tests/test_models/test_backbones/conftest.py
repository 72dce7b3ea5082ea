"""Session fixtures: tiny and ViT-B-16 CLIP models and their checkpoints."""
import open_clip
import pytest
import torch
from clip_checkpoints import (EMBED_DIM, FORMATS, TEXT_CFG, VISION_CFG,
                              save_checkpoint)

import sgsrf_mmseg  # noqa: F401,I001  (patches mmcv before mmseg)


@pytest.fixture(scope='session')
def tiny_clip():
    """A tiny ``open_clip.CLIP`` with random weights, in eval mode."""
    torch.manual_seed(0)
    model = open_clip.CLIP(
        embed_dim=EMBED_DIM, vision_cfg=VISION_CFG, text_cfg=TEXT_CFG)
    return model.eval()


@pytest.fixture(scope='session')
def tiny_checkpoints(tiny_clip, tmp_path_factory):
    """``{format: (path, saved tensors)}`` of ``tiny_clip``."""
    folder = tmp_path_factory.mktemp('clip_tiny')
    files = {}
    for fmt, name in FORMATS.items():
        path = str(folder / name)
        files[fmt] = path, save_checkpoint(tiny_clip.state_dict(), path, fmt)
    return files


@pytest.fixture(scope='session')
def vit_b16_checkpoint(tmp_path_factory):
    """The official ViT-B-16 architecture with random weights, as ``.bin``.

    Returns the model (eval mode) and the file path.
    """
    torch.manual_seed(0)
    model = open_clip.create_model('ViT-B-16', pretrained=None).eval()
    path = str(tmp_path_factory.mktemp('clip_b16') / 'vit_b16.bin')
    torch.save(model.state_dict(), path)
    return model, path
