"""Load annotation pickles (such as RRSIS-D's ``refs(unc).p``) safely.

A pickle can name any importable callable and call it while loading, so a
crafted file loaded with :func:`pickle.load` can run arbitrary code.
:class:`RestrictedUnpickler` refuses every global except the handful of
harmless container types a refs file can contain, so loading a crafted file
raises :class:`pickle.UnpicklingError` before anything from it runs.

What loads: everything that pickle encodes without naming a global
(``dict``, ``list``, ``tuple``, ``str``, ``bytes``, ``int``, ``float``,
``bool``, ``None``; protocol 4+ also ``set``/``frozenset``), and these
globals only: ``set``, ``frozenset`` and ``bytearray`` from ``builtins``
(Python 2's ``__builtin__``), ``collections.OrderedDict``, and
``_codecs.encode`` restricted to the ``latin1`` codec (how protocols 0-2
store ``bytes``). Everything
else (``os.system``, ``builtins.eval``, ``copyreg._reconstructor``, numpy
arrays and scalars, any class instance) is refused.
"""
import pickle
from typing import Any

ALLOWED_GLOBALS = frozenset([
    ('builtins', 'set'),
    ('builtins', 'frozenset'),
    ('builtins', 'bytearray'),
    ('__builtin__', 'set'),
    ('__builtin__', 'frozenset'),
    ('__builtin__', 'bytearray'),
    ('collections', 'OrderedDict'),
])


def _latin1_encode(text: str, encoding: str = 'latin1') -> bytes:
    """``_codecs.encode`` limited to what pickle uses for ``bytes``."""
    if encoding not in ('latin1', 'latin-1') or not isinstance(text, str):
        raise pickle.UnpicklingError(
            f'refused _codecs.encode with encoding {encoding!r}')
    return text.encode('latin1')


class RestrictedUnpickler(pickle.Unpickler):
    """Unpickler whose ``find_class`` allows only :data:`ALLOWED_GLOBALS`."""

    def find_class(self, module: str, name: str) -> Any:
        """Return an allowed global; refuse all others.

        Args:
            module (str): Module named by the pickle.
            name (str): Attribute of ``module`` named by the pickle.

        Returns:
            Any: The allowed type.
        """
        if (module, name) == ('_codecs', 'encode'):
            return _latin1_encode
        if (module, name) in ALLOWED_GLOBALS:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(
            f'refused global {module}.{name}: only plain containers and '
            'scalars are allowed in an annotation pickle')


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
