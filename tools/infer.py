"""Segment what an expression refers to in your own images.

One image::

    python tools/infer.py CONFIG --checkpoint CKPT --image scene.png \\
        --text "the red car" --out-dir out/

A list of pairs (CSV with a header, or JSON lines; fields ``image``,
``text`` and optional ``name``; see ``sgsrf_mmseg/apis/pair_list.py``)::

    python tools/infer.py CONFIG --checkpoint CKPT --batch pairs.csv \\
        --out-dir out/ [--on-error skip]

Each pair writes ``<name>_mask.png`` (0/255) and ``<name>_overlay.png``.

A GeoTIFF scene, tile by tile at full resolution::

    python tools/infer.py CONFIG --checkpoint CKPT --geotiff scene.tif \\
        --text "storage tanks" --out-dir out/ [--tile-size 512 --overlap 128]

writes ``<stem>_mask.tif`` (0/255, the scene's CRS and transform) and
``<stem>.geojson``.

``--explain DIR`` (with ``--image`` or ``--batch``) also writes
``DIR/<name>_stages.png`` per pair: the stages of one forward pass (parse
over the CLIP tokens, each CCR block's attention of each content word, the
grounding cue, GPG's prompts, the adapters' modulation, the mask); the
parse comes from the spaCy pipeline ``--parser`` names (none without it).

``--precision bf16`` runs the model under bfloat16 autocast and
``--precision int8`` with its Linear layers quantized to int8 (CPU only),
for ``--image``, ``--batch`` and ``--geotiff`` alike (see
``sgsrf_mmseg/apis/precision.py``); a precision the machine cannot run is
refused before the model is built, naming what the machine lacks.

Existing outputs are kept unless ``--overwrite`` is given, an output never
replaces an input, and the output folder is locked while the run writes
there. Problems are reported as one ``error:`` line, before the model is
built where they can be: exit status 2 for a usage mistake (an option out
of range, an output that exists or is an input), 1 for a refused input (an
image, a list of pairs, a checkpoint) and for a batch that stops at a row
or writes nothing; ``--debug`` adds the traceback.
"""
import argparse
import os.path as osp
import sys
from typing import List, Optional

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    from mmengine.config import DictAction

    from sgsrf_mmseg.apis.precision import add_precision_argument
    from sgsrf_mmseg.utils.command_line import add_debug_option
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
        '--overwrite',
        action='store_true',
        help='replace outputs that exist (inputs are never replaced)')
    parser.add_argument(
        '--device', help="torch device; default 'cuda' if available")
    add_precision_argument(parser)
    parser.add_argument(
        '--batch-size', type=int, default=1, help='pairs or tiles per pass')
    parser.add_argument(
        '--bands',
        type=int,
        nargs='+',
        help='0-based band indices shown as R G B (or one as grey)')
    parser.add_argument(
        '--max-pixels',
        type=int,
        help='refuse image files with more pixels, from their header '
        '(--image, --batch; default 2**25 = 33554432, e.g. 5792 x 5792; '
        '0 for no limit)')
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
        '--explain',
        metavar='DIR',
        help='also write the stage panels of each pair as DIR/<name>_'
        'stages.png (--image, --batch)')
    parser.add_argument(
        '--parser',
        help='--explain: spaCy pipeline (installed name or folder) that '
        'parses the expressions (default: no parse)')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override settings of the config, key=value')
    add_debug_option(parser)
    args = parser.parse_args(argv)
    if args.batch is None and args.text is None:
        parser.error('--text is required with --image and --geotiff')
    if args.batch is not None and args.text is not None:
        parser.error('--text is not used with --batch (give it per row)')
    if args.parser is not None and args.explain is None:
        parser.error('--parser is used with --explain')
    if args.explain is not None and args.geotiff is not None:
        parser.error('--explain draws the stages of --image and --batch '
                     'pairs, not of a --geotiff scene')
    if args.batch_size < 1:
        parser.error('--batch-size must be at least 1')
    if args.bands is not None and (len(args.bands) not in (1, 3)
                                   or min(args.bands) < 0):
        parser.error('--bands takes 1 or 3 band indices, 0-based (>= 0), '
                     f'got {" ".join(map(str, args.bands))}')
    if args.max_pixels is not None and args.max_pixels < 0:
        parser.error('--max-pixels must be positive (0 for no limit)')
    if args.tile_size is not None and args.tile_size < 1:
        parser.error(f'--tile-size must be at least 1, got {args.tile_size}')
    if args.overlap is not None and not 0 <= args.overlap < (args.tile_size
                                                             or float('inf')):
        parser.error('--overlap must be >= 0 and smaller than --tile-size, '
                     f'got {args.overlap}')
    return args


def main(argv: Optional[List[str]] = None) -> int:
    args = parse_args(argv)
    from mmengine.logging import print_log

    from sgsrf_mmseg.apis.infer_run import InferRun
    run = InferRun(args)
    try:
        run.check_inputs()
        run.build_model()
        code, message = run.run()
    finally:
        run.close()
    if code:
        print(f'error: {message}', file=sys.stderr)
    else:
        print_log(message, logger='current')
    return code


if __name__ == '__main__':
    from sgsrf_mmseg.utils.command_line import run_tool
    run_tool(main)
