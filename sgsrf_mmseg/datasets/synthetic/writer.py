"""Writing the synthetic dataset into a folder, safely.

The files are written in the RefSegRS layout (``images/<id>.tif``,
``masks/<id>.tif`` with 0/255, ``output_phrase_{train,val,test}.txt``) and
read back through :class:`RefSegRSDataset`. Beside each phrase file,
``output_phrase_{split}.gold_parses.json`` holds the gold dependency tree
of every expression (the shared parse file format: ``format``, ``parser:
'gold'``, ``parses`` keyed by the expression).

The generator writes only into a folder that is missing, empty or marked as
its own (:mod:`.marker`); regenerating removes only the files its marker
lists, never whole folders, and never replaces a file it did not write.
"""
import fcntl
import json
import os
import os.path as osp
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Dict, Iterator, Optional

import cv2
import numpy as np
from mmengine.logging import print_log

from ...utils.dependency_parse import DependencyParse
from .layout import (GOLD_PARSE_FILE, IMAGE_DIR, MASK_DIR, PHRASE_FILE,
                     dataset_files)
from .marker import (GENERATOR_NAME, LOCK_FILE, ForeignDataError, read_marker,
                     write_marker)
from .params import GENERATOR_VERSION, GeneratorParams
from .scene import generate_scene
from .vocabulary import HELD_OUT_COMBOS, KIND_COLOURS, KINDS

#: Part of each scene's random seed that says its split.
SPLIT_CODES = {'train': 0, 'val': 1, 'test': 2}


def _write_pair(root: str, name: str, image: np.ndarray,
                mask: np.ndarray) -> None:
    # images uncompressed (noise compresses badly and slowly), masks LZW
    path_img = osp.join(root, IMAGE_DIR, name + '.tif')
    path_mask = osp.join(root, MASK_DIR, name + '.tif')
    if not cv2.imwrite(path_img, cv2.cvtColor(image, cv2.COLOR_RGB2BGR),
                       [cv2.IMWRITE_TIFF_COMPRESSION, 1]):
        raise OSError(f'cannot write {path_img}')
    if not cv2.imwrite(path_mask, mask, [cv2.IMWRITE_TIFF_COMPRESSION, 5]):
        raise OSError(f'cannot write {path_mask}')


def _write_gold_parses(path: str, parses: Dict[str, DependencyParse]) -> None:
    """A parse file with one expression per line."""
    entries = ',\n'.join(f'  {json.dumps(text)}: {json.dumps(parse.to_dict())}'
                         for text, parse in parses.items())
    with open(path, 'w', encoding='utf-8') as f:
        f.write('{"format": 1, "parser": "gold", "parses": {\n' + entries +
                '\n}}\n')


def _write_split(root: str, params: GeneratorParams, split: str, first_id: int,
                 pool: ThreadPoolExecutor) -> dict:
    """Generate and write the scenes of a split; return its statistics."""
    lines, parses, held_out_ids, jobs = [], {}, [], []
    types, object_combos, target_combos = Counter(), set(), set()
    for i in range(params.split_sizes[split]):
        rng = np.random.default_rng([params.seed, SPLIT_CODES[split], i])
        scene = generate_scene(rng, params.image_size, split)
        name = str(first_id + i)
        jobs.append(
            pool.submit(_write_pair, root, name, scene.image, scene.mask))
        for phrase in scene.phrases:
            lines.append(f'{name} {phrase.text}')
            parses[phrase.text] = phrase.to_parse()
        types[scene.record['type']] += 1
        object_combos.update(scene.record['object_combos'])
        target_combos.update(scene.record['target_combos'])
        if set(scene.record['target_combos']) & set(HELD_OUT_COMBOS):
            held_out_ids.append(name)
    for job in jobs:
        job.result()
    with open(
            osp.join(root, PHRASE_FILE.format(split=split)), 'w',
            encoding='utf-8') as f:
        f.write('\n'.join(lines) + ('\n' if lines else ''))
    _write_gold_parses(
        osp.join(root, GOLD_PARSE_FILE.format(split=split)), parses)
    return dict(
        images=params.split_sizes[split],
        expressions=len(lines),
        expression_types=dict(sorted(types.items())),
        object_combos=sorted(map(list, object_combos)),
        target_combos=sorted(map(list, target_combos)),
        held_out_target_ids=held_out_ids)


def _clear(root: str, previous: Optional[dict], files: list) -> None:
    """Remove the files of the previous dataset; refuse to replace others."""
    listed = set(previous['files']) if previous else set()
    clash = [
        f for f in files if f not in listed and osp.lexists(osp.join(root, f))
    ]
    if clash:
        raise ForeignDataError(
            f'refusing to write the synthetic dataset into {root}: '
            f'{len(clash)} file(s) it would write are there and were not '
            f'written by the generator ({", ".join(clash[:5])}'
            f'{" ..." if len(clash) > 5 else ""}). Nothing was written; '
            f'move them away or choose another folder.')
    if previous:
        write_marker(root, dict(previous, complete=False))
        removed = 0
        for name in previous['files']:
            if osp.lexists(osp.join(root, name)):
                os.remove(osp.join(root, name))
                removed += 1
        print_log(
            f'removed {removed} file(s) of the previous synthetic dataset '
            f'in {root}',
            logger='current')


def _generate(root: str, params: GeneratorParams) -> dict:
    """Write the dataset; the caller holds the generation lock."""
    files = dataset_files(params)
    _clear(root, read_marker(root), files)
    header = dict(
        generator=GENERATOR_NAME,
        version=GENERATOR_VERSION,
        complete=False,
        params=params.to_dict())
    write_marker(root, dict(header, files=files))
    for sub in (IMAGE_DIR, MASK_DIR):
        os.makedirs(osp.join(root, sub), exist_ok=True)
    stats, first_id = {}, 0
    with ThreadPoolExecutor(max_workers=2) as pool:
        for split in params.split_sizes:
            stats[split] = _write_split(root, params, split, first_id, pool)
            first_id += params.split_sizes[split]
    marker = dict(
        header,
        complete=True,
        layout='RefSegRS',
        kinds=list(KINDS),
        kind_colours={
            k: list(v)
            for k, v in KIND_COLOURS.items()
        },
        held_out_combos=[list(c) for c in HELD_OUT_COMBOS],
        splits=stats,
        files=files)
    write_marker(root, marker)
    return marker


@contextmanager
def _generation_lock(root: str) -> Iterator[None]:
    """Hold the folder's lock; refuse a foreign folder before writing."""
    read_marker(root)
    os.makedirs(root, exist_ok=True)
    with open(osp.join(root, LOCK_FILE), 'w') as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def generate_synthetic_dataset(root: str, **params) -> dict:
    """Generate the synthetic dataset in the RefSegRS layout under ``root``.

    Deterministic: the same parameters give the same files. Ids are
    consecutive integers over train, val and test; each image has one
    target mask (one or several objects) and one or two expressions
    (lines sharing the id). A previous dataset of the generator in ``root``
    is replaced (only the files its marker lists are removed).

    Args:
        root (str): Output folder: missing, empty, or written by the
            generator.
        **params: Fields of :class:`GeneratorParams` (the others take their
            defaults).

    Returns:
        dict: The content written to ``synthetic_info.json``.

    Raises:
        ForeignDataError: ``root`` holds files the generator did not write
            (nothing is written then).
    """
    params = GeneratorParams.from_dict(params)
    with _generation_lock(root):
        return _generate(root, params)


def _reason_to_generate(root: str, marker: Optional[dict],
                        params: GeneratorParams) -> Optional[str]:
    """Why ``root`` must be generated again; None if it is up to date."""
    if marker is None:
        return 'no dataset there yet'
    if marker.get('version') != GENERATOR_VERSION or marker.get(
            'generator') != GENERATOR_NAME:
        return 'it was written by another generator version'
    if not marker.get('complete'):
        return 'the previous generation did not finish'
    if marker.get('params') != params.to_dict():
        return 'it was generated with other parameters'
    missing = [f for f in marker['files'] if not osp.exists(osp.join(root, f))]
    if missing:
        return f'{len(missing)} of its files are missing ({missing[0]}, ...)'
    return None


def ensure_synthetic_dataset(root: str, **params) -> dict:
    """Generate the synthetic dataset unless ``root`` already holds it.

    The dataset is reused when its marker records the same parameters and
    generator version, the generation finished and every listed file is
    there; otherwise it is generated again (see
    :func:`generate_synthetic_dataset`). A file lock in ``root`` makes
    concurrent processes generate once.

    Args:
        root (str): Dataset folder: missing, empty, or written by the
            generator.
        **params: Fields of :class:`GeneratorParams`.

    Returns:
        dict: The dataset's ``synthetic_info.json`` content.

    Raises:
        ForeignDataError: ``root`` holds files the generator did not write.
    """
    params = GeneratorParams.from_dict(params)
    with _generation_lock(root):
        marker = read_marker(root)
        reason = _reason_to_generate(root, marker, params)
        if reason is None:
            return marker
        sizes = params.split_sizes
        print_log(
            f'generating the synthetic dataset in {root} ({reason}): '
            f'{sizes["train"]} train, {sizes["val"]} val, {sizes["test"]} '
            f'test images of {params.image_size} px',
            logger='current')
        return _generate(root, params)
