"""The parameters of the synthetic dataset, defined once."""
import operator
from dataclasses import asdict, dataclass, field, fields
from typing import Dict, Optional

#: Version of what the generator writes; a folder written by another
#: version is generated again.
GENERATOR_VERSION = 6
#: The splits, in the order their images are numbered.
SPLITS = ('train', 'val', 'test')


@dataclass(frozen=True)
class GeneratorParams:
    """What the synthetic dataset is generated from.

    The same parameters (and generator version) give the same files. Each
    field's ``metadata['help']`` documents it; the command line
    (``tools/misc/generate_synthetic.py``) offers every field as an option.

    The split sizes count scenes: each scene is one image with 1-3
    referents, each written as its own id (see :mod:`.layout`), so a
    split has more ids (about 2.25 per scene) than scenes.

    Args:
        num_train (int): Train scenes. Defaults to 3000.
        num_val (int): Val scenes. Defaults to 300.
        num_test (int): Test scenes. Defaults to 300.
        image_size (int): Image side in pixels, at least 64. Defaults to
            128.
        seed (int): Random seed. Defaults to 0.
    """
    num_train: int = field(default=3000, metadata=dict(help='train scenes'))
    num_val: int = field(default=300, metadata=dict(help='val scenes'))
    num_test: int = field(default=300, metadata=dict(help='test scenes'))
    image_size: int = field(
        default=128, metadata=dict(help='image side in pixels, at least 64'))
    seed: int = field(default=0, metadata=dict(help='random seed'))

    def __post_init__(self) -> None:
        for param in fields(self):
            value = getattr(self, param.name)
            try:
                object.__setattr__(self, param.name, operator.index(value))
            except TypeError:
                raise ValueError(f'synthetic generator parameter '
                                 f'{param.name} must be an integer, got '
                                 f'{value!r}') from None
        for name, num in self.split_sizes.items():
            if num < 0:
                raise ValueError(f'synthetic generator parameter num_{name} '
                                 f'must be >= 0, got {num}')
        if self.image_size < 64:
            raise ValueError(f'synthetic generator parameter image_size must '
                             f'be >= 64, got {self.image_size}')

    @classmethod
    def from_dict(cls, values: Optional[dict]) -> 'GeneratorParams':
        """Parameters from a dict of some fields (the others default).

        Args:
            values (dict, optional): Field values, e.g. the ``generator``
                dict of a dataset config. None: all defaults.

        Returns:
            GeneratorParams: The parameters.
        """
        values = dict(values or {})
        known = [param.name for param in fields(cls)]
        unknown = sorted(set(values) - set(known))
        if unknown:
            raise ValueError(f'unknown synthetic generator parameter(s) '
                             f'{unknown}; known: {known}')
        return cls(**values)

    @property
    def split_sizes(self) -> Dict[str, int]:
        """Number of scenes of each split, in the order they are written."""
        return {split: getattr(self, f'num_{split}') for split in SPLITS}

    def to_dict(self) -> dict:
        """The fields as a plain dict."""
        return asdict(self)
