from .referring_dataset import PhraseFileDataset, ReferringSegDataset
from .refsegrs import RefSegRSDataset
from .risbench import RISBenchDataset
from .rrsisd import RRSISDDataset
from .synthetic import (SyntheticRefSegRSDataset, ensure_synthetic_dataset,
                        generate_synthetic_dataset)
from .transforms import (LoadLandmarkMap, LoadRasterImage, LoadReferringMask,
                         PackReferringInputs, ReplaceExpression,
                         TextAwareRandomFlip, swap_direction_words)

__all__ = [
    'ReferringSegDataset', 'PhraseFileDataset', 'RefSegRSDataset',
    'RRSISDDataset', 'RISBenchDataset', 'SyntheticRefSegRSDataset',
    'generate_synthetic_dataset', 'ensure_synthetic_dataset',
    'LoadLandmarkMap', 'LoadRasterImage', 'LoadReferringMask',
    'TextAwareRandomFlip', 'PackReferringInputs', 'ReplaceExpression',
    'swap_direction_words'
]
