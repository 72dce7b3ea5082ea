"""Does CCR's landmark relation term look at the landmark an expression names?

For a model trained with ``model.refiner.relation_prior=True``, runs the
split of its synthetic dataset and compares CCR's landmark map with the
landmark boxes the generator wrote: per test group, the map's mass on the
landmark cells, that of a uniform map, and how often its peak is on the
landmark (``sgsrf_mmseg/analysis/landmark_grounding.py``). Example::

    python tools/analysis/landmark_grounding.py \\
        configs/sgsrf/sgsrf_tiny_synthetic_landmark.py \\
        $(cat work_dirs/sgsrf_tiny_synthetic_landmark/best_checkpoint)
"""
import os.path as osp
import sys
from typing import Optional, Sequence

sys.path.insert(0,
                osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))

from sgsrf_mmseg.analysis.landmark_grounding import (format_landmark_grounding,
                                                     landmark_grounding)
from sgsrf_mmseg.analysis.model_check_tool import (model_check_parser,
                                                   run_model_check)
from sgsrf_mmseg.utils.command_line import run_tool

OUT_NAME = 'landmark_grounding'


def main(argv: Optional[Sequence[str]] = None) -> dict:
    """Command-line entry point; returns the result."""
    parser = model_check_parser(
        __doc__.split('\n')[0], ('val', 'test'), 'test', OUT_NAME)
    return run_model_check(
        parser.parse_args(argv), landmark_grounding, format_landmark_grounding,
        OUT_NAME, argv)


if __name__ == '__main__':
    run_tool(main)
