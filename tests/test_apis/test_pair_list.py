import json
import os.path as osp

import pytest

from sgsrf_mmseg.apis import Pair, PairListError, RowError, read_pair_list


def _write(tmp_path, name, text, encoding='utf-8'):
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return str(path)


def _errors(entries):
    return [str(e) for e in entries if isinstance(e, RowError)]


def test_valid_csv_and_names(tmp_path):
    path = _write(
        tmp_path, 'pairs.csv', 'text,image,name\n'
        '"the red car, on the left",a.png,\n'
        '\n'
        'ponds,sub/a.tif,\n'
        'a road,/data/b.png,b_road\n')
    pairs = read_pair_list(path)
    assert pairs == [
        Pair(1, 'pairs.csv line 2', osp.join(str(tmp_path), 'a.png'),
             'the red car, on the left', 'a'),
        Pair(2, 'pairs.csv line 4', osp.join(str(tmp_path), 'sub/a.tif'),
             'ponds', 'a_2'),
        Pair(3, 'pairs.csv line 5', '/data/b.png', 'a road', 'b_road'),
    ]


def test_unclosed_quote_is_an_error_not_a_merged_row(tmp_path):
    path = _write(
        tmp_path, 'pairs.csv', 'image,text\n'
        'a.png,"the red car\n'
        'b.png,ponds\n'
        'c.png,tanks\n'
        'd.png,roads\n'
        'e.png,"a boat"\n'
        'f.png,cars\n')
    entries = read_pair_list(path)
    assert _errors(entries) == [
        'row 1 (pairs.csv lines 2-6): the row spans several lines (an '
        'unclosed quote?); a row must be one line'
    ]
    assert [e.image[-5:] for e in entries if isinstance(e, Pair)] == ['f.png']


def test_extra_and_missing_columns(tmp_path):
    path = _write(tmp_path, 'pairs.csv', 'image,text\n'
                  'a.png,the red car, on the left\n'
                  'b.png\n')
    assert _errors(read_pair_list(path)) == [
        'row 1 (pairs.csv line 2): 3 fields where the header names 2 (quote '
        'a field that holds commas)',
        'row 2 (pairs.csv line 3): 1 fields where the header names 2 (quote '
        'a field that holds commas)',
    ]


@pytest.mark.parametrize('header,problem', [
    ('a.png,the red car', 'is not a header'),
    ('image,txt', "has unknown columns ['txt']"),
    ('image,name', "lacks the columns ['text']"),
    ('image,text,image', 'names a column twice'),
])
def test_header_is_checked(tmp_path, header, problem):
    path = _write(tmp_path, 'pairs.csv', f'{header}\nb.png,ponds\n')
    with pytest.raises(PairListError) as info:
        read_pair_list(path)
    assert str(info.value) == (
        f'{path} line 1 {problem}: the first line must name the columns '
        f'image,text[,name]; got {header!r}')


def test_encoding_error_names_file_and_line(tmp_path):
    path = _write(
        tmp_path,
        'pairs.csv', 'image,text\na.png,a car\n'
        'b.png,le véhicule\n',
        encoding='latin-1')
    with pytest.raises(PairListError) as info:
        read_pair_list(path)
    assert str(info.value) == (f'{path} line 3 is not UTF-8 text (byte 0xe9 '
                               'at column 11); save the list as UTF-8')
    bom = _write(tmp_path, 'bom.csv', '\ufeffimage,text\na.png,véhicule\n')
    assert read_pair_list(bom)[0].text == 'véhicule'


def test_json_lines_fields(tmp_path):
    rows = [
        dict(image=7, text='a car'),
        dict(image='a.png', text=['a car']),
        dict(image='a.png', txt='a car'),
        dict(image='a.png', text='a car', name='x\x00y'),
        dict(image='a.png', text='a car', name='n' * 201),
        dict(image='a.png', text='a car', name='../up'),
        dict(image='a.png', text='a car', name='ok'),
    ]
    path = _write(tmp_path, 'pairs.jsonl',
                  '\n'.join(json.dumps(row) for row in rows) + '\n[1]\n{')
    errors = _errors(read_pair_list(path))
    assert errors == [
        "row 1 (pairs.jsonl line 1): field 'image' must be a string (an "
        'image path), got int 7',
        'row 2 (pairs.jsonl line 2): text must be a str (the referring '
        "expression), got list: ['a car']",
        "row 3 (pairs.jsonl line 3): unknown fields ['txt']; the fields are "
        'image, text and optional name',
        "row 4 (pairs.jsonl line 4): field name='x\\x00y' must be a plain "
        "file name (it holds '\\x00')",
        'row 5 (pairs.jsonl line 5): field name is 201 bytes long in UTF-8; '
        'at most 200 can name a file',
        "row 6 (pairs.jsonl line 6): field name='../up' must be a plain file "
        "name (it holds '/')",
        'row 8 (pairs.jsonl line 8): a row must be a JSON object with the '
        'fields image and text',
        'row 9 (pairs.jsonl line 9): not valid JSON: Expecting property name '
        'enclosed in double quotes: line 1 column 2 (char 1)',
    ]


def test_missing_and_empty_lists(tmp_path):
    with pytest.raises(PairListError, match='not found'):
        read_pair_list(str(tmp_path / 'nope.csv'))
    with pytest.raises(PairListError, match='is a folder'):
        read_pair_list(str(tmp_path))
    with pytest.raises(PairListError, match='is empty'):
        read_pair_list(_write(tmp_path, 'empty.csv', '\n'))
