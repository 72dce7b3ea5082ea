"""Load annotation pickles (such as RRSIS-D's ``refs(unc).p``) safely.

A pickle can name any importable callable and call it while loading, so a
crafted file loaded with :func:`pickle.load` can run arbitrary code.
:class:`RestrictedUnpickler` refuses every global except a handful, each
replaced by a function that checks its arguments, so loading a crafted file
raises :class:`pickle.UnpicklingError` before anything from it runs, and no
allowed global allocates memory from an integer argument (``bytearray(n)``
would).

What loads: everything that pickle encodes without naming a global
(``dict``, ``list``, ``tuple``, ``str``, ``bytes``, ``int``, ``float``,
``bool``, ``None``; protocol 4+ also ``set``/``frozenset``; protocol 5
``bytearray``), and these globals only:

* ``set``, ``frozenset`` and ``collections.OrderedDict`` (from an iterable
  the pickle holds);
* ``bytearray`` from ``bytes``, or from a ``str`` with the ``latin1`` codec
  (how protocols 2-4 and Python 2 store it), never from an integer;
* ``_codecs.encode`` with the ``latin1`` codec (how protocols 0-2 store
  ``bytes``);
* numpy integer and float scalars (``numpy.int64(3)``, ``numpy.float32``;
  what a refs file written with numpy ids holds): the pickle names
  ``numpy.core.multiarray.scalar`` (``numpy._core`` in numpy 2) and
  ``numpy.dtype``; a dtype is accepted only as a plain numeric type code
  (``i1``-``i8``, ``u1``-``u8``, ``f2``-``f8``) with a byte order and no
  fields, and the scalar is rebuilt from exactly that many bytes. It loads
  as the equal Python ``int`` or ``float``.

Everything else (``os.system``, ``builtins.eval``, ``copyreg._reconstructor``,
numpy arrays, object or structured dtypes, any class instance) is refused.
"""
import collections
import pickle
from typing import Any, Callable, Dict, Optional, Tuple, Union

import numpy as np

_LATIN1 = ('latin1', 'latin-1')
_NUMERIC_CODES = frozenset(
    ['i1', 'i2', 'i4', 'i8', 'u1', 'u2', 'u4', 'u8', 'f2', 'f4', 'f8'])
_BYTE_ORDERS = frozenset('<>|=')


def _refuse(what: str) -> pickle.UnpicklingError:
    return pickle.UnpicklingError(f'refused {what}')


def _latin1_encode(text: str, encoding: str = 'latin1') -> bytes:
    """``_codecs.encode`` limited to what pickle uses for ``bytes``."""
    if encoding not in _LATIN1 or not isinstance(text, str):
        raise _refuse(f'_codecs.encode with encoding {encoding!r}')
    return text.encode('latin1')


def _bytearray(source: Union[bytes, str] = b'',
               encoding: Optional[str] = None) -> bytearray:
    """``bytearray`` from bytes or a latin1 str only, never from a size."""
    if isinstance(source, bytes) and encoding is None:
        return bytearray(source)
    if isinstance(source, str) and encoding in _LATIN1:
        return bytearray(source.encode('latin1'))
    raise _refuse(f'bytearray({type(source).__name__}): only bytes or a '
                  'latin1 str are allowed')


class _PickledDtype:
    """A numpy dtype as a pickle describes it, checked before any use.

    Args:
        code (str): A type code of :data:`_NUMERIC_CODES`.
    """

    def __init__(self, code: str) -> None:
        self.code = code
        self.byte_order = '='

    def __setstate__(self, state: tuple) -> None:
        """Take the byte order from numpy's dtype state tuple.

        Args:
            state (tuple): ``(version, byte_order, subarray, names, fields,
                elsize, alignment, flags[, metadata])``.
        """
        if not (isinstance(state, tuple) and len(state) in (8, 9) and state[1]
                in _BYTE_ORDERS and all(part is None
                                        for part in state[2:5] + state[8:])):
            raise _refuse(f'numpy.dtype state {state!r:.80}: only plain '
                          'numeric types are allowed')
        self.byte_order = state[1]

    def numpy_dtype(self) -> np.dtype:
        """The checked dtype."""
        return np.dtype(self.byte_order + self.code)


def _numpy_dtype(code: str,
                 align: bool = False,
                 copy: bool = True) -> _PickledDtype:
    """``numpy.dtype`` limited to plain integer and float type codes."""
    if not isinstance(code, str) or code not in _NUMERIC_CODES:
        raise _refuse(f'numpy.dtype({code!r:.40}): only plain integer and '
                      f'float types {sorted(_NUMERIC_CODES)} are allowed')
    return _PickledDtype(code)


def _numpy_scalar(dtype: _PickledDtype, data: bytes) -> Union[int, float]:
    """Rebuild a numpy integer or float scalar from its bytes."""
    if not isinstance(dtype, _PickledDtype) or not isinstance(data, bytes):
        raise _refuse('numpy scalar: expected a numeric numpy.dtype and '
                      f'bytes, got {type(dtype).__name__} and '
                      f'{type(data).__name__}')
    numpy_dtype = dtype.numpy_dtype()
    if len(data) != numpy_dtype.itemsize:
        raise _refuse(f'numpy scalar of type {dtype.code}: '
                      f'{len(data)} bytes instead of {numpy_dtype.itemsize}')
    return np.frombuffer(data, dtype=numpy_dtype)[0].item()


#: Builtin containers a pickle may rebuild.
BUILTIN_CONTAINERS = dict(set=set, frozenset=frozenset, bytearray=_bytearray)
ALLOWED_GLOBALS: Dict[Tuple[str, str], Callable] = {
    ('_codecs', 'encode'): _latin1_encode,
    ('collections', 'OrderedDict'): collections.OrderedDict,
    ('numpy', 'dtype'): _numpy_dtype,
    ('numpy.core.multiarray', 'scalar'): _numpy_scalar,
    ('numpy._core.multiarray', 'scalar'): _numpy_scalar,
    **{
        (module, name): allowed
        for module in ('builtins', '__builtin__')  # Python 3 and 2 names
        for name, allowed in BUILTIN_CONTAINERS.items()
    },
}


class RestrictedUnpickler(pickle.Unpickler):
    """Unpickler whose ``find_class`` allows only :data:`ALLOWED_GLOBALS`."""

    def find_class(self, module: str, name: str) -> Any:
        """Return the checked stand-in of an allowed global; refuse others.

        Args:
            module (str): Module named by the pickle.
            name (str): Attribute of ``module`` named by the pickle.

        Returns:
            Any: The allowed callable.
        """
        allowed = ALLOWED_GLOBALS.get((module, name))
        if allowed is None:
            raise pickle.UnpicklingError(
                f'refused global {module}.{name}: only plain containers, '
                'scalars and numpy numbers are allowed in an annotation '
                'pickle')
        return allowed


def safe_load_pickle(path: str) -> Any:
    """Load a pickle that may hold only plain containers and scalars.

    A crafted file cannot run code: a global outside :data:`ALLOWED_GLOBALS`
    raises before it is called. Python 2 byte strings are decoded as UTF-8.

    Args:
        path (str): Path of the pickle file.

    Returns:
        Any: The unpickled object.
    """
    with open(path, 'rb') as f:
        try:
            return RestrictedUnpickler(f, encoding='utf-8').load()
        except pickle.UnpicklingError as e:
            raise pickle.UnpicklingError(f'{path}: {e}') from e
        except Exception as e:  # a malformed pickle, named by its file
            raise pickle.UnpicklingError(
                f'{path}: not a readable pickle ({type(e).__name__}: {e})'
            ) from e
