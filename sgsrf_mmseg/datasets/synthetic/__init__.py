"""Procedural remote-sensing-like scenes with referring expressions.

The embedded default dataset: anyone can run the whole pipeline without
downloading a benchmark. Scenes are seen from above: textured ground with
fields, roads, and 3-7 objects of four kinds (vehicles, buildings, storage
tanks, ponds), each with a colour, a size and a position. Each scene has
1-3 referents (disjoint target sets), as the real benchmarks do, each with
one or two expressions. An expression is built from a query over these
attributes (relations to landmarks with a direction, between two
landmarks, role-reversal pairs with the same words and another head noun)
and kept only when the query, evaluated on the scene, selects exactly its
targets.

* :mod:`.vocabulary`: kinds, their names and colours, held-out pairs;
* :mod:`.relations`: spatial relations with safety margins;
* :mod:`.queries`: the query model and its resolution on a scene;
* :mod:`.candidates`: every unambiguous query of a scene;
* :mod:`.phrasing`: queries written as expressions with gold parse trees;
* :mod:`.renderer`: drawing a scene and its label map;
* :mod:`.composition`: where a scene's objects go (its plan);
* :mod:`.referents`: a scene's referents, expressions and test tags;
* :mod:`.scene`: one scene with its referents;
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
