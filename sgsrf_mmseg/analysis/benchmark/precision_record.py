"""The results of a precision benchmark run as typed records, and their JSON.

``tools/analysis/benchmark.py --precisions ... --out FILE`` writes
:meth:`PrecisionResults.to_dict` as JSON; ``tools/analysis/render_results.py
precision FILE`` reads it back with :meth:`PrecisionResults.from_dict`.
Times are milliseconds (the GeoTIFF scene: seconds); a field is None where
it was not measured.
"""
from dataclasses import asdict, dataclass, field, fields
from typing import Dict, List, Optional

from .record import record_from_dict, require_fields

#: Fields a precision results file must have.
REQUIRED_FIELDS = ('config', 'device', 'input_size', 'precisions', 'predict')


@dataclass
class PredictTime:
    """``mode='predict'`` of the model in one precision at one batch size,
    per image; ``over_floor`` = this / the fp32 towers' forward per image
    at the same batch size, measured in the same run."""
    precision: str
    batch_size: int
    ms_per_image: Optional[float] = None
    over_floor: Optional[float] = None
    error: Optional[str] = None


@dataclass
class FloorForward:
    """The library towers alone (open_clip ``CLIP`` image and text,
    segment-anything ``ImageEncoderViT``), fp32 forward, per image."""
    batch_size: int
    ms_per_image: Optional[float] = None


@dataclass
class Agreement:
    """One precision against fp32 on the same weights and images:
    the largest probability difference, the cosine of the mask logits
    (flattened over the batch) and the mean over images of the IoU of the
    thresholded masks (1.0 where both are empty)."""
    precision: str
    max_abs_prob_diff: Optional[float] = None
    logit_cosine: Optional[float] = None
    mask_iou: Optional[float] = None


@dataclass
class SceneTime:
    """``segment_geotiff`` of the generated scene in one precision with
    ``batch_size`` tiles per pass: seconds, tiles, and ``speedup`` = the
    fp32 batch-1 run's seconds / these."""
    precision: str
    batch_size: int
    seconds: Optional[float] = None
    tiles: Optional[int] = None
    speedup: Optional[float] = None


@dataclass
class PrecisionResults:
    """One precision benchmark run of a config (random weights).

    ``precisions`` in the order measured (fp32 first), ``scene_size`` the
    side of the generated GeoTIFF scene (None: not measured), ``tile_size``
    its tiles' side; ``notes`` say what each measure is.
    """
    config: str
    device: str
    device_name: str
    input_size: int
    precisions: List[str]
    predict: List[PredictTime]
    floor: List[FloorForward] = field(default_factory=list)
    agreement: List[Agreement] = field(default_factory=list)
    scene: List[SceneTime] = field(default_factory=list)
    scene_size: Optional[int] = None
    tile_size: Optional[int] = None
    texts: List[str] = field(default_factory=list)
    torch: Optional[str] = None
    threads: Optional[int] = None
    warmup: Optional[int] = None
    iters: Optional[int] = None
    command: Optional[str] = None
    notes: Dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict:
        """The record as JSON-ready nested dicts."""
        return asdict(self)

    @classmethod
    def from_dict(cls,
                  data: dict,
                  source: str = 'precision results') -> 'PrecisionResults':
        """Read a record written by :meth:`to_dict`.

        Args:
            data (dict): The JSON object.
            source (str): Its file, for errors.

        Returns:
            PrecisionResults: The record.
        """
        require_fields(data, REQUIRED_FIELDS, source,
                       'a precision benchmark results file')
        nested = dict(
            predict=PredictTime,
            floor=FloorForward,
            agreement=Agreement,
            scene=SceneTime)
        plain = {
            k: v
            for k, v in data.items()
            if k in {f.name
                     for f in fields(cls)} and k not in nested
        }
        return cls(
            **plain, **{
                name: [
                    record_from_dict(kind, entry)
                    for entry in data.get(name) or []
                ]
                for name, kind in nested.items()
            })
