"""Read a JSON file the way every reader of the project does.

UTF-8 with or without a byte-order mark (editors on Windows write one); a
file that is not UTF-8 or not JSON is a ``ValueError`` that names the file
and the place of the first error, never a bare ``JSONDecodeError``.
"""
import json
from typing import Any


def read_json(path: str, what: str = 'JSON file') -> Any:
    """The content of a JSON file.

    Args:
        path (str): The file.
        what (str): What the file is to the user, for the message, e.g.
            ``'annotation file'``. Defaults to 'JSON file'.

    Returns:
        Any: The decoded content.

    Raises:
        ValueError: The file is not UTF-8 text or not JSON.
        OSError: It cannot be opened (the message names it).
    """
    try:
        with open(path, encoding='utf-8-sig') as f:
            return json.load(f)
    except json.JSONDecodeError as err:
        raise ValueError(
            f'{what} {path} is not valid JSON: {err.msg} at line '
            f'{err.lineno}, column {err.colno}; fix or replace the file'
        ) from None
    except UnicodeDecodeError as err:
        raise ValueError(f'{what} {path} is not UTF-8 text ({err.reason} at '
                         f'byte {err.start}); save it as UTF-8') from None
