import os
import stat

import pytest

from sgsrf_mmseg.utils.atomic_file import (OutputExistsError, atomic_output,
                                           write_bytes_atomic,
                                           write_text_atomic)


def test_failed_write_leaves_nothing(tmp_path):
    target = tmp_path / 'mask.tif'
    with pytest.raises(OSError, match='No space'):
        with atomic_output(str(target)) as partial:
            with open(partial, 'wb') as f:
                f.write(b'half a file')
            raise OSError(28, 'No space left on device')
    assert os.listdir(tmp_path) == []


def test_existing_file_kept_unless_overwrite(tmp_path):
    target = tmp_path / 'out.json'
    write_text_atomic(str(target), 'first')
    with pytest.raises(OutputExistsError, match='out.json exists'):
        write_text_atomic(str(target), 'second', overwrite=False)
    assert target.read_text() == 'first'
    assert os.listdir(tmp_path) == ['out.json']
    write_bytes_atomic(str(target), b'third', overwrite=True)
    assert target.read_text() == 'third'


def test_atomic_write_keeps_permissions_and_old_file_on_error(tmp_path):
    path = tmp_path / 'README.md'
    path.write_text('old\r\n')
    os.chmod(path, 0o640)
    write_text_atomic(str(path), 'new\r\nline\n')
    assert path.read_bytes() == b'new\r\nline\n'
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
    with pytest.raises(TypeError):
        write_text_atomic(str(path), None)
    assert path.read_bytes() == b'new\r\nline\n'
    assert [p.name for p in tmp_path.iterdir()] == ['README.md']
