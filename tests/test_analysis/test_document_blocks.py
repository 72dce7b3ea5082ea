import glob
import os.path as osp
import shutil

import pytest
import yaml

from sgsrf_mmseg.analysis.document_blocks import (marker_blocks,
                                                  replace_marker_block,
                                                  replace_metafile_results,
                                                  update_document)
from sgsrf_mmseg.utils.portable_paths import absolute_paths

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
DOC = ('# Title\n\nText before.\n\n<!-- results:demo-test -->\n'
       'old table\n<!-- /results:demo-test -->\n\nText after, 55.17.\n')


def test_marker_block_is_replaced_and_idempotent():
    once = replace_marker_block(DOC, 'demo-test', '| a |\n|---|\n| 1 |',
                                'README.md')
    assert once == DOC.replace('old table\n', '\n| a |\n|---|\n| 1 |\n\n')
    assert replace_marker_block(once, 'demo-test', '| a |\n|---|\n| 1 |',
                                'README.md') == once
    crlf = DOC.replace('\n', '\r\n')
    out = replace_marker_block(crlf, 'demo-test', 'x\ny', 'README.md')
    assert out == crlf.replace('old table\r\n', '\r\nx\r\ny\r\n\r\n')
    assert replace_marker_block(out, 'demo-test', 'x\ny', 'a.md') == out


def test_marker_errors_name_file_and_marker():
    with pytest.raises(
            ValueError,
            match=r"README.md: marker "
            r"'<!-- results:speed -->' not found"):
        replace_marker_block(DOC, 'speed', 'x', 'README.md')
    twice = DOC + '<!-- results:demo-test -->\n'
    with pytest.raises(ValueError, match='found 2 times'):
        replace_marker_block(twice, 'demo-test', 'x', 'a.md')
    no_end = DOC.replace('<!-- /results:demo-test -->', '')
    with pytest.raises(
            ValueError, match="a.md: marker '<!-- /results:demo-test -->'"):
        replace_marker_block(no_end, 'demo-test', 'x', 'a.md')
    swapped = ('<!-- /results:x -->\n<!-- results:x -->\n')
    with pytest.raises(ValueError, match='comes before'):
        replace_marker_block(swapped, 'x', 'y', 'a.md')


def test_metafile_results_replaced_as_text(tmp_path):
    path = str(tmp_path / 'metafile.yaml')
    shutil.copy(osp.join(REPO, 'configs/sgsrf/metafile.yaml'), path)
    original = open(path).read()
    metrics = {'mIoU': 60.5, 'oIoU': 70.0, 'Prec@0.5': 66.67}

    def edit(text, model):
        return replace_metafile_results(text, model, 'RRSIS-D', metrics, path)

    name = 'sgsrf_vit-b16-sam-vit-b_1xb8-60k_rrsisd-512x512'
    assert update_document(path, lambda t: edit(t, name))
    assert update_document(path, lambda t: edit(t, 'sgsrf_tiny_synthetic'))
    text = open(path).read()
    assert not update_document(path, lambda t: edit(t, name))
    models = {m['Name']: m for m in yaml.safe_load(text)['Models']}
    assert models[name]['Results'] == [
        dict(
            Task='Referring Remote Sensing Image Segmentation',
            Dataset='RRSIS-D',
            Metrics=metrics)
    ]
    assert models['sgsrf_tiny_synthetic']['Results'][0]['Metrics'] == metrics
    assert models[name]['Config'].endswith('rrsisd-512x512.py')
    assert models['sgsrf_vit-b16-sam-vit-b_1xb8-11k_refsegrs-512x512'][
        'Results'] is None
    # Byte for byte, only the two Results entries changed.
    entry = ('  Results:\n  - Task: Referring Remote Sensing Image '
             'Segmentation\n    Dataset: RRSIS-D\n    Metrics:\n'
             '      mIoU: 60.50\n      oIoU: 70.00\n      Prec@0.5: 66.67\n')
    at = original.index(f'- Name: {name}')
    null = original.index('  Results: null\n', at)
    expected = (
        original[:null] + entry + original[null + len('  Results: null\n'):])
    before = {m['Name']: m for m in yaml.safe_load(original)['Models']}
    tiny = ('  Results:\n  - Task: Referring Remote Sensing Image '
            'Segmentation\n    Dataset: synthetic (embedded)\n    Metrics:\n' +
            ''.join(f'      {key}: {value:.2f}\n'
                    for key, value in before['sgsrf_tiny_synthetic']['Results']
                    [0]['Metrics'].items()))
    assert expected.count(tiny) == 1
    assert text == expected.replace(tiny, entry)
    with pytest.raises(ValueError, match=f"{path}: model 'nope' not found"):
        edit(text, 'nope')


#: Documents with rendered blocks: every markdown file of the repository.
DOCUMENTS = sorted(
    osp.relpath(p, REPO)
    for p in glob.glob(osp.join(REPO, '**', '*.md'), recursive=True)
    if not osp.relpath(p, REPO).startswith(('.venv', 'work_dirs', 'data')))


def test_the_readmes_have_rendered_blocks():
    found = {
        doc: set(marker_blocks(open(osp.join(REPO, doc)).read()))
        for doc in DOCUMENTS
    }
    assert {'demo-test'} <= found['README.md']
    assert {
        'demo-summary', 'ablation-tiny', 'speed-tiny-cpu', 'speed-full-cpu',
        'cpu-precision', 'demo-precision'
    } <= found['configs/sgsrf/README.md']


@pytest.mark.parametrize('doc', DOCUMENTS)
def test_no_rendered_block_prints_an_absolute_path(doc):
    blocks = marker_blocks(open(osp.join(REPO, doc)).read())
    found = {name: absolute_paths(body) for name, body in blocks.items()}
    assert {name: paths for name, paths in found.items() if paths} == {}


def test_an_absolute_path_in_a_block_is_found():
    text = DOC.replace(
        'old table', '- `python /home/me/sgsrf/tools/test.py '
        'cfg.py` (`/tmp/x/test_results.json`), see '
        'https://doi.org/10.3390/rs18071015, ms/step')
    assert [absolute_paths(b) for b in marker_blocks(text).values()
            ] == [['/home/me/sgsrf/tools/test.py', '/tmp/x/test_results.json']]
