"""Segment what an expression refers to in your own images.

One image::

    python tools/infer.py CONFIG --checkpoint CKPT --image scene.png \\
        --text "the red car" --out-dir out/

A list of pairs (CSV with a header, or JSON lines; fields ``image``,
``text`` and optional ``name``; relative image paths are read from the
list's folder)::

    python tools/infer.py CONFIG --checkpoint CKPT --batch pairs.csv \\
        --out-dir out/ [--on-error skip]

Each pair writes ``<name>_mask.png`` (0/255) and ``<name>_overlay.png``
(mask, outline and expression); ``name`` defaults to the image's file name
without extension, with ``_<row>`` added when an earlier row used it.

A GeoTIFF scene, tile by tile at full resolution::

    python tools/infer.py CONFIG --checkpoint CKPT --geotiff scene.tif \\
        --text "storage tanks" --out-dir out/ [--tile-size 512 --overlap 128]

writes ``<stem>_mask.tif`` (0/255, the scene's CRS and transform) and
``<stem>.geojson``.
"""
import argparse
import csv
import json
import logging
import os
import os.path as osp
import sys
from typing import Iterator, List, Optional, Tuple

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

import cv2  # noqa: E402
import numpy as np  # noqa: E402
from mmengine.config import DictAction  # noqa: E402
from mmengine.logging import print_log  # noqa: E402

import sgsrf_mmseg  # noqa: E402,F401
from sgsrf_mmseg.apis import (ReferringSegInferencer,  # noqa: E402
                              clean_expression)
from sgsrf_mmseg.utils.image_io import read_image_rgb  # noqa: E402

# Errors of one pair (bad field, unreadable image) that --on-error handles.
PAIR_ERRORS = (ValueError, TypeError, KeyError, OSError)


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Referring segmentation of your own images')
    parser.add_argument('config', help='config file')
    parser.add_argument(
        '--checkpoint',
        help='checkpoint file (without one the model has random weights)')
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument('--image', help='one image file')
    source.add_argument(
        '--batch', help='CSV or JSONL list of pairs (image, text[, name])')
    source.add_argument('--geotiff', help='a GeoTIFF scene, segmented tiled')
    parser.add_argument(
        '--text', help='the referring expression (--image, --geotiff)')
    parser.add_argument('--out-dir', required=True, help='output folder')
    parser.add_argument(
        '--device', help="torch device; default 'cuda' if available")
    parser.add_argument(
        '--batch-size', type=int, default=1, help='pairs or tiles per pass')
    parser.add_argument(
        '--bands',
        type=int,
        nargs='+',
        help='0-based band indices shown as R G B (or one as grey)')
    parser.add_argument(
        '--on-error',
        choices=['stop', 'skip'],
        default='stop',
        help='--batch: stop at the first bad row, or report and skip it')
    parser.add_argument(
        '--tile-size',
        type=int,
        help='--geotiff: tile side (default: the model input size)')
    parser.add_argument(
        '--overlap',
        type=int,
        help='--geotiff: overlap of tiles (default: a quarter tile)')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override settings of the config, key=value')
    args = parser.parse_args(argv)
    if args.batch is None and args.text is None:
        parser.error('--text is required with --image and --geotiff')
    if args.batch is not None and args.text is not None:
        parser.error('--text is not used with --batch (give it per row)')
    if args.batch_size < 1:
        parser.error('--batch-size must be at least 1')
    return args


def write_pngs(out_dir: str, name: str, result: dict) -> None:
    """Write ``<name>_mask.png`` (0/255) and ``<name>_overlay.png``."""
    mask_path = osp.join(out_dir, f'{name}_mask.png')
    overlay_path = osp.join(out_dir, f'{name}_overlay.png')
    overlay = np.ascontiguousarray(result['visualization'][..., ::-1])
    if not (cv2.imwrite(mask_path, result['mask'] * 255)
            and cv2.imwrite(overlay_path, overlay)):
        raise OSError(f'could not write {mask_path} / {overlay_path}')


def read_rows(path: str) -> Iterator[Tuple[int, dict]]:
    """(line number, row) of a CSV (with header) or JSON-lines file."""
    if osp.splitext(path)[1].lower() in ('.jsonl', '.ndjson'):
        with open(path, encoding='utf-8-sig') as f:
            for line_no, line in enumerate(f, 1):
                if not line.strip():
                    continue
                try:
                    row = json.loads(line)
                except json.JSONDecodeError as err:
                    row = err
                yield line_no, row
    else:
        with open(path, encoding='utf-8-sig', newline='') as f:
            reader = csv.DictReader(f)
            for row in reader:
                yield reader.line_num, row


def check_row(row, base_dir: str, used: set, row_no: int,
              bands: Optional[List[int]]) -> dict:
    """Validate one row; return its image array, text and output name."""
    if isinstance(row, Exception):
        raise ValueError(f'not valid JSON: {row}')
    if not isinstance(row, dict):
        raise ValueError('a row must be an object with image and text')
    for key in ('image', 'text'):
        if row.get(key) in (None, ''):
            raise ValueError(f'field {key!r} is missing or empty')
    text = clean_expression(row['text'], field='text')
    image_path = osp.join(base_dir, os.fspath(row['image']))
    name = row.get('name') or osp.splitext(osp.basename(image_path))[0]
    name = str(name)
    if name != osp.basename(name) or name in ('.', '..'):
        raise ValueError(f'field name={name!r} must be a plain file name')
    while name in used:
        name = f'{name}_{row_no}'
    return dict(
        image=read_image_rgb(image_path, bands), text=text, name=name)


def progress(total: int):
    """A tqdm bar, or None when tqdm is not installed."""
    try:
        from tqdm import tqdm
    except ImportError:
        return None
    return tqdm(total=total, unit='pair')


def run_batch(inferencer: ReferringSegInferencer,
              args: argparse.Namespace) -> int:
    """Segment every row of ``args.batch``; return the exit code."""
    base_dir = osp.dirname(osp.abspath(args.batch))
    rows = list(read_rows(args.batch))
    bar = progress(len(rows))
    used, failed, pending = set(), [], []
    written = 0

    def flush():
        nonlocal written
        if not pending:
            return
        results = inferencer([p['image'] for p in pending],
                             [p['text'] for p in pending],
                             batch_size=args.batch_size,
                             return_vis=True)
        for item, result in zip(pending, results):
            write_pngs(args.out_dir, item['name'], result)
            written += 1
        pending.clear()

    for row_no, (line_no, row) in enumerate(rows, 1):
        try:
            item = check_row(row, base_dir, used, row_no, args.bands)
        except PAIR_ERRORS as err:
            message = f'row {row_no} ({args.batch} line {line_no}): {err}'
            if args.on_error == 'stop':
                flush()
                if bar is not None:
                    bar.close()
                print(
                    f'error: stopped at {message} ({written} pairs written); '
                    'use --on-error skip to go on',
                    file=sys.stderr)
                return 1
            failed.append(message)
            print_log(f'skipped {message}', logger='current',
                      level=logging.WARNING)
        else:
            used.add(item['name'])
            pending.append(item)
            if len(pending) >= args.batch_size:
                flush()
        if bar is not None:
            bar.update(1)
        elif row_no % 10 == 0 or row_no == len(rows):
            print_log(f'{row_no}/{len(rows)} rows', logger='current')
    flush()
    if bar is not None:
        bar.close()
    summary = [f'{len(rows)} rows: {written} written to {args.out_dir}, '
               f'{len(failed)} skipped']
    print_log('\n'.join(summary + failed), logger='current')
    return 0


def check_inputs(args: argparse.Namespace) -> Optional[np.ndarray]:
    """Fail before the model is built; return the image of --image."""
    if args.text is not None:
        args.text = clean_expression(args.text, field='--text')
    if args.batch is not None and not osp.isfile(args.batch):
        raise FileNotFoundError(f'list of pairs not found: {args.batch}')
    if args.geotiff is not None and not osp.isfile(args.geotiff):
        raise FileNotFoundError(f'GeoTIFF not found: {args.geotiff}')
    if args.image is not None:
        return read_image_rgb(args.image, args.bands)
    return None


def main(argv: Optional[List[str]] = None) -> int:
    args = parse_args(argv)
    try:
        image = check_inputs(args)
    except PAIR_ERRORS as err:
        print(f'error: {err}', file=sys.stderr)
        return 2
    os.makedirs(args.out_dir, exist_ok=True)
    inferencer = ReferringSegInferencer(
        args.config,
        args.checkpoint,
        device=args.device,
        cfg_options=args.cfg_options)
    if args.batch is not None:
        return run_batch(inferencer, args)
    if args.geotiff is not None:
        stem = osp.splitext(osp.basename(args.geotiff))[0]
        summary = inferencer.segment_geotiff(
            args.geotiff,
            args.text,
            osp.join(args.out_dir, f'{stem}_mask.tif'),
            osp.join(args.out_dir, f'{stem}.geojson'),
            tile_size=args.tile_size,
            overlap=args.overlap,
            batch_size=args.batch_size,
            bands=args.bands)
        print_log(
            f"{summary['num_tiles']} tiles, {summary['target_pixels']} "
            f"target pixels, {summary['num_polygons']} polygons: "
            f"{summary['mask_path']}, {summary['geojson_path']}",
            logger='current')
        return 0
    result = inferencer(image, args.text, return_vis=True)
    stem = osp.splitext(osp.basename(args.image))[0]
    write_pngs(args.out_dir, stem, result)
    print_log(
        f"{stem}: {int(result['mask'].sum())} target pixels, score "
        f"{result['score']:.3f} -> {args.out_dir}",
        logger='current')
    return 0


if __name__ == '__main__':
    sys.exit(main())
