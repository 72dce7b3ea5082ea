"""The web demo and the failure gallery in a real headless browser.

``tools/demo_app.py`` is started on a free local port with the tiny config
(random weights, or ``SGSRF_DEMO_CHECKPOINT`` when set) and a spaCy parser
(trained here on tiny synthetic data's gold trees, or
``SGSRF_DEMO_PARSER``), and driven with Playwright through the system's
Chromium (``/usr/bin/chromium`` or ``SGSRF_CHROMIUM``; Playwright's own
browsers are never downloaded). With ``SGSRF_DEMO_SCREENSHOT=path.png`` the
page with its result is saved there, with ``SGSRF_GALLERY_SCREENSHOT=
path.png`` the failure gallery's first screen (the README's pictures are
made this way with the demo model: its gallery is of the config's own test
split, ranked by the ``expressions.csv`` in ``SGSRF_GALLERY_RESULTS`` when
set, else by a test run of its own).
"""
import os
import os.path as osp
import shutil
import socket
import subprocess
import sys
import threading
import time

import cv2
import numpy as np
import pytest
from tiny_gallery import (TINY_CONFIG, gold_trained_parser, random_checkpoint,
                          tiny_data)

from sgsrf_mmseg.apis import clean_expression
from sgsrf_mmseg.utils.image_io import read_image_rgb
from sgsrf_mmseg.webapp import bundled_examples

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CHROMIUM = os.environ.get('SGSRF_CHROMIUM') or shutil.which('chromium') \
    or '/usr/bin/chromium'
CHROMIUM_FLAGS = [
    '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic',
    '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync'
]
START_TIMEOUT_S = 180
RESULT_TIMEOUT_MS = 60_000

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not osp.isfile(CHROMIUM),
        reason=f'no Chromium at {CHROMIUM}: install the system package '
        '(apt-get install chromium; .ci/run does) or set SGSRF_CHROMIUM')
]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


class DemoApp:
    """``tools/demo_app.py`` in a subprocess, its output collected."""

    def __init__(self, checkpoint=None, parser=None):
        self.port = free_port()
        args = [
            sys.executable,
            osp.join(REPO, 'tools', 'demo_app.py'), TINY_CONFIG, '--port',
            str(self.port), '--device', 'cpu'
        ]
        if checkpoint:
            args += ['--checkpoint', checkpoint]
        if parser:
            args += ['--parser', parser]
        self.proc = subprocess.Popen(
            args,
            cwd=REPO,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True)
        self.lines = []
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        for line in self.proc.stdout:
            self.lines.append(line)

    def wait_url(self) -> str:
        """The address of the start-up line."""
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            for line in list(self.lines):
                if 'open http://' in line:
                    return line.split('open ', 1)[1].split()[0]
            if self.proc.poll() is not None:
                break
            time.sleep(0.2)
        raise AssertionError('the demo app did not start:\n' +
                             ''.join(self.lines))

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


@pytest.fixture(scope='module')
def tiny_inputs(tmp_path_factory):
    """Tiny synthetic data (config overrides), its parser, a checkpoint."""
    folder = tmp_path_factory.mktemp('tiny')
    options = tiny_data(str(folder))
    parser = gold_trained_parser(options['test_dataloader.dataset.data_root'],
                                 str(folder / 'parser'))
    return options, parser, random_checkpoint(str(folder / 'random.pth'))


@pytest.fixture(scope='module')
def app(tiny_inputs):
    demo = DemoApp(
        os.environ.get('SGSRF_DEMO_CHECKPOINT'),
        os.environ.get('SGSRF_DEMO_PARSER') or tiny_inputs[1])
    yield demo
    demo.stop()


@pytest.fixture(scope='module')
def browser():
    from playwright.sync_api import sync_playwright
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope='module')
def page(app, browser):
    url = app.wait_url()
    assert url.startswith(f'http://127.0.0.1:{app.port}')
    tab = browser.new_page(viewport={'width': 1280, 'height': 900})
    tab.set_default_timeout(RESULT_TIMEOUT_MS)
    tab.goto(url)
    yield tab
    tab.close()


def upload(page, box, path):
    """Put a file into a Gradio file box, replacing the one shown."""
    clear = page.locator(f'{box} button[aria-label="Clear"]')
    if clear.count():
        clear.click()
    page.locator(f'{box} input[type=file]').set_input_files(path)
    page.wait_for_selector(f'{box} a.download-link')


def press_and_wait(page, button, changed):
    """Click and wait until the ``changed`` element's text changes."""
    before = page.inner_text(changed)
    page.locator(button).click()
    page.wait_for_function(
        '([sel, before]) => document.querySelector(sel).innerText !== before',
        arg=[changed, before])


def test_segment_an_example_in_the_browser(page, tmp_path):
    if os.environ.get('SGSRF_DEMO_CHECKPOINT'):
        assert page.locator('#random-weights-warning').count() == 0
    else:
        assert 'random weights' in page.inner_text('#random-weights-warning')
    example = bundled_examples()[0]
    height, width = read_image_rgb(example.image).shape[:2]
    upload(page, '#image-file', example.image)
    texts = list(example.expressions)
    assert len(texts) == 2
    page.locator('#expressions textarea').fill('\n'.join(texts))
    press_and_wait(page, '#segment', '#legend')

    assert page.locator('#image-status .sgsrf-error').count() == 0
    rows = page.locator('#legend tbody tr')
    assert [
        rows.nth(i).locator('td').nth(1).inner_text()
        for i in range(rows.count())
    ] == texts
    overlay = page.locator('#overlay img')
    overlay.wait_for()
    natural = overlay.evaluate('img => [img.naturalWidth, img.naturalHeight]')
    assert natural[0] == width and natural[1] > height  # legend on top
    links = page.locator('#mask-files a.download-link')
    assert links.count() == len(texts)
    for i in range(len(texts)):
        with page.expect_download() as download:
            links.nth(i).click()
        path = str(tmp_path / download.value.suggested_filename)
        download.value.save_as(path)
        mask = cv2.imread(path, cv2.IMREAD_UNCHANGED)
        assert mask.shape == (height, width)
        assert set(np.unique(mask)) <= {0, 255}
    screenshot = os.environ.get('SGSRF_DEMO_SCREENSHOT')
    if screenshot:
        page.screenshot(path=screenshot, full_page=True)


def page_message(page, box):
    """The error shown in a status box after the last request."""
    return page.inner_text(f'{box} .sgsrf-error').strip()


def raised(call, *args) -> str:
    with pytest.raises(Exception) as info:
        call(*args)
    return str(info.value)


def test_bad_input_gets_a_message_in_the_browser(page, tmp_path):
    page.locator('#expressions textarea').fill('  \n ')
    page.locator('#segment').click()
    assert page_message(
        page, '#image-status') == 'error: ' + raised(clean_expression, '  \n ')
    assert page.locator('#overlay img').count() == 0  # no stale result

    notes = tmp_path / 'notes.png'
    notes.write_text('just some notes, not a picture\n')
    upload(page, '#image-file', str(notes))
    page.locator('#expressions textarea').fill('the pond')
    page.locator('#segment').click()
    page.wait_for_function("document.querySelector('#image-status').innerText"
                           ".includes('notes.png')")
    # The inferencer's words, naming the file as the user uploaded it.
    assert page_message(page, '#image-status') == 'error: ' + raised(
        read_image_rgb, str(notes)).replace(str(notes), 'notes.png')
    assert 'Traceback' not in page.inner_text('body')


def test_geotiff_example_in_the_browser(page, tmp_path):
    rasterio = pytest.importorskip('rasterio')
    page.get_by_role('tab', name='GeoTIFF scene').click()
    page.locator('#scene-example').click()
    page.wait_for_selector('#scene-file a.download-link')
    page.wait_for_function(
        "document.querySelector('#scene-expression textarea').value !== ''")
    page.locator('#tile-size input').fill('64')
    press_and_wait(page, '#segment-scene', '#scene-summary')
    # The 256 px mosaic in 64 px tiles with 16 px overlap: 5 x 5 tiles.
    assert page.inner_text('#scene-summary').startswith('25 tiles')
    page.locator('#scene-preview img').wait_for()
    links = page.locator('#scene-files a.download-link')
    assert [
        links.nth(i).get_attribute('download') for i in range(links.count())
    ] == ['synthetic_mosaic_mask.tif', 'synthetic_mosaic.geojson']
    with page.expect_download() as download:
        links.nth(0).click()
    path = str(tmp_path / 'mask.tif')
    download.value.save_as(path)
    with rasterio.open(path) as mask:
        assert (mask.width, mask.height, mask.crs.to_epsg()) == (256, 256,
                                                                 32633)


def test_how_it_decided_in_the_browser(page):
    example = bundled_examples()[3]
    [text] = example.expressions
    page.get_by_role('tab', name='Image').click()
    upload(page, '#image-file', example.image)
    page.locator('#expressions textarea').fill(text)
    press_and_wait(page, '#segment', '#legend')
    # Nothing is computed for the section until it is opened.
    assert page.locator('#stage-panels').count() == 0
    page.locator('#how-it-decided').get_by_text('How it decided').click()
    panels = page.locator('#stage-panels')
    panels.wait_for()
    rows = panels.locator('.sgsrf-parse-table tbody tr')
    cells = [[rows.nth(i).locator('td').nth(k).inner_text() for k in range(4)]
             for i in range(rows.count())]
    assert ' '.join(c[0] for c in cells) == text
    assert 'ROOT' in [c[3] for c in cells]  # a parse, with its labels
    assert page.locator('#stage-panels .sgsrf-parse img').is_visible()
    attention = panels.locator('figure[data-kind="attention"]')
    assert attention.count() >= 2  # two CCR blocks, one word at least
    first = attention.first
    first.scroll_into_view_if_needed()
    assert first.is_visible()
    assert first.locator('img').evaluate('img => img.naturalWidth') > 0
    assert 'block 1:' in first.inner_text()
    assert 'Stage panels:' in page.inner_text('#stages')


def test_failure_gallery_in_the_browser(browser, tiny_inputs, tmp_path):
    from sgsrf_mmseg.analysis.failure_gallery import write_failure_gallery
    options, _, checkpoint = tiny_inputs
    worst, demo = 5, os.environ.get('SGSRF_DEMO_CHECKPOINT')
    if demo:  # the demo model on the config's own test split
        options, checkpoint, worst = None, demo, 24
    out = tmp_path / 'gallery.html'
    entries = write_failure_gallery(
        osp.relpath(TINY_CONFIG),
        checkpoint,
        str(out),
        worst=worst,
        results=os.environ.get('SGSRF_GALLERY_RESULTS'),
        device='cpu',
        cfg_options=options)
    assert len(entries) == worst
    tab = browser.new_page(viewport={'width': 1280, 'height': 900})
    try:
        tab.goto(out.as_uri())
        assert tab.locator('.gallery-entry').count() == worst
        assert tab.evaluate('[...document.images].every('
                            'img => img.complete && img.naturalWidth > 0)')
        assert tab.locator('table.groups tbody tr').count() >= 2
        screenshot = os.environ.get('SGSRF_GALLERY_SCREENSHOT')
        if screenshot:
            tab.screenshot(path=screenshot)
    finally:
        tab.close()
