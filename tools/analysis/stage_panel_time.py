"""Time what the stage panels add to a request of the web page.

Example (the README's number: the tiny model on two CPU cores)::

    python tools/analysis/stage_panel_time.py \\
        configs/sgsrf/sgsrf_tiny_synthetic.py --threads 2 \\
        --target README.md:stage-panel-time

``--target FILE:NAME`` writes the table and the command between the
``<!-- results:NAME -->`` markers of FILE.
"""
import argparse
import os
import os.path as osp
import sys
from functools import partial

sys.path.insert(0,
                osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))

from sgsrf_mmseg.utils.command_line import (add_debug_option, int_range,
                                            run_tool)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Median time of a plain request and of its stage panels')
    parser.add_argument('config', help='config file')
    parser.add_argument('--checkpoint', help='checkpoint (default: random)')
    parser.add_argument(
        '--image', help='image file (default: the first web example)')
    parser.add_argument(
        '--text', help='expression (default: the example\'s first)')
    parser.add_argument('--parser', help='spaCy pipeline parsing it')
    parser.add_argument(
        '--repeat', type=int_range(1), default=20, help='timed runs')
    parser.add_argument(
        '--threads', type=int, help='torch threads (default: torch\'s)')
    parser.add_argument('--device', default='cpu', help='torch device')
    parser.add_argument(
        '--target',
        metavar='FILE:NAME',
        help='write the table into the results:NAME block of FILE')
    add_debug_option(parser)
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    import torch

    from sgsrf_mmseg.analysis.document_blocks import (replace_marker_block,
                                                      update_document)
    from sgsrf_mmseg.analysis.stage_panel_timing import (render_timing_block,
                                                         time_stage_panels)
    from sgsrf_mmseg.apis import ExpressionParser, ReferringSegInferencer
    from sgsrf_mmseg.webapp.examples import bundled_examples
    if args.threads:
        torch.set_num_threads(args.threads)
    example = bundled_examples()[0]
    image = args.image or example.image
    text = args.text or example.expressions[0]
    inferencer = ReferringSegInferencer(
        args.config, args.checkpoint, device=args.device)
    parser = ExpressionParser(args.parser) if args.parser else None
    times = time_stage_panels(inferencer, image, text, parser, args.repeat)
    load = os.getloadavg()[0]
    print(f'{osp.basename(args.config)} on {args.device}, '
          f'{torch.get_num_threads()} threads, "{text}", median of '
          f'{args.repeat}:')
    print(f'  plain request      {1000 * times["request_s"]:8.1f} ms')
    print(f'  stage panels       {1000 * times["panels_s"]:8.1f} ms '
          f'(pass {1000 * times["trace_s"]:.1f} ms, HTML '
          f'{1000 * times["html_s"]:.1f} ms), '
          f'{times["panels_s"] / times["request_s"]:.2f}x a request, '
          'paid only when "How it decided" is opened')
    if args.target:
        path, _, name = args.target.rpartition(':')
        setting = (f'`{osp.basename(args.config)}`, '
                   f'{"trained" if args.checkpoint else "random"} weights, '
                   f'on {args.device} with {torch.get_num_threads()} '
                   f'threads, "{text}", median of {args.repeat} '
                   'interleaved runs; load average during the run '
                   f'{load:.1f}')
        block = render_timing_block(times, ['python'] + sys.argv, setting)
        update_document(
            path,
            partial(replace_marker_block, name=name, block=block, source=path))
        print(f'{path}: results:{name} written')


if __name__ == '__main__':
    run_tool(main)
