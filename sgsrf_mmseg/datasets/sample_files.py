"""Check that the image and mask files an annotation file names exist."""
import os.path as osp
from typing import Dict, List, Tuple


def find_missing_sample_files(
        references: List[dict]) -> Tuple[Dict[str, List[str]], int]:
    """Image and mask files named by references that do not exist.

    One ``stat`` per distinct file, nothing is read.

    Args:
        references (list[dict]): References with ``img_path`` and, for mask
            files, ``seg_map_path``.

    Returns:
        tuple[dict[str, list[str]], int]: The missing paths by field
        (``'img_path'``, ``'seg_map_path'``), in order of first mention, and
        the number of distinct files named.
    """
    missing: Dict[str, List[str]] = dict(img_path=[], seg_map_path=[])
    seen = set()
    for ref in references:
        for field, paths in missing.items():
            path = ref.get(field)
            if path and path not in seen:
                seen.add(path)
                if not osp.isfile(path):
                    paths.append(path)
    return missing, len(seen)


def check_sample_files(references: List[dict], source: str) -> None:
    """Raise one error listing every missing image and mask file.

    Args:
        references (list[dict]): As for :func:`find_missing_sample_files`.
        source (str): The annotation file naming them, for the message.
    """
    missing, total = find_missing_sample_files(references)
    paths = missing['img_path'] + missing['seg_map_path']
    if not paths:
        return
    hint = (' (none of them exists: check data_root and data_prefix)'
            if len(paths) == total else '')
    raise FileNotFoundError(
        f'{source}: {len(paths)} of the {total} image and mask files it '
        f'names do not exist{hint} (images: {len(missing["img_path"])}, '
        f'masks: {len(missing["seg_map_path"])}):\n' +
        '\n'.join(f'  {path}' for path in paths))
