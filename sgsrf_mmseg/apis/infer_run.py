"""The steps of ``tools/infer.py``: check everything, then build, then run.

Everything that can be checked without the model is checked first, so a
mistake costs no model build: the expression, the output folder (created,
writable, locked against a second run, no output that would replace an
input or, without ``overwrite``, an earlier output), the image (its header,
size and bands), the list of pairs (encoding, header, every row's fields
and output name; with ``on_error='stop'`` the bad rows are all listed now
and nothing is segmented) or the GeoTIFF (its header and bands, and the
tile size against the scene and the model input), the precision against
the device, and the checkpoint (read before the model is built).
"""
import argparse
import os.path as osp
from typing import Tuple

from mmengine.config import Config

from ..models.input_geometry import model_input_size
from ..utils.expression import clean_expression
from ..utils.folder_lock import FolderLock
from ..utils.image_header import DEFAULT_MAX_PIXELS
from ..utils.image_io import read_image_rgb
from ..utils.output_paths import check_outputs
from .batch_inference import check_batch_outputs, segment_pair_list
from .geo import check_raster
from .inferencer import ReferringSegInferencer
from .output_files import (check_output_name, png_paths, prepare_out_dir,
                           write_result_pngs)
from .pair_list import Pair, PairListError, RowError, read_pair_list
from .precision import check_precision, default_device
from .stage_explain import ExpressionParser, explain_pairs, stage_figure_path
from .tile_sizes import check_tiling


def _progress(total: int):
    """A tqdm bar, or None when tqdm is not installed."""
    try:
        from tqdm import tqdm
    except ImportError:
        return None
    return tqdm(total=total, unit='pair')


class InferRun:
    """One run of ``tools/infer.py``.

    Args:
        args (argparse.Namespace): The tool's options: ``config``,
            ``checkpoint``, one of ``image``/``batch``/``geotiff``,
            ``text``, ``out_dir``, ``overwrite``, ``device``, ``batch_size``,
            ``bands``, ``max_pixels`` (None: the default of
            :mod:`~sgsrf_mmseg.utils.image_header`, 0: no limit), ``on_error``,
            ``tile_size``, ``overlap``, ``cfg_options``, ``explain``
            (a folder for the stage figures, or None), ``parser`` and
            ``precision`` (absent: fp32).
    """

    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.max_pixels = DEFAULT_MAX_PIXELS if args.max_pixels is None \
            else args.max_pixels or None
        self.out_dir = osp.abspath(args.out_dir)
        self.lock = FolderLock(self.out_dir, role='output folder')
        self.inferencer = None
        self.text = None
        self.image = None  # --image: the decoded image
        self.name = None  # --image: the output name
        self.entries = None  # --batch: the rows
        self.geo_outputs = None  # --geotiff: mask and GeoJSON paths
        self.explain_dir = None  # --explain: the stage figures' folder
        self.parser = None  # --parser: parses for the stage figures
        self.precision = getattr(args, 'precision', 'fp32')

    def check_inputs(self) -> None:
        """Check the inputs, then take the output folder, before the model."""
        args = self.args
        check_precision(self.precision, default_device(args.device))
        if args.text is not None:
            self.text = clean_expression(args.text, field='--text')
        if args.image is not None:
            self.image = read_image_rgb(args.image, args.bands,
                                        self.max_pixels)
            self.name = check_output_name(
                osp.splitext(osp.basename(args.image))[0], 'image file name')
        elif args.batch is not None:
            self._check_pair_list()
        else:
            self._check_tiling(check_raster(args.geotiff, args.bands))
            stem = osp.splitext(osp.basename(args.geotiff))[0]
            self.geo_outputs = (osp.join(self.out_dir, f'{stem}_mask.tif'),
                                osp.join(self.out_dir, f'{stem}.geojson'))
        prepare_out_dir(self.out_dir)
        if getattr(args, 'explain', None):
            if args.geotiff is not None:
                raise ValueError('--explain draws the stages of --image and '
                                 '--batch pairs, not of a --geotiff scene')
            self.explain_dir = prepare_out_dir(args.explain)
            if args.parser:
                self.parser = ExpressionParser(args.parser)
        self.lock.acquire()  # before looking for earlier outputs
        self._check_stage_figures()
        if args.image is not None:
            check_outputs(
                png_paths(self.out_dir, self.name), [args.image],
                args.overwrite)
        elif args.batch is not None:
            check_batch_outputs(self.entries, self.out_dir, args.batch,
                                args.overwrite)
        else:
            check_outputs(self.geo_outputs, [args.geotiff], args.overwrite)

    def _named_pairs(self) -> list:
        """(name, image, text) of every pair of the run (--image, --batch)."""
        if self.entries is None:
            return [(self.name, self.image, self.text)]
        return [(e.name, e.image, e.text) for e in self.entries
                if isinstance(e, Pair)]

    def _check_stage_figures(self) -> None:
        """Refuse stage figures that would replace inputs or old files."""
        if self.explain_dir is None:
            return
        inputs = [self.args.image or self.args.batch]
        inputs += [
            image for _, image, _ in self._named_pairs()
            if isinstance(image, str)
        ]
        check_outputs([
            stage_figure_path(self.explain_dir, name)
            for name, _, _ in self._named_pairs()
        ], inputs, self.args.overwrite)

    def _write_stage_figures(self, written_only: bool) -> Tuple[int, list]:
        """The stage figures of the pairs (written ones only for a batch)."""
        pairs = [
            pair for pair in self._named_pairs() if not written_only
            or osp.isfile(png_paths(self.out_dir, pair[0])[0])
        ]
        return explain_pairs(self.inferencer, pairs, self.explain_dir,
                             self.parser, self.args.bands, self.args.overwrite,
                             self.args.on_error)

    def _check_tiling(self, scene_size: Tuple[int, int]) -> None:
        """``--tile-size`` and ``--overlap`` against the model input."""
        args = self.args
        cfg = Config.fromfile(args.config)
        if args.cfg_options:
            cfg.merge_from_dict(args.cfg_options)
        input_size = model_input_size(cfg.model)
        tile_size = args.tile_size or max(input_size)
        overlap = tile_size // 4 if args.overlap is None else args.overlap
        check_tiling(tile_size, overlap, input_size, scene_size)

    def _check_pair_list(self) -> None:
        args = self.args
        self.entries = read_pair_list(args.batch)
        if not self.entries:
            raise ValueError(f'list of pairs {args.batch} has no rows')
        errors = [str(e) for e in self.entries if isinstance(e, RowError)]
        if errors and args.on_error == 'stop':
            raise PairListError(
                f'{len(errors)} row(s) of {args.batch} cannot be segmented '
                '(fix them, or use --on-error skip to skip them):\n' +
                '\n'.join(errors))

    def build_model(self) -> None:
        """Build the model and load its checkpoint."""
        args = self.args
        self.inferencer = ReferringSegInferencer(
            args.config,
            args.checkpoint,
            device=args.device,
            cfg_options=args.cfg_options,
            max_pixels=self.max_pixels,
            precision=self.precision)

    def run(self) -> Tuple[int, str]:
        """Segment and write; return the exit code and the closing message.

        Returns:
            tuple[int, str]: 0 and a summary, or 1 and an error message (a
            batch that stopped at a row or wrote nothing).
        """
        if self.entries is not None:
            return self._run_batch()
        if self.image is None:
            return self._run_geotiff()
        result = self.inferencer(self.image, self.text, return_vis=True)
        write_result_pngs(self.out_dir, self.name, result, self.args.overwrite)
        message = (f"{self.name}: {int(result['mask'].sum())} target pixels, "
                   f"score {result['score']:.3f} -> {self.out_dir}")
        if self.explain_dir is None:
            return 0, message
        _, errors = self._write_stage_figures(written_only=False)
        if errors:
            return 1, errors[0]
        return 0, f'{message}; stage figure -> {self.explain_dir}'

    def _run_geotiff(self) -> Tuple[int, str]:
        args = self.args
        summary = self.inferencer.segment_geotiff(
            args.geotiff,
            self.text,
            *self.geo_outputs,
            tile_size=args.tile_size,
            overlap=args.overlap,
            batch_size=args.batch_size,
            bands=args.bands,
            overwrite=args.overwrite)
        return 0, (f"{summary['num_tiles']} tiles, {summary['target_pixels']} "
                   f"target pixels, {summary['num_polygons']} polygons: "
                   f"{summary['mask_path']}, {summary['geojson_path']}")

    def _run_batch(self) -> Tuple[int, str]:
        args = self.args
        bar = _progress(len(self.entries))
        try:
            report = segment_pair_list(
                self.inferencer,
                self.entries,
                self.out_dir,
                batch_size=args.batch_size,
                bands=args.bands,
                on_error=args.on_error,
                overwrite=args.overwrite,
                progress=None if bar is None else bar.update)
        finally:
            if bar is not None:
                bar.close()
        if report.stopped:
            return 1, (f'stopped at {report.errors[-1]} ({report.written} '
                       'pairs written); use --on-error skip to go on')
        lines = [
            f'{report.rows} rows: {report.written} written to '
            f'{self.out_dir}, {len(report.errors)} skipped'
        ] + report.errors
        if self.explain_dir is not None:
            figures, errors = self._write_stage_figures(written_only=True)
            lines += [
                f'{figures} stage figures written to '
                f'{self.explain_dir}'
            ] + errors
            if errors and args.on_error == 'stop':
                return 1, '\n'.join(lines)
        if report.written == 0:
            return 1, 'no pair written: ' + '\n'.join(lines)
        return 0, '\n'.join(lines)

    def close(self) -> None:
        """Release the output folder."""
        self.lock.release()
