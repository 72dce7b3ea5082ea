"""Stage figures of the test batches, written while the test runs."""
import os
import os.path as osp
from typing import Optional, Sequence

from mmengine.hooks import Hook

from .stage_explain import stage_figure_path, write_stage_figure
from .stage_trace import NO_PARSE, trace_stages


def sample_name(metainfo: dict) -> str:
    """``<image stem>_<ref_id>_<sent_id>`` of a test sample."""
    stem = osp.splitext(osp.basename(metainfo.get('img_path', 'image')))[0]
    return f"{stem}_{metainfo.get('ref_id')}_{metainfo.get('sent_id')}"


class StageFigureHook(Hook):
    """Write the stage panels of every ``interval``-th test batch.

    The batches are those ``SegVisualizationHook`` draws with the same
    interval (``tools/test.py --show-dir DIR --show-stages``). Each is run
    once more through :func:`~.stage_trace.trace_stages` (the scored pass
    is left as it was: the metric has read it already), and one figure per
    expression is written to ``out_dir/<stem>_<ref_id>_<sent_id>_stages.png``.

    Args:
        out_dir (str): Folder of the figures (created).
        interval (int): Every this many test batches. Defaults to 1.
        parse_source (str, optional): Shown where a sample has no parse.
            Defaults to None.
    """
    priority = 'LOW'

    def __init__(self,
                 out_dir: str,
                 interval: int = 1,
                 parse_source: Optional[str] = None) -> None:
        self.out_dir = out_dir
        self.interval = interval
        self.parse_source = parse_source or NO_PARSE
        self.written = 0

    def before_test(self, runner) -> None:
        os.makedirs(self.out_dir, exist_ok=True)

    def after_test_iter(self,
                        runner,
                        batch_idx: int,
                        data_batch: Optional[dict] = None,
                        outputs: Optional[Sequence] = None) -> None:
        if not self.every_n_inner_iters(batch_idx, self.interval):
            return
        model = getattr(runner.model, 'module', runner.model)
        panels = trace_stages(
            model, data_batch, parse_source=self.parse_source)
        for sample, sample_panels in zip(data_batch['data_samples'], panels):
            write_stage_figure(
                stage_figure_path(self.out_dir, sample_name(sample.metainfo)),
                sample_panels,
                overwrite=True)
            self.written += 1
