import collections
import os
import pickle

import numpy as np
import pytest

from sgsrf_mmseg.utils.safe_pickle import safe_load_pickle


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
        dict(ref_id=1, split='train', sent_ids=[3, 4], ratio=0.5,
             flags={1, 2}, frozen=frozenset([7]), raw=b'x', none=None,
             od=collections.OrderedDict(a=1), t=(1, 'a'))
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


@pytest.mark.parametrize('obj', [np.zeros(2), np.int64(3), eval])
def test_other_globals_refused(tmp_path, obj):
    path = _dump(tmp_path / 'x.p', [obj], protocol=2)
    with pytest.raises(pickle.UnpicklingError, match='refused global'):
        safe_load_pickle(path)


def test_codecs_encode_limited_to_latin1(tmp_path):
    path = tmp_path / 'codec.p'
    path.write_bytes(b'c_codecs\nencode\n(Vabc\nVrot13\ntR.')
    with pytest.raises(pickle.UnpicklingError, match='rot13'):
        safe_load_pickle(str(path))
