"""Procedural remote-sensing-like scenes with referring expressions.

The embedded default dataset: anyone can run the whole pipeline without
downloading a benchmark. Scenes are seen from above: textured ground with
fields, roads, and 3-7 objects of four kinds (vehicles, buildings, storage
tanks, ponds), each with a colour, a size and a position. An expression is
built from a query over these attributes and kept only when the query,
evaluated on the scene, selects exactly the target objects.

* :mod:`.vocabulary`: kinds, their names and colours, held-out pairs;
* :mod:`.queries`: the query model and its resolution on a scene;
* :mod:`.phrasing`: queries written as expressions with gold parse trees;
* :mod:`.renderer`: drawing a scene and its label map;
* :mod:`.scene`: one scene with its target and expressions;
* :mod:`.params`: the generator parameters;
* :mod:`.layout`: the files of a dataset (RefSegRS layout);
* :mod:`.marker`: the generator's marker file and what it may overwrite;
* :mod:`.writer`: writing a dataset into a folder;
* :mod:`.dataset`: :class:`SyntheticRefSegRSDataset`.
"""
from .dataset import SyntheticRefSegRSDataset
from .marker import ForeignDataError
from .params import GENERATOR_VERSION, GeneratorParams
from .writer import ensure_synthetic_dataset, generate_synthetic_dataset

__all__ = [
    'SyntheticRefSegRSDataset', 'GeneratorParams', 'GENERATOR_VERSION',
    'ForeignDataError', 'generate_synthetic_dataset',
    'ensure_synthetic_dataset'
]
