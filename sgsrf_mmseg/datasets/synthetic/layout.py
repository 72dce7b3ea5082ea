"""Where the synthetic dataset's files go: the RefSegRS layout."""
import glob
import os.path as osp
from typing import List

from .params import SPLITS, GeneratorParams

IMAGE_DIR = 'images'
MASK_DIR = 'masks'
PHRASE_FILE = 'output_phrase_{split}.txt'
GOLD_PARSE_FILE = 'output_phrase_{split}.gold_parses.json'


def dataset_files(params: GeneratorParams,
                  gold_parses: bool = True) -> List[str]:
    """Every file a dataset of these parameters has, relative to its root.

    Images and masks are ``<id>.tif`` with ids numbered over train, val and
    test in that order.

    Args:
        params (GeneratorParams): The parameters.
        gold_parses (bool): Include the gold parse files. Defaults to True.

    Returns:
        list[str]: Relative paths with ``/`` separators.
    """
    total = sum(params.split_sizes.values())
    files = [
        f'{folder}/{i}.tif' for i in range(total)
        for folder in (IMAGE_DIR, MASK_DIR)
    ]
    for split in SPLITS:
        files.append(PHRASE_FILE.format(split=split))
        if gold_parses:
            files.append(GOLD_PARSE_FILE.format(split=split))
    return files


def holds_refsegrs_layout(root: str) -> bool:
    """Whether a folder has RefSegRS's folders and at least one phrase file.

    Args:
        root (str): The folder.

    Returns:
        bool: True if ``images/``, ``masks/`` and an
        ``output_phrase_*.txt`` are there.
    """
    return (osp.isdir(osp.join(root, IMAGE_DIR)) and osp.isdir(
        osp.join(root, MASK_DIR)) and bool(
            glob.glob(
                osp.join(glob.escape(root), PHRASE_FILE.format(split='*')))))
