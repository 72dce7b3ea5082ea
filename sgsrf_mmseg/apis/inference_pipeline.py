"""The test pipeline of a config, made to take decoded images."""
import copy
from typing import List

from mmengine.config import Config

from ..models.input_geometry import model_input_size

_PACK_TYPES = ('PackReferringInputs', 'PackSegInputs')


def _type_name(step: dict) -> str:
    """Name of a transform config's type (a str or a class)."""
    kind = step['type']
    return kind if isinstance(kind, str) else kind.__name__


def inference_pipeline(cfg: Config) -> List[dict]:
    """The config's test pipeline, made to take decoded images.

    Loading steps (``Load*``: image, mask, annotations) and packing are
    dropped, the remaining steps kept; when none of them resizes, a
    ``Resize`` to ``model.data_preprocessor.size`` (aspect ratio not kept)
    is added; ``PackReferringInputs`` comes last.

    Args:
        cfg (Config): A full config with ``model`` and ``test_pipeline``
            (or ``test_dataloader.dataset.pipeline``).

    Returns:
        list[dict]: Transform configs.
    """
    pipeline = cfg.get('test_pipeline')
    if pipeline is None:
        pipeline = cfg.get('test_dataloader', {}).get('dataset',
                                                      {}).get('pipeline', [])
    steps = [
        copy.deepcopy(step) for step in pipeline
        if not _type_name(step).startswith('Load')
        and _type_name(step) not in _PACK_TYPES
    ]
    if not any('Resize' in _type_name(step) for step in steps):
        height, width = model_input_size(cfg.model)
        steps.insert(
            0, dict(type='Resize', scale=(width, height), keep_ratio=False))
    return steps + [dict(type='PackReferringInputs')]
