"""A local web page to try a referring segmentation model.

    python tools/demo_app.py CONFIG [--checkpoint CKPT] [--port 7860] \\
        [--host 127.0.0.1] [--device cuda] [--parser en_core_web_sm] \\
        [--precision int8]

Needs the ``demo`` extra (``pip install -e ".[demo]"``). The page runs the
model on this machine (CUDA when available) and is served on 127.0.0.1
(this machine only) unless ``--host`` says otherwise; the start-up line
says where to open it. ``--parser`` names the spaCy pipeline (installed
name or folder) that parses the expressions for the "How it decided"
panels; without it the panels show no tree. ``--precision bf16`` or
``int8`` (CPU only) runs the model in that precision (see
``sgsrf_mmseg/apis/precision.py``); a precision the machine cannot run is
refused at start-up, naming what the machine lacks.
"""
import argparse
import os.path as osp
import sys
from typing import List, Optional

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

import sgsrf_mmseg  # noqa: F401
from sgsrf_mmseg.apis import ExpressionParser, ReferringSegInferencer
from sgsrf_mmseg.apis.precision import add_precision_argument
from sgsrf_mmseg.utils.command_line import (UsageError, add_debug_option,
                                            int_range, run_tool)
from sgsrf_mmseg.webapp import DemoService


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Web demo of referring segmentation')
    parser.add_argument('config', help='config file')
    parser.add_argument(
        '--checkpoint',
        help='checkpoint file (without one the model has random weights)')
    parser.add_argument(
        '--port', type=int_range(1, 65535), default=7860, help='port')
    parser.add_argument(
        '--host',
        default='127.0.0.1',
        help='address to bind (default: this machine only; 0.0.0.0 serves '
        'the network)')
    parser.add_argument(
        '--device', help="torch device; default 'cuda' if available")
    add_precision_argument(parser)
    parser.add_argument(
        '--parser',
        help='spaCy pipeline (installed name or folder) parsing the '
        'expressions for the "How it decided" panels (default: no parse)')
    add_debug_option(parser)
    return parser.parse_args(argv)


def main(argv: Optional[List[str]] = None) -> int:
    args = parse_args(argv)
    from sgsrf_mmseg.webapp.page import launch_demo
    try:
        parser = ExpressionParser(args.parser) if args.parser else None
    except (OSError, ValueError) as err:
        raise UsageError(f'--parser {args.parser}: {err}') from None
    inferencer = ReferringSegInferencer(
        args.config,
        args.checkpoint,
        device=args.device,
        precision=args.precision)
    service = DemoService(inferencer, parser=parser, debug=args.debug)
    try:
        launch_demo(service, args.config, args.checkpoint, args.host,
                    args.port)
    except OSError as err:
        raise OSError(f'cannot serve on {args.host}:{args.port} ({err}); is '
                      'another server using it? pick another --port') from err
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == '__main__':
    run_tool(main)
