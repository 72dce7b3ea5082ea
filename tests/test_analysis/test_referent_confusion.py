"""Referent confusion on a tiny RefSegRS-layout folder: two scenes of two
referents each and one scene of one referent."""
import csv
import json
import os.path as osp
import runpy
import shutil
import sys

import cv2
import numpy as np
import pytest

from sgsrf_mmseg.analysis.document_blocks import marker_blocks
from sgsrf_mmseg.analysis.referent_confusion import (OTHER_REFERENT, POOR_MASK,
                                                     RIGHT, TARGET_AND_MORE,
                                                     classify,
                                                     referent_confusion)
from sgsrf_mmseg.utils.portable_paths import absolute_paths

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
TOOL = osp.join(REPO, 'tools', 'analysis', 'referent_confusion.py')
COLUMNS = ('ref_id', 'sent_id', 'category', 'img_path', 'iou', 'size_bin',
           'groups')
SIZE = 10


def box(rows: slice, cols: slice) -> np.ndarray:
    mask = np.zeros((SIZE, SIZE), bool)
    mask[rows, cols] = True
    return mask


#: Target masks: scene A holds referents 1 and 2, scene B 3 and 4, scene C
#: only 5.
TARGETS = {
    '1': box(slice(0, 5), slice(0, 5)),
    '2': box(slice(5, 10), slice(5, 10)),
    '3': box(slice(0, 5), slice(0, 10)),
    '4': box(slice(5, 10), slice(0, 10)),
    '5': box(slice(2, 6), slice(2, 6)),
    '6': box(slice(0, 3), slice(0, 3)),
    '7': box(slice(7, 10), slice(7, 10)),
}
SCENES = {'a': ('1', '2'), 'b': ('3', '4'), 'c': ('5', ), 'd': ('6', '7')}
#: Covers all of target 6 and 12 pixels beside it (no referent there).
TARGET_6_AND_MORE = box(slice(0, 3), slice(0, 3)) | box(
    slice(0, 3), slice(4, 8))
#: (ref_id, sent_id, groups, prediction, class): 1 segments referent 2, 3
#: covers two fifths of its own target, 6 its target and more, 2, 4 and 7
#: are right.
EXPRESSIONS = [
    ('1', '1', 'relation;same_image_other_referent', TARGETS['2'],
     OTHER_REFERENT),
    ('2', '2', 'relation', TARGETS['2'], RIGHT),
    ('3', '3', 'look_alike', box(slice(0, 2), slice(0, 10)), POOR_MASK),
    ('4', '4', 'look_alike', TARGETS['4'], RIGHT),
    ('5', '5', 'relation', TARGETS['1'], None),
    ('6', '6', 'look_alike', TARGET_6_AND_MORE, TARGET_AND_MORE),
    ('7', '7', 'look_alike', TARGETS['7'], RIGHT),
]


def iou(a: np.ndarray, b: np.ndarray) -> float:
    return float((a & b).sum() / (a | b).sum())


@pytest.fixture
def run(tmp_path):
    """The dataset folder and the --out folder of a test run on it."""
    data = tmp_path / 'refsegrs'
    (data / 'images').mkdir(parents=True)
    (data / 'masks').mkdir()
    rng = np.random.RandomState(0)
    for scene, refs in SCENES.items():
        image = str(data / 'images' / f'{refs[0]}.tif')
        assert cv2.imwrite(image, rng.randint(0, 256, (SIZE, SIZE, 3),
                                              np.uint8))
        for ref in refs[1:]:
            shutil.copyfile(image, data / 'images' / f'{ref}.tif')
    for ref, mask in TARGETS.items():
        assert cv2.imwrite(
            str(data / 'masks' / f'{ref}.tif'),
            mask.astype(np.uint8) * 255)
    out = tmp_path / 'results'
    out.mkdir()
    rows = []
    for ref, sent, groups, pred, _ in EXPRESSIONS:
        assert cv2.imwrite(
            str(out / f'{ref}_{sent}.png'),
            pred.astype(np.uint8) * 255)
        rows.append(
            dict(
                ref_id=ref,
                sent_id=sent,
                category='seen_pair',
                img_path=str(data / 'images' / f'{ref}.tif'),
                iou=round(iou(pred, TARGETS[ref]), 6),
                size_bin='small' if TARGETS[ref].sum() < 50 else 'medium',
                groups=groups))
    write_rows(out, rows)
    return data, out, rows


def write_rows(out, rows):
    with open(out / 'expressions.csv', 'w', newline='') as f:
        writer = csv.DictWriter(f, fieldnames=COLUMNS)
        writer.writeheader()
        writer.writerows(rows)


def test_classes_and_group_shares(run):
    _, out, _ = run
    result = referent_confusion(str(out))
    assert result.single_referent == 1
    found = {(e.ref_id, e.referent_class) for e in result.expressions}
    assert found == {(ref, cls) for ref, _, _, _, cls in EXPRESSIONS if cls}
    confused = result.expressions[0]
    assert (confused.own_iou, confused.best_other_iou,
            confused.best_other_ref_id) == (0.0, 1.0, '2')
    assert result.expressions[2].own_iou == pytest.approx(0.4)
    hedged = result.expressions[4]
    assert (hedged.own_cover, hedged.own_precision) == (1.0, 9 / 21)
    assert result.expressions[2].own_cover == pytest.approx(0.4)
    groups = {g.name: g for g in result.groups}
    assert result.groups[0].name == 'all'
    assert set(groups) == {
        'all', 'relation', 'same_image_other_referent', 'look_alike', 'small',
        'medium'
    }
    everything = groups['all']
    assert everything.expressions == 6
    assert everything.mean_own_iou == pytest.approx(100 * (3.4 + 9 / 21) / 6)
    assert everything.mean_best_other_iou == pytest.approx(100 / 6)
    assert everything.shares == pytest.approx({
        RIGHT: 50.0,
        OTHER_REFERENT: 100 / 6,
        TARGET_AND_MORE: 100 / 6,
        POOR_MASK: 100 / 6
    })
    assert groups['relation'].expressions == 2  # referent 5 is left out
    assert groups['relation'].shares == {
        RIGHT: 50.0,
        OTHER_REFERENT: 50.0,
        TARGET_AND_MORE: 0.0,
        POOR_MASK: 0.0
    }
    assert groups['look_alike'].shares == {
        RIGHT: 50.0,
        OTHER_REFERENT: 0.0,
        TARGET_AND_MORE: 25.0,
        POOR_MASK: 25.0
    }
    assert groups['small'].shares[OTHER_REFERENT] == 25.0


@pytest.mark.parametrize('own, other, cover, precision, expected',
                         [(0.5, 0.9, 1.0, 0.5, RIGHT),
                          (0.49, 0.5, 1.0, 0.49, OTHER_REFERENT),
                          (0.3, 0.3, 0.5, 0.49, TARGET_AND_MORE),
                          (0.3, 0.3, 0.49, 0.3, POOR_MASK),
                          (0.4, 0.3, 0.6, 0.5, POOR_MASK),
                          (0.0, 0.49, 0.0, 0.0, POOR_MASK)])
def test_the_rule_is_a_half_of_iou_cover_and_precision(own, other, cover,
                                                       precision, expected):
    assert classify(own, other, cover, precision) == expected


def test_data_root_replaces_the_csv_folders(run):
    data, out, rows = run
    for row in rows:
        row['img_path'] = f'elsewhere/images/{row["ref_id"]}.tif'
    write_rows(out, rows)
    result = referent_confusion(str(out), data_root=str(data))
    assert [e.referent_class for e in result.expressions
            ] == [cls for *_, cls in EXPRESSIONS if cls]


def test_missing_prediction_names_the_file(run):
    _, out, _ = run
    missing = out / '3_3.png'
    missing.unlink()
    with pytest.raises(FileNotFoundError, match=str(missing)):
        referent_confusion(str(out))


def test_a_csv_iou_that_disagrees_names_the_file(run):
    _, out, rows = run
    rows[1]['iou'] = 0.5
    write_rows(out, rows)
    with pytest.raises(ValueError) as error:
        referent_confusion(str(out))
    message = str(error.value)
    assert str(out / '2_2.png') in message
    assert '1.000000' in message and '0.500000 in expressions.csv' in message


def test_tool_writes_the_block_and_the_json(run, tmp_path, monkeypatch,
                                            capsys):
    _, out, _ = run
    doc = tmp_path / 'README.md'
    doc.write_text('a\n<!-- results:referent-confusion -->\nold\n'
                   '<!-- /results:referent-confusion -->\nb\n')
    monkeypatch.setenv('WORK', str(tmp_path))
    main = runpy.run_path(TOOL)['main']
    report = str(tmp_path / 'confusion.json')
    main([str(out), '--out', report, '--target', f'{doc}:referent-confusion'])
    block = marker_blocks(doc.read_text())['referent-confusion']
    assert '| all | 6 | 63.81 | 16.67 | 50.0 | 16.7 | 16.7 | 16.7 |' in block
    assert ('Produced by:\n\n- `python tools/analysis/referent_confusion.py '
            '$WORK/results --out $WORK/confusion.json --target '
            '$WORK/README.md:referent-confusion`') in block
    assert absolute_paths(block) == []
    assert doc.read_text().startswith('a\n') and 'old' not in doc.read_text()
    data = json.load(open(report))
    assert data['kind'] == 'sgsrf-referent-confusion'
    assert [e['referent_class'] for e in data['expressions']
            ] == [cls for *_, cls in EXPRESSIONS if cls]
    assert '| relation | 2 |' in capsys.readouterr().out


def test_tool_refusal_is_one_error_line(tmp_path, monkeypatch, capsys):
    missing = tmp_path / 'nowhere'
    monkeypatch.setattr(sys, 'argv', [TOOL, str(missing)])
    with pytest.raises(SystemExit) as info:
        runpy.run_path(TOOL, run_name='__main__')
    assert info.value.code == 1
    err = capsys.readouterr().err
    assert err.strip().splitlines() == [
        f'error: per-expression results not found: {missing} (tools/test.py '
        'CONFIG CKPT --out DIR writes DIR/expressions.csv)'
    ]
