"""Write the JSON reports of the analysis tools."""
import json
import os
import os.path as osp


def write_json(path: str, data: dict) -> None:
    """Write ``data`` as indented JSON, atomically.

    The file is written beside ``path`` and renamed over it, so a reader
    never sees half a file and an interrupted write leaves the old one.

    Args:
        path (str): Destination; its folder is created.
        data (dict): JSON-serialisable content.
    """
    os.makedirs(osp.dirname(osp.abspath(path)), exist_ok=True)
    partial = f'{path}.partial'
    with open(partial, 'w', encoding='utf-8') as f:
        json.dump(data, f, indent=2)
        f.write('\n')
    os.replace(partial, path)
