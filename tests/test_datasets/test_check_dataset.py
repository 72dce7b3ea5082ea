import importlib.util
import os
import os.path as osp

import cv2
import numpy as np

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
TOOL = osp.join(REPO, 'tools', 'misc', 'check_dataset.py')


def _tool():
    spec = importlib.util.spec_from_file_location('check_dataset', TOOL)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_clean_dataset_passes_and_previews(risbench_root, tmp_path, capsys):
    preview = str(tmp_path / 'preview')
    rc = _tool().main(['risbench', risbench_root, '--preview-dir', preview,
                       '--num-preview', '1'])
    out = capsys.readouterr().out
    assert rc == 0, out
    assert 'no defects found' in out
    assert sorted(os.listdir(preview)) == [
        'test_0000_c_003.png', 'train_0000_a_001.png', 'val_0000_c_003.png'
    ]
    assert cv2.imread(osp.join(preview, 'val_0000_c_003.png')) is not None


def test_defects_reported(refsegrs_root, capsys):
    root = refsegrs_root
    os.remove(osp.join(root, 'images', '3.tif'))
    cv2.imwrite(osp.join(root, 'masks', '4.tif'), np.zeros((32, 32),
                                                           np.uint8))
    with open(osp.join(root, 'output_phrase_test.txt'), 'a') as f:
        f.write('x7 bad id\n4 ' + ' '.join(['word'] * 90) + '\n')
    rc = _tool().main(['refsegrs', root])
    out = capsys.readouterr().out
    assert rc == 1
    assert '[FATAL] missing image: 1' in out and '3.tif' in out
    assert '[FATAL] malformed line: 1' in out
    assert 'output_phrase_test.txt:2' in out
    assert 'empty expression (skipped): 1' in out
    assert 'output_phrase_train.txt:3' in out
    assert 'extra whitespace (cleaned): 2' in out
    assert 'longer than 77 tokens' in out
    assert 'mask not strictly 0/255' in out and '2.tif' in out
    assert 'empty mask: 1' in out


def test_rrsisd_size_mismatch(tmp_path, rrsisd_builder, capsys):
    root = str(tmp_path / 'r')
    rrsisd_builder(root, image_sizes={1: (33, 32), 3: (32, 64)})
    rc = _tool().main(['rrsisd', root, '--split', 'train', 'test'])
    out = capsys.readouterr().out
    assert rc == 1, out
    assert 'size mismatch (repaired by the loader): 1' in out
    assert 'size mismatch beyond repair: 1' in out
    assert 'empty expression (skipped): 1' in out


def test_missing_annotations_fatal(tmp_path, capsys):
    os.makedirs(tmp_path / 'empty')
    assert _tool().main(['rrsisd', str(tmp_path / 'empty')]) == 1
    out = capsys.readouterr().out
    assert 'missing annotation file' in out and 'instances.json' in out
