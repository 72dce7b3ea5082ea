import collections
import os
import pickle

import numpy as np
import pytest

from sgsrf_mmseg.utils.safe_pickle import safe_load_pickle


class _Reduces:
    """Pickles as the given ``__reduce__`` value (nothing is called)."""

    def __init__(self, *value):
        self.value = value

    def __reduce__(self):
        return self.value


SCALAR = np.int64(0).__reduce__()[0]  # numpy's own scalar reconstructor
PLAIN_STATE = (3, '<', None, None, None, -1, -1, 0)


def _crafted_scalar(code='i8', state=PLAIN_STATE, data=bytes(8)):
    return _Reduces(SCALAR, (_Reduces(np.dtype,
                                      (code, False, True), state), data))


class _RunsCommand:

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f'touch {self.marker}', ))


def _dump(path, obj, protocol=pickle.HIGHEST_PROTOCOL):
    with open(path, 'wb') as f:
        pickle.dump(obj, f, protocol=protocol)
    return str(path)


@pytest.mark.parametrize('protocol', [0, 2, pickle.HIGHEST_PROTOCOL])
def test_plain_refs_load(tmp_path, protocol):
    refs = [
        dict(
            ref_id=1,
            split='train',
            sent_ids=[3, 4],
            ratio=0.5,
            flags={1, 2},
            frozen=frozenset([7]),
            raw=b'x',
            none=None,
            od=collections.OrderedDict(a=1),
            t=(1, 'a'),
            buffer=bytearray(b'a\xff'),
            empty=bytearray())
    ]
    assert safe_load_pickle(_dump(tmp_path / 'r.p', refs, protocol)) == refs


def test_malicious_pickle_refused_and_not_run(tmp_path):
    marker = tmp_path / 'pwned'
    path = _dump(tmp_path / 'evil.p', [dict(x=_RunsCommand(marker))])
    with pytest.raises(pickle.UnpicklingError, match='system'):
        safe_load_pickle(path)
    assert not marker.exists()
    # the same file does run code with the plain loader (sanity check)
    with open(path, 'rb') as f:
        pickle.load(f)
    assert marker.exists()


@pytest.mark.parametrize('obj', [np.zeros(2), eval, np.int64])
def test_other_globals_refused(tmp_path, obj):
    path = _dump(tmp_path / 'x.p', [obj], protocol=2)
    with pytest.raises(pickle.UnpicklingError, match='refused global'):
        safe_load_pickle(path)


def test_codecs_encode_limited_to_latin1(tmp_path):
    path = tmp_path / 'codec.p'
    path.write_bytes(b'c_codecs\nencode\n(Vabc\nVrot13\ntR.')
    with pytest.raises(pickle.UnpicklingError, match='rot13'):
        safe_load_pickle(str(path))


def test_bytearray_from_a_size_refused(tmp_path):
    # 33 bytes that would allocate 1 GiB with the plain bytearray global
    path = tmp_path / 'refs(unc).p'
    path.write_bytes(b'\x80\x02c__builtin__\nbytearray\nJ\x00\x00\x00@\x85R.')
    assert path.stat().st_size == 33
    with pytest.raises(
            pickle.UnpicklingError,
            match=r'refs\(unc\).p: refused bytearray\(int\)'):
        safe_load_pickle(str(path))


@pytest.mark.parametrize('protocol', [0, 2, 4, 5])
def test_numpy_scalars_load_as_python_numbers(tmp_path, protocol):
    refs = [
        dict(
            ref_id=np.int64(7),
            ann_id=np.int32(-3),
            sent_ids=[np.uint16(9), np.int8(1)],
            area=np.float32(0.5),
            score=np.float64(2.25),
            big=np.dtype('>i8').type(2**40))
    ]
    loaded = safe_load_pickle(_dump(tmp_path / 'n.p', refs, protocol))
    assert loaded == [
        dict(
            ref_id=7,
            ann_id=-3,
            sent_ids=[9, 1],
            area=0.5,
            score=2.25,
            big=2**40)
    ]
    assert type(loaded[0]['ref_id']) is int
    assert type(loaded[0]['area']) is float


def test_numpy_1_scalar_name_loads(tmp_path):
    data = pickle.dumps([np.int64(12)], protocol=2)
    assert b'cnumpy._core.multiarray\nscalar' in data
    path = tmp_path / 'np1.p'
    path.write_bytes(
        data.replace(b'numpy._core.multiarray', b'numpy.core.multiarray'))
    assert safe_load_pickle(str(path)) == [12]


@pytest.mark.parametrize('crafted, message', [
    (_crafted_scalar(code='O8'), r"numpy.dtype\('O8'\)"),
    (_crafted_scalar(code='V8'), r"numpy.dtype\('V8'\)"),
    (_crafted_scalar(state=(3, '|', None, ('a', ), {
        'a': 1
    }, 8, 1, 16)), 'numpy.dtype state'),
    (_crafted_scalar(state=(4, '<', None, None, None, -1, -1, 0, {
        'x': 1
    })), 'numpy.dtype state'),
    (_crafted_scalar(data=bytes(4096)), '4096 bytes instead of 8'),
    (_Reduces(SCALAR, ('i8', bytes(8))), 'expected a numeric numpy.dtype'),
    (_Reduces(SCALAR, (_Reduces(np.dtype,
                                ('i8', False, True), PLAIN_STATE), 8)),
     'expected a numeric numpy.dtype and bytes'),
])
def test_crafted_numpy_scalars_refused(tmp_path, crafted, message):
    path = _dump(tmp_path / 'c.p', [crafted], protocol=2)
    with pytest.raises(pickle.UnpicklingError, match=message):
        safe_load_pickle(path)


def test_malformed_pickle_named(tmp_path):
    path = tmp_path / 'refs(unc).p'
    path.write_bytes(pickle.dumps([1, 2, 3], protocol=2)[:-4])
    with pytest.raises(pickle.UnpicklingError, match=r'refs\(unc\).p'):
        safe_load_pickle(str(path))
