"""Segment a list of pairs into PNG files, one row's failure at a time.

Every failure of a row (its fields, reading or decoding its image, the
model on it, writing its files) is that row's error: with
``on_error='stop'`` the run writes the rows before it and stops there, with
``'skip'`` it records the error and goes on. Rows are read and decoded one
batch at a time; when a batch fails as a whole its rows are retried one by
one, so that only the failing row is lost.
"""
import logging
from dataclasses import dataclass, field
from typing import Callable, List, Optional, Sequence, Tuple

import cv2
import numpy as np
from mmengine.logging import print_log

from ..utils.image_io import read_image_rgb
from ..utils.output_paths import check_outputs
from .inferencer import ReferringSegInferencer
from .output_files import png_paths, write_result_pngs
from .pair_list import Entry, Pair, RowError

# What can go wrong with one row; anything else is a bug and propagates.
ROW_ERRORS = (ValueError, TypeError, KeyError, OSError, RuntimeError,
              MemoryError, cv2.error)


@dataclass
class BatchReport:
    """What a run over a list of pairs did.

    Attributes:
        rows (int): Rows in the list.
        written (int): Pairs whose two PNGs were written.
        errors (list[str]): One message per failed row, in row order.
        stopped (bool): Whether ``on_error='stop'`` ended the run at the
            last error.
    """
    rows: int
    written: int = 0
    errors: List[str] = field(default_factory=list)
    stopped: bool = False


def check_batch_outputs(entries: Sequence[Entry],
                        out_dir: str,
                        list_path: str,
                        overwrite: bool = False) -> None:
    """Refuse a run whose outputs would replace inputs or earlier results.

    Args:
        entries (Sequence): Rows from :func:`read_pair_list`.
        out_dir (str): Output folder.
        list_path (str): The list file (an input too).
        overwrite (bool): Whether existing outputs may be replaced.
            Defaults to False.
    """
    pairs = [entry for entry in entries if isinstance(entry, Pair)]
    outputs = [
        path for pair in pairs for path in png_paths(out_dir, pair.name)
    ]
    check_outputs(outputs, [list_path] + [pair.image for pair in pairs],
                  overwrite)


def _segment(inferencer: ReferringSegInferencer,
             items: List[Tuple[Pair, np.ndarray]]) -> List[object]:
    """A result dict or the exception, per item; a failed batch retried."""
    try:
        return inferencer([rgb for _, rgb in items],
                          [pair.text for pair, _ in items],
                          batch_size=len(items),
                          return_vis=True)
    except ROW_ERRORS as err:
        if len(items) == 1:
            return [err]
    return [_segment(inferencer, [item])[0] for item in items]


class _BatchRun:
    """The state of one run: pending decoded rows and the report."""

    def __init__(self, inferencer, out_dir, on_error, overwrite, rows):
        self.inferencer = inferencer
        self.out_dir = out_dir
        self.on_error = on_error
        self.overwrite = overwrite
        self.pending: List[Tuple[Pair, np.ndarray]] = []
        self.report = BatchReport(rows=rows)

    def add(self, entry: Entry,
            bands: Optional[Sequence[int]]) -> Optional[RowError]:
        """Decode a row's image into the pending rows, or return its error."""
        if isinstance(entry, RowError):
            return entry
        try:
            rgb = read_image_rgb(entry.image, bands,
                                 self.inferencer.max_pixels)
        except ROW_ERRORS as err:
            return RowError(entry.row, entry.where, str(err))
        self.pending.append((entry, rgb))
        return None

    def fail(self, error: RowError) -> None:
        self.report.errors.append(str(error))
        if self.on_error == 'stop':
            self.report.stopped = True
        else:
            print_log(
                f'skipped {error}', logger='current', level=logging.WARNING)

    def flush(self) -> None:
        """Segment and write the pending rows, in order."""
        items, self.pending = self.pending, []
        if not items:
            return
        for (pair, _), result in zip(items, _segment(self.inferencer, items)):
            if self.report.stopped:
                return
            try:
                if isinstance(result, Exception):
                    raise result
                write_result_pngs(self.out_dir, pair.name, result,
                                  self.overwrite)
                self.report.written += 1
            except ROW_ERRORS as err:
                self.fail(RowError(pair.row, pair.where, str(err)))


def segment_pair_list(
        inferencer: ReferringSegInferencer,
        entries: Sequence[Entry],
        out_dir: str,
        batch_size: int = 1,
        bands: Optional[Sequence[int]] = None,
        on_error: str = 'stop',
        overwrite: bool = False,
        progress: Optional[Callable[[int], None]] = None) -> BatchReport:
    """Segment every pair and write ``<name>_mask.png`` / ``_overlay.png``.

    Args:
        inferencer (ReferringSegInferencer): The model.
        entries (Sequence): Rows from :func:`read_pair_list`.
        out_dir (str): Existing output folder.
        batch_size (int): Pairs per forward pass. Defaults to 1.
        bands (Sequence[int], optional): Band choice for every image.
            Defaults to None.
        on_error (str): 'stop' at the first failed row, or 'skip' it.
            Defaults to 'stop'.
        overwrite (bool): Replace existing output files. Defaults to False.
        progress (Callable, optional): Called with 1 after each row.
            Defaults to None.

    Returns:
        BatchReport: Rows, pairs written, row errors, whether it stopped.
    """
    if on_error not in ('stop', 'skip'):
        raise ValueError(
            f"on_error must be 'stop' or 'skip', got {on_error!r}")
    run = _BatchRun(inferencer, out_dir, on_error, overwrite, len(entries))
    for entry in entries:
        error = run.add(entry, bands)
        if error is not None:
            run.flush()  # the rows before it come first
            if not run.report.stopped:
                run.fail(error)
        elif len(run.pending) >= batch_size:
            run.flush()
        if run.report.stopped:
            break
        if progress is not None:
            progress(1)
    run.flush()
    return run.report
