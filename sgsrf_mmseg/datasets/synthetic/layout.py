"""Where the synthetic dataset's files go: the RefSegRS layout.

Each scene has 1-3 referents (:data:`REFERENTS_PER_SCENE`), each written as
its own id: ``images/<id>.tif`` (the scene's image, the same for every id
of the scene: written once, hard-linked or copied for the others) and
``masks/<id>.tif``. Ids are consecutive integers over the scenes of train,
val and test in that order, so the ids of one scene are consecutive too.
How many referents a scene has is drawn from its own random stream, so the
ids, and so every file name, follow from the parameters before any scene
is drawn.
"""
import glob
import os.path as osp
from typing import Dict, List

import numpy as np

from .params import SPLITS, GeneratorParams

IMAGE_DIR = 'images'
MASK_DIR = 'masks'
PHRASE_FILE = 'output_phrase_{split}.txt'
GOLD_PARSE_FILE = 'output_phrase_{split}.gold_parses.json'
TAGS_FILE = 'output_phrase_{split}.tags.json'
LANDMARKS_FILE = 'output_phrase_{split}.landmarks.json'
PER_SPLIT_FILES = (PHRASE_FILE, GOLD_PARSE_FILE, TAGS_FILE, LANDMARKS_FILE)
#: Part of each scene's random seed that says its split.
SPLIT_CODES = {'train': 0, 'val': 1, 'test': 2}
#: How often a scene has 1, 2 or 3 referents.
REFERENTS_PER_SCENE = {1: 0.15, 2: 0.45, 3: 0.40}
#: Last part of the seed of the stream that draws a scene's referent count.
_COUNT_STREAM = 1


def scene_rng(params: GeneratorParams, split: str,
              index: int) -> np.random.Generator:
    """The random source of one scene (its objects, image, expressions)."""
    return np.random.default_rng([params.seed, SPLIT_CODES[split], index])


def referent_count(params: GeneratorParams, split: str, index: int) -> int:
    """How many referents (ids) one scene has."""
    rng = np.random.default_rng(
        [params.seed, SPLIT_CODES[split], index, _COUNT_STREAM])
    counts = sorted(REFERENTS_PER_SCENE)
    weights = [REFERENTS_PER_SCENE[c] for c in counts]
    return counts[rng.choice(len(counts), p=weights)]


def scene_ids(params: GeneratorParams) -> Dict[str, List[List[str]]]:
    """The ids of every scene of every split.

    Args:
        params (GeneratorParams): The parameters.

    Returns:
        dict[str, list[list[str]]]: Per split, one list of ids per scene.
    """
    ids, next_id = {}, 0
    for split in SPLITS:
        ids[split] = []
        for index in range(params.split_sizes[split]):
            count = referent_count(params, split, index)
            ids[split].append([str(next_id + k) for k in range(count)])
            next_id += count
    return ids


def legacy_dataset_files(params: GeneratorParams) -> List[str]:
    """What generator versions 1-3 wrote: one id per scene, no gold trees."""
    total = sum(params.split_sizes.values())
    files = [
        f'{folder}/{i}.tif' for i in range(total)
        for folder in (IMAGE_DIR, MASK_DIR)
    ]
    return files + [PHRASE_FILE.format(split=split) for split in SPLITS]


def dataset_files(params: GeneratorParams,
                  gold_parses: bool = True) -> List[str]:
    """Every file a dataset of these parameters has, relative to its root.

    Args:
        params (GeneratorParams): The parameters.
        gold_parses (bool): True: the files of this generator version
            (images and masks of every id, then each split's phrase, gold
            parse, tags and landmarks files). False: those of versions
            1-3, whose markers do not list them (one id per scene, phrase
            files only). Defaults to True.

    Returns:
        list[str]: Relative paths with ``/`` separators.
    """
    if not gold_parses:
        return legacy_dataset_files(params)
    files = [
        f'{folder}/{i}.tif' for split_ids in scene_ids(params).values()
        for ids in split_ids for i in ids for folder in (IMAGE_DIR, MASK_DIR)
    ]
    for split in SPLITS:
        files += [name.format(split=split) for name in PER_SPLIT_FILES]
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
