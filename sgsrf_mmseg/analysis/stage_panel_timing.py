"""What the stage panels add to a request: time a plain request and one
with the panels on the same model, image and expression.

A plain request is what the web page does for a result
(:meth:`ReferringSegInferencer.__call__` with the overlay); the panels are
one more forward pass with the attention maps kept
(:func:`~sgsrf_mmseg.apis.explain_expression`) and their HTML
(:func:`~sgsrf_mmseg.visualization.stage_html`), which the page computes
only when its "How it decided" section is opened.
"""
import statistics
import time
from typing import Callable, Dict, Optional, Sequence

from ..apis import ExpressionParser, ReferringSegInferencer, explain_expression
from ..utils.portable_paths import PortablePaths
from ..visualization import stage_html


def _seconds(call: Callable[[], object]) -> float:
    start = time.perf_counter()
    call()
    return time.perf_counter() - start


def time_stage_panels(inferencer: ReferringSegInferencer,
                      image: str,
                      expression: str,
                      parser: Optional[ExpressionParser] = None,
                      repeat: int = 20,
                      warmup: int = 3) -> Dict[str, float]:
    """Median seconds of a plain request and of the stage panels.

    Args:
        inferencer (ReferringSegInferencer): The model.
        image (str): Image file.
        expression (str): The expression.
        parser (ExpressionParser, optional): Parses it. Defaults to None.
        repeat (int): Timed runs of each. Defaults to 20.
        warmup (int): Untimed runs of each first. Defaults to 3.

    Returns:
        dict: ``request_s`` (plain), ``panels_s`` (the pass and the HTML,
        what opening the section costs), ``trace_s`` (the pass alone),
        ``html_s`` (the drawing alone); medians.
    """

    def plain():
        inferencer(image, expression, return_vis=True)

    def trace():
        return explain_expression(inferencer, image, expression, parser)

    panels = trace()
    for _ in range(warmup):
        plain()
        trace()
        stage_html(panels)
    # Interleaved, so that both see the same load of a shared machine.
    request, traced, drawn = [], [], []
    for _ in range(repeat):
        request.append(_seconds(plain))
        traced.append(_seconds(trace))
        drawn.append(_seconds(lambda: stage_html(panels)))
    both = [t + d for t, d in zip(traced, drawn)]
    return dict(
        request_s=statistics.median(request),
        panels_s=statistics.median(both),
        trace_s=statistics.median(traced),
        html_s=statistics.median(drawn))


def render_timing_block(times: Dict[str, float], command: Sequence[str],
                        setting: str) -> str:
    """The README block of a timing run.

    Args:
        times (dict): Output of :func:`time_stage_panels`.
        command (Sequence[str]): The command that measured them (its
            arguments), written with paths relative to the repository.
        setting (str): Model, device and threads, in words.

    Returns:
        str: Markdown.
    """
    request, panels = times['request_s'], times['panels_s']
    paths = PortablePaths()
    command = paths.command(command)
    block = '\n'.join([
        '', '| request | median time |', '|---|---:|',
        f'| plain (mask, score, overlay) | {1000 * request:.0f} ms |',
        f'| "How it decided" opened: the stage panels | '
        f'{1000 * panels:.0f} ms |',
        f'| of which the forward pass with the attention kept | '
        f'{1000 * times["trace_s"]:.0f} ms |',
        f'| of which drawing the panels (HTML) | '
        f'{1000 * times["html_s"]:.0f} ms |', '',
        f'{setting}. A plain request computes no panel (0 ms extra); '
        f'opening the section costs {panels / request:.2f}x a plain request, '
        'once per expression looked at.', '', 'Produced by:', '',
        f'- `{command}`', ''
    ])
    return paths.refuse_absolute(block, 'the stage-panel timing block')
