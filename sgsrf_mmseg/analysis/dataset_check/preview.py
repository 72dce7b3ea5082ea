"""Preview images of checked expressions with the project's overlay."""
import os
import os.path as osp
from typing import List, Sequence

import cv2
import numpy as np

from sgsrf_mmseg.utils.image_io import read_image_rgb
from sgsrf_mmseg.visualization import draw_referring_overlay
from .checker import Preview


def write_previews(previews: Sequence[Preview], prefix: str,
                   out_dir: str) -> List[str]:
    """Write ``<prefix>_<k>_<name>.png``: the target and expression drawn.

    Args:
        previews (Sequence[Preview]): The expressions to draw.
        prefix (str): File name prefix, e.g. the split.
        out_dir (str): Output folder, made if needed.

    Returns:
        list[str]: The files written.
    """
    os.makedirs(out_dir, exist_ok=True)
    paths = []
    for k, preview in enumerate(previews):
        drawn = draw_referring_overlay(
            read_image_rgb(preview.img_path), preview.mask, preview.text)
        path = osp.join(out_dir, f'{prefix}_{k:04d}_{preview.name}.png')
        cv2.imwrite(path, np.ascontiguousarray(drawn[..., ::-1]))
        paths.append(path)
    return paths
