"""Paths and command lines written so that a reader can type them.

A path inside the repository is written relative to it; a path inside the
folder that the ``WORK`` environment variable names is written as
``$WORK/...``; any other path is left as it is, and :func:`absolute_paths`
finds what is left (the results renderer refuses to print it).
"""
import os
import os.path as osp
import re
import shlex
from dataclasses import dataclass, field
from typing import List, Optional, Sequence, Union

#: The repository: the folder that holds the ``sgsrf_mmseg`` package.
REPOSITORY = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
WORK_VARIABLE = 'WORK'
#: An absolute path in text: a slash at the start or after a space, a quote,
#: a backtick, a parenthesis or '=' (not after ':' as in a URL), then a name.
ABSOLUTE_PATH = re.compile(r'''(?:^|(?<=[\s`'"(=]))/[\w.~$-][^\s`'")]*''',
                           re.MULTILINE)


def _work_from_environment() -> Optional[str]:
    return os.environ.get(WORK_VARIABLE) or None


def _inside(path: str, folder: str) -> bool:
    """Whether the normalised absolute ``path`` is ``folder`` or below it."""
    return osp.commonpath([path, folder]) == folder


def _quote(argument: str) -> str:
    """Shell quoting that leaves ``$WORK`` to the shell."""
    prefix = '$' + WORK_VARIABLE
    if argument == prefix or argument.startswith(prefix + '/'):
        rest = argument[len(prefix):]
        return prefix + (
            rest if shlex.quote(rest) == rest else shlex.quote(rest))
    return shlex.quote(argument)


@dataclass(frozen=True)
class PortablePaths:
    """Writes paths relative to the repository, or to ``$WORK``.

    Args:
        root (str): The repository. Defaults to the one of this package.
        work (str, optional): The folder ``$WORK`` stands for. Defaults to
            the ``WORK`` environment variable (None when unset).
    """
    root: str = REPOSITORY
    work: Optional[str] = field(default_factory=_work_from_environment)

    def path(self, path: str) -> str:
        """``path`` relative to the repository, as ``$WORK/...``, or as it
        is (a relative path, or an absolute one outside both)."""
        if not osp.isabs(path):
            return path
        path = osp.normpath(path)
        for folder, prefix in ((self.root, ''), (self.work,
                                                 '$' + WORK_VARIABLE)):
            if not folder:
                continue
            folder = osp.normpath(osp.abspath(folder))
            if _inside(path, folder):
                relative = osp.relpath(path, folder)
                if not prefix:
                    return relative
                return prefix if relative == '.' else f'{prefix}/{relative}'
        return path

    def argument(self, argument: str) -> str:
        """One command-line argument, its path made portable (also after
        ``=``, as in ``--out=PATH`` or ``key=PATH``), quoted for a POSIX
        shell (``$WORK`` left to the shell)."""
        key, sep, value = argument.partition('=')
        if sep and osp.isabs(value):
            return shlex.quote(key + sep) + _quote(self.path(value))
        return _quote(self.path(argument))

    def command(self, command: Union[str, Sequence[str]]) -> str:
        """A command line (a string or its arguments) with every path
        argument made portable (see :meth:`argument`)."""
        args = shlex.split(command) if isinstance(command, str) else command
        return ' '.join(self.argument(a) for a in args)

    def refuse_absolute(self, text: str, what: str) -> str:
        """``text``, or a ``ValueError`` naming its first absolute path.

        Args:
            text (str): Text for a reader (a rendered block).
            what (str): What the text is, for the message.

        Returns:
            str: ``text`` unchanged.
        """
        found = absolute_paths(text)
        if found:
            raise ValueError(
                f'{what} would print the absolute path {found[0]}, which is '
                f'neither in the repository ({self.root}) nor in $WORK '
                f'({self.work or "unset"}): set {WORK_VARIABLE} to a folder '
                f'that holds it (it is then written $WORK/...)')
        return text


def absolute_paths(text: str) -> List[str]:
    """The absolute paths in ``text`` (see :data:`ABSOLUTE_PATH`)."""
    return ABSOLUTE_PATH.findall(text)
