"""Imports inside ``sgsrf_mmseg`` run one way, from the top layer down."""
import ast
from pathlib import Path

import pytest

import sgsrf_mmseg

PACKAGE = Path(sgsrf_mmseg.__file__).parent
#: Layer of each subpackage: a module may import its own subpackage and
#: the subpackages of lower layers, never a higher or a sibling one.
LAYERS = {
    'utils': 0,
    'datasets': 1,
    'models': 1,
    'evaluation': 1,
    'visualization': 1,
    'engine': 2,
    'apis': 3,
    'analysis': 4,
    'webapp': 4,
}
#: Layers inside ``models``, the same rule one level down: shared blocks,
#: then the CLIP and SAM builders, then what reads model configs, then the
#: registered modules, then the segmentors that assemble them.
MODEL_LAYERS = {
    'utils': 0,
    'clip': 1,
    'sam': 1,
    'input_geometry': 2,
    'backbones': 3,
    'necks': 3,
    'decode_heads': 3,
    'losses': 3,
    'segmentors': 4,
}


def imported_modules(path: Path):
    """Absolute names of the ``sgsrf_mmseg`` modules a file imports."""
    package = path.relative_to(PACKAGE.parent).parts[:-1]
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[:len(package) - node.level + 1]
                names = [
                    '.'.join(base + ((node.module, ) if node.module else ()))
                ]
            else:
                names = [node.module or '']
        else:
            continue
        for name in names:
            if name.split('.')[0] == 'sgsrf_mmseg':
                yield node.lineno, name


def layer_violations(path: Path):
    """``(line, module)`` pairs of a file that import against the layers."""
    own = path.relative_to(PACKAGE).parts
    if len(own) < 2:
        return []  # the package's __init__ and version import everything
    own_layer = LAYERS[own[0]]
    bad = []
    for line, name in imported_modules(path):
        target = name.split('.')
        if len(target) < 2 or target[1] == own[0]:
            continue
        layer = LAYERS.get(target[1])
        if layer is None or layer >= own_layer:
            bad.append((line, name))
    return bad


def model_layer_violations(path: Path):
    """``(line, module)`` pairs of a ``models`` file that import against the
    layers inside ``models``."""
    own = path.relative_to(PACKAGE / 'models').parts
    if own == ('__init__.py', ):
        return []  # registers every module
    own_part = own[0].removesuffix('.py')
    own_layer = MODEL_LAYERS[own_part]
    bad = []
    for line, name in imported_modules(path):
        target = name.split('.')
        if target[1:2] != ['models'] or len(target) < 3:
            continue
        if target[2] == own_part:
            continue
        layer = MODEL_LAYERS.get(target[2])
        if layer is None or layer >= own_layer:
            bad.append((line, name))
    return bad


def test_every_subpackage_has_a_layer():
    subpackages = {
        p.name
        for p in PACKAGE.iterdir() if (p / '__init__.py').is_file()
    }
    assert subpackages <= set(LAYERS), subpackages - set(LAYERS)


@pytest.mark.parametrize(
    'path',
    sorted(PACKAGE.rglob('*.py')),
    ids=lambda p: str(p.relative_to(PACKAGE)))
def test_imports_run_downward(path):
    assert layer_violations(path) == []


def test_every_part_of_models_has_a_layer():
    parts = {
        p.name.removesuffix('.py')
        for p in (PACKAGE / 'models').iterdir()
        if p.suffix == '.py' or (p / '__init__.py').is_file()
    } - {'__init__'}
    assert parts == set(MODEL_LAYERS)


@pytest.mark.parametrize(
    'path',
    sorted((PACKAGE / 'models').rglob('*.py')),
    ids=lambda p: str(p.relative_to(PACKAGE)))
def test_model_imports_run_downward(path):
    assert model_layer_violations(path) == []


def test_an_upward_import_inside_models_is_found(monkeypatch):
    module = PACKAGE / 'models' / 'utils' / 'upward_probe.py'
    monkeypatch.setattr(
        Path, 'read_text', lambda self: 'from ..clip.builder import x\n'
        'from ..input_geometry import y\n'
        'from .frozen_stages import z\n')
    assert model_layer_violations(module) == [
        (1, 'sgsrf_mmseg.models.clip.builder'),
        (2, 'sgsrf_mmseg.models.input_geometry')
    ]


def test_an_upward_import_is_found(tmp_path, monkeypatch):
    module = PACKAGE / 'datasets' / 'upward_probe.py'
    monkeypatch.setattr(
        Path, 'read_text', lambda self: 'from ..apis import x\n'
        'import sgsrf_mmseg.models.y\n'
        'from ..utils import z\n')
    assert layer_violations(module) == [(1, 'sgsrf_mmseg.apis'),
                                        (2, 'sgsrf_mmseg.models.y')]
