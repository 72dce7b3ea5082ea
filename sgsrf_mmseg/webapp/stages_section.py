"""The "How it decided" section of the web page (Gradio components).

A closed accordion under the image tab's result. Opening it (or picking
another expression of the last result in it) runs the stage panels of the
picked expression, one expression at a time; a new result closes it and
empties it, so the panels are computed only for someone who looks at them
and a plain request costs what it did before.
"""
import html
import time
from dataclasses import dataclass
from typing import Callable, List, Optional, Tuple

import gradio as gr

from ..visualization import stage_html
from .service import DemoService

OPEN_HINT = ('<p>Segment an image first, then open this section to see the '
             'stages of one expression.</p>')


@dataclass
class StagesSection:
    """The section's components.

    Attributes:
        accordion (gr.Accordion): The section (closed at first).
        which (gr.Dropdown): The expression to explain.
        panels (gr.HTML): The stage panels.
        last (gr.State): ``(image path, expressions)`` of the last result.
    """
    accordion: 'gr.Accordion'
    which: 'gr.Dropdown'
    panels: 'gr.HTML'
    last: 'gr.State'

    @property
    def outputs(self) -> list:
        """What a new result updates, in the order of :meth:`cleared`."""
        return [self.last, self.accordion, self.which, self.panels]

    @staticmethod
    def cleared(image_path: Optional[str], texts: List[str]) -> tuple:
        """Updates for a new result: remember it, close and empty."""
        last = (image_path, list(texts)) if texts else None
        return (last, gr.Accordion(open=False),
                gr.Dropdown(
                    choices=list(texts),
                    value=texts[0] if texts else None), '')


def panels_html(service: DemoService, last: Optional[Tuple[str, List[str]]],
                text: Optional[str]) -> str:
    """The panels of ``text`` on the last result's image, timed.

    Args:
        service (DemoService): Runs the model.
        last (tuple, optional): ``(image path, expressions)``.
        text (str, optional): The expression to explain.

    Returns:
        str: HTML: the panels and how long they took.
    """
    if not last or not text:
        return OPEN_HINT
    panels, model_seconds = service.explain(last[0], text)
    start = time.perf_counter()
    fragment = stage_html(panels, 'stage-panels')
    drawing = time.perf_counter() - start
    device = html.escape(str(service.inferencer.device))
    return (f'{fragment}<p class="sgsrf-stage-time">Stage panels: '
            f'{model_seconds + drawing:.2f} s on {device} (one forward '
            f'pass with the attention maps kept, {model_seconds:.2f} s; '
            f'drawing, {drawing:.2f} s).</p>')


def stages_section(service: DemoService,
                   error_html: Callable[[Exception], str]) -> StagesSection:
    """Build the section (inside a Blocks) and wire its events.

    Args:
        service (DemoService): Runs the model.
        error_html (Callable): The page's message for a failed request.

    Returns:
        StagesSection: Its components; the caller sends new results to
        :attr:`StagesSection.outputs`.
    """
    with gr.Accordion(
            'How it decided', open=False,
            elem_id='how-it-decided') as accordion:
        gr.Markdown(
            'The stages of one forward pass for one expression: its '
            'dependency parse over the CLIP tokens the text tower read, '
            "where each CCR block writes each content word into the image "
            '(patch<-word attention), the grounding cue G, the prompts GPG '
            "made, the grounding adapters' modulation in SAM's encoder and "
            'the final mask.')
        which = gr.Dropdown(
            choices=[],
            label='Expression',
            interactive=True,
            elem_id='explain-expression')
        panels = gr.HTML(OPEN_HINT, elem_id='stages')
    last = gr.State(None)

    def explain(remembered, text):
        try:
            return panels_html(service, remembered, text)
        except Exception as err:  # every error becomes a message on the page
            return error_html(err)

    for event in (accordion.expand, which.input):
        event(
            explain, [last, which], [panels],
            show_progress_on=panels,
            concurrency_id='model')
    return StagesSection(accordion, which, panels, last)
