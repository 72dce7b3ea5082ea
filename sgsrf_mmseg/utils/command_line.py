"""What every command-line tool shares: ``--debug``, the error line, exits.

The rules of every tool under ``tools/`` (each calls
:func:`add_debug_option` on its parser and runs its ``main`` through
:func:`run_tool`):

* A refusal ends the output with one line on stderr, ``error: <what is
  wrong, naming the file or the field>; <the way out>``, never a traceback.
* Exit status 2 for a usage mistake: what argparse refuses (an unknown or
  missing option, an option value out of its range, see :func:`int_range`
  and :func:`float_range`) and a :class:`UsageError` (an output that is one
  of the inputs, an output that exists without ``--overwrite``); 1 for a
  refused input (a file, a config or a checkpoint that cannot be used) or a
  run that failed; 130 when interrupted (Ctrl+C).
* ``--debug`` prints the traceback above the error line, to find where an
  error came from.
"""
import argparse
import math
import sys
import traceback
from typing import Callable, NoReturn, Optional, Tuple

from .atomic_file import OutputExistsError

#: Exit status of a usage mistake (as argparse's own) and of a refusal.
USAGE_EXIT, REFUSED_EXIT, INTERRUPTED_EXIT = 2, 1, 130
DEBUG_OPTION = '--debug'
#: Error types that carry a message meant for the user; anything else is
#: reported as an unexpected error.
_REFUSALS = (ValueError, TypeError, LookupError, OSError, ImportError,
             FloatingPointError)


class UsageError(ValueError):
    """The command line asks for something the tool does not do (exit 2)."""


def add_debug_option(parser: argparse.ArgumentParser) -> None:
    """Give a tool's parser the ``--debug`` option.

    Args:
        parser (argparse.ArgumentParser): The tool's parser.
    """
    parser.add_argument(
        DEBUG_OPTION,
        action='store_true',
        help='on an error, print its traceback above the error line')


def error_line(err: BaseException) -> str:
    """The ``error:`` line of an exception (a KeyError without quotes).

    Args:
        err (BaseException): The error.

    Returns:
        str: ``'error: <message>'``; for an error type that carries no
        message for the user, its type and the hint to use ``--debug``.
    """
    if isinstance(err, KeyError) and len(err.args) == 1:
        message = str(err.args[0])
    else:
        message = str(err) or type(err).__name__
    if not isinstance(
            err,
            _REFUSALS) and not type(err).__module__.startswith('sgsrf_mmseg'):
        message = (f'{type(err).__name__}: {message} (an unexpected error; '
                   f'rerun with {DEBUG_OPTION} to see where it happened)')
    return f'error: {message}'


def exit_status(err: BaseException) -> int:
    """The exit status of a tool that stops on ``err`` (see the module)."""
    if isinstance(err, KeyboardInterrupt):
        return INTERRUPTED_EXIT
    if isinstance(err, (UsageError, OutputExistsError)):
        return USAGE_EXIT
    return REFUSED_EXIT


def run_tool(main: Callable[[], Optional[int]]) -> NoReturn:
    """Run a tool's ``main`` and exit with its status, by the module's rules.

    Args:
        main (Callable): Parses ``sys.argv`` and runs; returns the exit
            status (an int; anything else, such as the results a tool's
            ``main`` returns to its tests, counts as 0) or raises.
    """
    try:
        status = main()
    except SystemExit:
        raise  # argparse's usage errors (status 2) and explicit exits
    except (Exception, KeyboardInterrupt) as err:
        if DEBUG_OPTION in sys.argv[1:]:
            traceback.print_exc()
        sys.stdout.flush()
        print(error_line(err), file=sys.stderr, flush=True)
        sys.exit(exit_status(err))
    sys.exit(status if isinstance(status, int) else 0)


def int_range(low: int, high: Optional[int] = None) -> Callable[[str], int]:
    """An argparse ``type``: an integer in ``[low, high]``.

    Args:
        low (int): Smallest value allowed.
        high (int, optional): Largest value allowed; None for no bound.

    Returns:
        Callable[[str], int]: The converter; out of range is a usage error.
    """

    def convert(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f'expected an integer, got {text!r}') from None
        if value < low or (high is not None and value > high):
            bounds = f'>= {low}' if high is None else f'in [{low}, {high}]'
            raise argparse.ArgumentTypeError(f'must be {bounds}, got {value}')
        return value

    convert.__name__ = 'int'
    return convert


def float_range(low: float, high: float) -> Callable[[str], float]:
    """An argparse ``type``: a finite number in ``[low, high]``.

    Args:
        low (float): Smallest value allowed.
        high (float): Largest value allowed (``math.inf`` for no bound).

    Returns:
        Callable[[str], float]: The converter; out of range is a usage
        error.
    """

    def convert(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f'expected a number, got {text!r}') from None
        if not (math.isfinite(value) and low <= value <= high):
            raise argparse.ArgumentTypeError(
                f'must be in [{low}, {high}], got {text}')
        return value

    convert.__name__ = 'float'
    return convert


def file_and_name(value: str) -> Tuple[str, str]:
    """An argparse ``type``: ``FILE:NAME`` split at its last colon."""
    path, sep, name = value.rpartition(':')
    if not sep or not path or not name:
        raise argparse.ArgumentTypeError(f'expected FILE:NAME, got {value!r}')
    return path, name


def fail(message: str) -> NoReturn:
    """Stop a tool with ``message`` as its error line (exit 1).

    Args:
        message (str): What was refused and the way out.
    """
    print(f'error: {message}', file=sys.stderr, flush=True)
    sys.exit(REFUSED_EXIT)
