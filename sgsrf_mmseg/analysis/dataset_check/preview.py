"""Preview images of checked expressions with the project's overlay."""
import os.path as osp
from typing import List, Sequence

import cv2
import numpy as np

from sgsrf_mmseg.utils.atomic_file import write_bytes_atomic
from sgsrf_mmseg.utils.image_io import read_image_rgb
from sgsrf_mmseg.visualization import draw_referring_overlay
from .checker import Preview


def write_previews(previews: Sequence[Preview],
                   prefix: str,
                   out_dir: str,
                   overwrite: bool = False) -> List[str]:
    """Write ``<prefix>_<k>_<name>.png``: the target and expression drawn.

    Args:
        previews (Sequence[Preview]): The expressions to draw.
        prefix (str): File name prefix, e.g. the split.
        out_dir (str): Output folder, made if needed.
        overwrite (bool): Replace files of the same names; when False such
            a file is an :class:`~sgsrf_mmseg.utils.atomic_file.
            OutputExistsError`. Defaults to False.

    Returns:
        list[str]: The files written.
    """
    paths = []
    for k, preview in enumerate(previews):
        drawn = draw_referring_overlay(
            read_image_rgb(preview.img_path), preview.mask, preview.text)
        path = osp.join(out_dir, f'{prefix}_{k:04d}_{preview.name}.png')
        ok, png = cv2.imencode('.png', np.ascontiguousarray(drawn[..., ::-1]))
        if not ok:
            raise OSError(f'could not encode the preview {path}')
        write_bytes_atomic(path, png.tobytes(), overwrite)
        paths.append(path)
    return paths
