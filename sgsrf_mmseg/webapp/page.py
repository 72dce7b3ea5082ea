"""The web page of the demo (Gradio) over :class:`DemoService`.

Importing this module imports Gradio (``pip install -e ".[demo]"``); the
rest of the package never does.
"""
import html
import logging
import os
import os.path as osp
import traceback
from typing import Optional, Tuple

os.environ.setdefault('GRADIO_ANALYTICS_ENABLED', 'False')
try:
    import gradio as gr
except ImportError as err:  # pragma: no cover - depends on the install
    raise ImportError('the web demo needs gradio: pip install -e ".[demo]" '
                      '(see requirements/demo.txt)') from err

from mmengine.logging import print_log

from ..apis.tile_sizes import tile_size_range
from ..utils.expression import MAX_EXPRESSION_CHARS
from ..visualization import STAGE_CSS
from .examples import (EXAMPLES_DIR, SCENE_EXPRESSION, bundled_examples,
                       write_example_scene)
from .service import DemoInputError, DemoService, ImageResult, SceneResult
from .stages_section import stages_section

CSS = """
.sgsrf-error {color: #b00020; font-weight: 600; white-space: pre-wrap;}
.sgsrf-warning {background: #fff4d6; border: 1px solid #e0a800;
                padding: 8px 12px; border-radius: 6px;}
.sgsrf-swatch {display: inline-block; width: 1em; height: 1em;
               vertical-align: middle; border-radius: 2px;}
#overlay img, #scene-preview img {width: 100%; height: 100%;
                                  object-fit: contain;}
""" + STAGE_CSS
INTRO = """# Referring segmentation of aerial images

Upload an image (PNG, JPEG or TIFF; grey, RGB, RGBA, multi-band or 16-bit:
the band rule of `sgsrf_mmseg.utils.image_io`) or click an example, type
what to segment (one expression per line, each gets its own colour), and
press **Segment**. The image is resized to the model input; segment large
scenes at full resolution in the **GeoTIFF scene** tab."""


def error_html(message: str) -> str:
    """An error message for a status box of the page."""
    escaped = html.escape(message)
    return f'<div class="sgsrf-error" role="alert">{escaped}</div>'


def failure_message(err: Exception, debug: bool = False) -> str:
    """The page's one ``error:`` line for a failed request (input or app).

    Args:
        err (Exception): What the request raised.
        debug (bool): Log the traceback of a failure that is not the
            input's (``tools/demo_app.py --debug``). Defaults to False.

    Returns:
        str: ``'error: <message>'``.
    """
    if isinstance(err, DemoInputError):
        return f'error: {err}'
    detail = f':\n{traceback.format_exc()}' if debug else \
        f' ({type(err).__name__}: {err}; --debug logs the traceback)'
    print_log(
        f'a request failed{detail}', logger='current', level=logging.ERROR)
    return (f'error: the request failed ({type(err).__name__}: {err}); the '
            'server log says more')


def legend_html(result: ImageResult, device: str) -> str:
    """Table of the expressions: colour, expression, score, mask size."""
    total = result.image_size[0] * result.image_size[1]
    rows = ''.join(
        '<tr><td><span class="sgsrf-swatch" style="background: '
        f'rgb{tuple(e.color)}"></span></td><td>{html.escape(e.text)}</td>'
        f'<td class="sgsrf-score">{e.score:.3f}</td>'
        f'<td>{e.target_pixels} ({100 * e.target_pixels / total:.1f}%)</td>'
        '</tr>' for e in result.expressions)
    return (
        '<table id="sgsrf-legend-table"><thead><tr><th></th><th>expression'
        '</th><th>score</th><th>target pixels</th></tr></thead>'
        f'<tbody>{rows}</tbody></table><p>Image {result.image_size[1]} x '
        f'{result.image_size[0]} px, segmented in {result.seconds:.2f} s on '
        f'{device}. Score: the mean target probability over the mask (0 '
        'for an empty mask), not a predicted IoU.</p>')


def scene_html(result: SceneResult) -> str:
    """Summary of a GeoTIFF request."""
    return (f'<p>{result.num_tiles} tiles, {result.num_polygons} polygons, '
            f'{result.target_pixels} target pixels for '
            f'"{html.escape(result.text)}", in {result.seconds:.2f} s.</p>')


def model_html(config: str, checkpoint: Optional[str],
               service: DemoService) -> str:
    """What model the page runs, and the warning when it is untrained."""
    inferencer = service.inferencer
    height, width = inferencer.input_size
    text = (f'<p>Model: <code>{html.escape(osp.basename(config))}</code>, '
            f'input {width} x {height} px, on {inferencer.device} in '
            f'{inferencer.precision}; checkpoint: ')
    if checkpoint:
        return text + f'<code>{html.escape(osp.basename(checkpoint))}' \
            '</code>.</p>'
    return text + 'none.</p><div id="random-weights-warning" ' \
        'class="sgsrf-warning"><b>No checkpoint: the model has random ' \
        'weights and its masks mean nothing.</b> Start the app with ' \
        '<code>--checkpoint CKPT</code> to see what a trained model does.' \
        '</div>'


def _result_column(elem_ids: Tuple[str, str, str, str], picture_label: str,
                   files_label: str) -> tuple:
    """The results side of a tab: status, picture, details and files.

    Args:
        elem_ids (tuple[str]): Element ids of the four components.
        picture_label (str): Label of the picture.
        files_label (str): Label of the downloads.

    Returns:
        tuple: The four components.
    """
    with gr.Column():
        status = gr.HTML(elem_id=elem_ids[0])
        picture = gr.Image(
            label=picture_label,
            type='numpy',
            format='png',
            height=480,
            interactive=False,
            elem_id=elem_ids[1])
        details = gr.HTML(elem_id=elem_ids[2])
        files = gr.File(
            label=files_label,
            file_count='multiple',
            interactive=False,
            elem_id=elem_ids[3])
    return status, picture, details, files


def _image_tab(service: DemoService) -> None:
    """Components and events of the image tab (inside a Blocks)."""
    examples = bundled_examples()
    device = str(service.inferencer.device)
    with gr.Row():
        with gr.Column():
            image = gr.File(
                label='Image (PNG, JPEG or TIFF)',
                file_types=['.png', '.jpg', '.jpeg', '.tif', '.tiff'],
                elem_id='image-file')
            expressions = gr.Textbox(
                label=f'Expressions, one per line (up to '
                f'{service.max_expressions})',
                placeholder='the white storage tank at the bottom right',
                max_length=service.max_text_chars,
                lines=3,
                elem_id='expressions')
            run = gr.Button('Segment', variant='primary', elem_id='segment')
            gallery = gr.Gallery(
                value=[(e.image, ' / '.join(e.expressions)) for e in examples],
                label='Examples (click one)',
                columns=len(examples),
                rows=1,
                height=200,
                allow_preview=False,
                elem_id='examples')
        status, overlay, legend, masks = _result_column(
            ('image-status', 'overlay', 'legend', 'mask-files'), 'Overlay',
            'Masks (PNG, 0/255, the image size)')
    section = stages_section(
        service, lambda err: error_html(failure_message(err, service.debug)))

    def pick(evt: gr.SelectData):
        example = examples[evt.index]
        return example.image, '\n'.join(example.expressions)

    def segment(path, text):
        try:
            result = service.segment_image(path, text)
        except Exception as err:  # every error becomes a message on the page
            return (error_html(failure_message(err, service.debug)), None, '',
                    None) + section.cleared(None, [])
        return ('', result.overlay, legend_html(result, device), [
            e.mask_path for e in result.expressions
        ]) + section.cleared(path, [e.text for e in result.expressions])

    gallery.select(pick, None, [image, expressions])
    run.click(
        segment, [image, expressions],
        [status, overlay, legend, masks] + section.outputs,
        show_progress_on=overlay,
        concurrency_id='model')


def _scene_tab(service: DemoService) -> None:
    """Components and events of the GeoTIFF tab (inside a Blocks)."""
    height, width = service.inferencer.input_size
    with gr.Row():
        with gr.Column():
            scene = gr.File(
                label='GeoTIFF scene',
                file_types=['.tif', '.tiff'],
                elem_id='scene-file')
            expression = gr.Textbox(
                label='Expression',
                placeholder=SCENE_EXPRESSION,
                max_length=MAX_EXPRESSION_CHARS,
                elem_id='scene-expression')
            low, input_side = tile_size_range((height, width), (0, 0))
            tile_size = gr.Number(
                value=input_side,
                label=f'Tile size in px (default: the model input size; '
                f'{low} to {4 * input_side}, and at most the scene size when '
                'that is larger than the input)',
                precision=0,
                elem_id='tile-size')
            run = gr.Button(
                'Segment scene', variant='primary', elem_id='segment-scene')
            example = gr.Button(
                'Load the example scene', size='sm', elem_id='scene-example')
            gr.Markdown(
                'The example is a 2 x 2 mosaic of the image examples with a '
                'made-up georeference. The scene is cut into overlapping '
                'tiles of the tile size, each tile is segmented with the '
                'expression, and the tile probabilities are blended back '
                'into one mask. Position words ("at the top left") are '
                'judged within each tile.')
        status, preview, summary, files = _result_column(
            ('scene-status', 'scene-preview', 'scene-summary', 'scene-files'),
            'Scene with the polygons',
            'Mask (GeoTIFF, 0/255) and polygons (GeoJSON)')

    def load_example():
        path = osp.join(service.work_dir, 'synthetic_mosaic.tif')
        if not osp.isfile(path):
            write_example_scene(path)
        return path, SCENE_EXPRESSION

    def segment(path, text, tile, progress=gr.Progress()):

        def report(done, total):
            progress((done, total), desc='segmenting tiles', unit='tiles')

        try:
            result = service.segment_scene(path, text,
                                           None if tile is None else int(tile),
                                           report)
        except Exception as err:  # every error becomes a message on the page
            return (error_html(failure_message(err,
                                               service.debug)), None, '', None)
        return ('', result.preview, scene_html(result),
                [result.mask_path, result.geojson_path])

    example.click(load_example, None, [scene, expression])
    run.click(
        segment, [scene, expression, tile_size],
        [status, preview, summary, files],
        show_progress_on=preview,
        concurrency_id='model')


def build_page(service: DemoService,
               config: str,
               checkpoint: Optional[str] = None) -> 'gr.Blocks':
    """The demo page: an image tab and a GeoTIFF tab.

    Args:
        service (DemoService): Runs the requests.
        config (str): Config file of the model (shown on the page).
        checkpoint (str, optional): Its checkpoint; None shows the warning
            that the weights are random. Defaults to None.

    Returns:
        gr.Blocks: The page; requests of both tabs share one model slot
        (``concurrency_id='model'``), so one runs at a time.
    """
    with gr.Blocks(
            title='SGSRF referring segmentation',
            analytics_enabled=False,
            delete_cache=(3600, 3600)) as page:
        gr.Markdown(INTRO)
        gr.HTML(model_html(config, checkpoint, service), elem_id='model')
        with gr.Tab('Image'):
            _image_tab(service)
        with gr.Tab('GeoTIFF scene'):
            _scene_tab(service)
    return page


def launch_demo(service: DemoService,
                config: str,
                checkpoint: Optional[str] = None,
                host: str = '127.0.0.1',
                port: int = 7860) -> None:
    """Serve the page until interrupted; print where to open it.

    Args:
        service (DemoService): Runs the requests.
        config (str): Config file of the model.
        checkpoint (str, optional): Its checkpoint. Defaults to None.
        host (str): Address to bind. Defaults to '127.0.0.1' (this machine
            only).
        port (int): Port. Defaults to 7860.
    """
    page = build_page(service, config, checkpoint)
    page.queue(default_concurrency_limit=1)
    page.launch(
        server_name=host,
        server_port=port,
        prevent_thread_lock=True,
        quiet=True,
        ssr_mode=False,
        allowed_paths=[EXAMPLES_DIR, service.work_dir],
        css=CSS)
    print(
        f'SGSRF web demo: open {page.local_url} in a browser '
        f'(serving on {host}:{port}; Ctrl+C stops it)',
        flush=True)
    page.block_thread()
