"""Where inference results are written, and the rules that keep inputs safe.

* An output never replaces an input (an image, a raster, the list of
  pairs), with or without ``overwrite``, and an existing output is kept
  unless the caller asks to overwrite it
  (:func:`~sgsrf_mmseg.utils.output_paths.check_outputs`).
* Every file is written to a hidden temporary name and renamed when
  complete (:mod:`sgsrf_mmseg.utils.atomic_file`): a failed write leaves
  neither a truncated file nor the temporary one.
* Output names are plain file names: no folder separators, no control
  characters, at most :data:`MAX_NAME_BYTES` bytes in UTF-8.
"""
import os
import os.path as osp
import tempfile
import unicodedata
from typing import Dict, Tuple

import cv2
import numpy as np

from ..utils.atomic_file import write_bytes_atomic

# Leaves room in a 255-byte file name for '_overlay.png' and the temporary
# name's suffix.
MAX_NAME_BYTES = 200


def check_output_name(name: object, field: str = 'name') -> str:
    """Return ``name`` if it can name output files, else raise ValueError.

    Args:
        name (object): The proposed name.
        field (str): What it came from, for the message. Defaults to
            ``'name'``.

    Returns:
        str: ``name``.
    """
    if not isinstance(name, str):
        raise ValueError(f'field {field!r} must be a string, got '
                         f'{type(name).__name__} {name!r}')
    bad = sorted({
        repr(ch)
        for ch in name
        if unicodedata.category(ch) in ('Cc', 'Cs') or ch in ('/', '\\')
    })
    if bad:
        raise ValueError(f'field {field}={name!r} must be a plain file name '
                         f'(it holds {", ".join(bad)})')
    if name.strip() in ('', '.', '..'):
        raise ValueError(f'field {field}={name!r} must be a plain file name')
    size = len(name.encode('utf-8'))
    if size > MAX_NAME_BYTES:
        raise ValueError(f'field {field} is {size} bytes long in UTF-8; at '
                         f'most {MAX_NAME_BYTES} can name a file')
    return name


def png_paths(out_dir: str, name: str) -> Tuple[str, str]:
    """``<out_dir>/<name>_mask.png`` and ``<out_dir>/<name>_overlay.png``."""
    return (osp.join(out_dir, f'{name}_mask.png'),
            osp.join(out_dir, f'{name}_overlay.png'))


def _png_bytes(image: np.ndarray, path: str) -> bytes:
    ok, data = cv2.imencode('.png', image)
    if not ok:
        raise OSError(f'could not encode {path} as PNG')
    return data.tobytes()


def write_result_pngs(out_dir: str,
                      name: str,
                      result: Dict[str, np.ndarray],
                      overwrite: bool = False) -> Tuple[str, str]:
    """Write a result's mask (0/255) and overlay as PNGs, each atomically.

    Args:
        out_dir (str): Output folder (it must exist).
        name (str): File name stem (see :func:`check_output_name`).
        result (dict): An inferencer result with ``mask`` and
            ``visualization``.
        overwrite (bool): Replace existing files. Defaults to False.

    Returns:
        tuple[str, str]: The mask and overlay paths.
    """
    mask_path, overlay_path = png_paths(out_dir, name)
    mask = _png_bytes(result['mask'] * np.uint8(255), mask_path)
    overlay = _png_bytes(
        np.ascontiguousarray(result['visualization'][..., ::-1]), overlay_path)
    write_bytes_atomic(mask_path, mask, overwrite)
    write_bytes_atomic(overlay_path, overlay, overwrite)
    return mask_path, overlay_path


def prepare_out_dir(out_dir: str) -> str:
    """Create the output folder if needed and check that it is writable.

    Args:
        out_dir (str): The folder.

    Returns:
        str: Its absolute path.
    """
    out_dir = osp.abspath(out_dir)
    if osp.lexists(out_dir) and not osp.isdir(out_dir):
        raise NotADirectoryError(
            f'output folder {out_dir} exists and is not a folder')
    try:
        os.makedirs(out_dir, exist_ok=True)
    except OSError as err:
        raise OSError(f'cannot create the output folder {out_dir}: '
                      f'{err.strerror or err}') from err
    try:
        with tempfile.TemporaryFile(dir=out_dir):
            pass
    except OSError as err:
        raise OSError(f'cannot write into the output folder {out_dir}: '
                      f'{err.strerror or err}') from err
    return out_dir
