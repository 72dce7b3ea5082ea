"""The failure gallery: results read, ranked by the metric's IoU, drawn."""
import csv
import re

import pytest
from tiny_gallery import TINY_CONFIG, random_checkpoint, tiny_data

from sgsrf_mmseg.analysis.failure_gallery import (failures_by_group,
                                                  rank_failures,
                                                  read_expression_results,
                                                  write_failure_gallery)

COLUMNS = ('ref_id', 'sent_id', 'category', 'img_path', 'iou', 'size_bin')


def write_csv(path, rows, columns=COLUMNS):
    with open(path, 'w', newline='') as f:
        writer = csv.DictWriter(f, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)
    return str(path)


def row(ref, iou, category='seen_pair', size='small', **extra):
    return dict(
        ref_id=ref,
        sent_id=0,
        category=category,
        img_path=f'images/{ref}.tif',
        iou=iou,
        size_bin=size,
        **extra)


def test_ranked_by_iou_lowest_first_ties_in_file_order(tmp_path):
    path = write_csv(tmp_path / 'expressions.csv', [
        row(1, 0.9),
        row(2, 0.1, 'held_out_pair'),
        row(3, 0.5),
        row(4, 0.1),
        row(5, 0.0, size='medium')
    ])
    results = read_expression_results(str(tmp_path))  # the folder works
    assert [r.ref_id for r in rank_failures(results, 3)] == ['5', '2', '4']
    assert [r.ref_id
            for r in rank_failures(results, 9, 'held_out_pair')] == ['2']
    assert [r.ref_id for r in rank_failures(results, 9, 'medium')] == ['5']
    with pytest.raises(ValueError, match="no expression of group 'x'"):
        rank_failures(results, 3, 'x')
    assert read_expression_results(path)[1].groups == ('held_out_pair',
                                                       'small')


def test_groups_and_pointing_columns_are_used_when_present(tmp_path):
    columns = COLUMNS + ('pointing', 'drift', 'groups')
    write_csv(tmp_path / 'expressions.csv', [
        row(1, 0.2, pointing=1, drift=0.1, groups='relation;role_reversal'),
        row(2, 0.7, pointing=0, drift='', groups='relation'),
        row(3, 0.0, pointing='', drift='', groups='')
    ], columns)
    results = read_expression_results(str(tmp_path))
    # The groups column replaces the category; the size bin stays.
    assert [r.groups
            for r in results] == [('relation', 'role_reversal', 'small'),
                                  ('relation', 'small'), ('small', )]
    assert [r.pointing for r in results] == [True, False, None]
    assert [r.drift for r in results] == [0.1, None, None]
    table = {g.name: g for g in failures_by_group(results, results[:1])}
    assert set(table) == {'relation', 'role_reversal', 'small'}
    relation = table['relation']
    assert (relation.expressions, relation.failures, relation.pointing_hits,
            relation.pointing_known, relation.shown) == (2, 1, 1, 2, 1)
    assert relation.mean_iou == pytest.approx(0.45)


@pytest.mark.parametrize(
    'text, message',
    [('ref_id,iou\n1,0.5\n', r"no column\(s\) \['sent_id'\]"),
     ('ref_id,sent_id,iou\n1,0,high\n', 'line 2: iou'),
     ('ref_id,sent_id,iou\n1,0,1.5\n', 'not in'),
     ('ref_id,sent_id,iou,pointing\n1,0,0.5,yes\n', 'pointing must be')])
def test_bad_results_name_file_and_line(tmp_path, text, message):
    path = tmp_path / 'expressions.csv'
    path.write_text(text)
    with pytest.raises(ValueError, match=message):
        read_expression_results(str(path))
    with pytest.raises(FileNotFoundError, match='tools/test.py'):
        read_expression_results(str(tmp_path / 'none.csv'))


@pytest.fixture(scope='module')
def gallery_inputs(tmp_path_factory):
    folder = tmp_path_factory.mktemp('gallery')
    return (tiny_data(str(folder)),
            random_checkpoint(str(folder / 'random.pth')), folder)


@pytest.mark.slow
def test_gallery_ranks_by_the_iou_the_metric_computed(gallery_inputs,
                                                      tmp_path):
    options, checkpoint, _ = gallery_inputs
    page = tmp_path / 'gallery.html'
    # Without results the test runs first; its rows are kept.
    entries = write_failure_gallery(
        TINY_CONFIG,
        checkpoint,
        str(page),
        worst=5,
        device='cpu',
        cfg_options=options)
    metric = list(
        csv.DictReader(open(tmp_path / 'gallery_results' / 'expressions.csv')))
    assert len(metric) >= 8
    lowest = sorted(float(r['iou']) for r in metric)[:5]
    assert [e.result.iou for e in entries] == lowest
    html = page.read_text()
    assert html.count('class="gallery-entry"') == 5
    shown = [float(v) for v in re.findall(r'data-iou="([0-9.]+)"', html)]
    assert shown == pytest.approx(lowest, abs=1e-6)
    assert 'http://' not in html and 'https://' not in html
    for entry in entries:
        # The dataset's parser parsed each shown expression.
        assert entry.panels.parse is not None
        assert entry.pass_iou == pytest.approx(entry.result.iou, abs=0.01)
    # The metric's pointing; measured again in the gallery's pass when the
    # results have no such column, the same way.
    by_key = {(r['ref_id'], r['sent_id']): r for r in metric}
    assert [e.pointing for e in entries
            ] == [by_key[e.result.key]['pointing'] == '1' for e in entries]
    assert {e.pointing_source for e in entries} == {'test run'}
    columns = [c for c in metric[0] if c not in ('pointing', 'drift')]
    older = write_csv(tmp_path / 'older.csv', [{
        c: r[c]
        for c in columns
    } for r in metric], columns)
    again = write_failure_gallery(
        TINY_CONFIG,
        checkpoint,
        str(tmp_path / 'again.html'),
        worst=5,
        results=older,
        device='cpu',
        cfg_options=options)
    assert [(e.result.key, e.pointing, e.pointing_source) for e in again
            ] == [(e.result.key, e.pointing, 'this pass') for e in entries]


def test_gallery_from_given_results_of_another_split_is_refused(
        gallery_inputs, tmp_path):
    options, checkpoint, _ = gallery_inputs
    results = write_csv(tmp_path / 'expressions.csv', [row(999999, 0.1)])
    with pytest.raises(ValueError, match='not in the split'):
        write_failure_gallery(
            TINY_CONFIG,
            checkpoint,
            str(tmp_path / 'g.html'),
            results=results,
            cfg_options=options)
    assert not (tmp_path / 'g.html').exists()
