"""The results of a benchmark run as typed records, and their JSON.

``tools/analysis/benchmark.py --out`` writes :meth:`BenchmarkResults.
to_dict` as JSON; the results renderer reads it back with
:meth:`BenchmarkResults.from_dict`, files of earlier versions too (a field
they lack is None, a field this version does not know is left out). Times
are milliseconds, memory MiB (see ``meters.MemoryMeter``), FLOPs per batch
with a multiply-add counted as 2. A field is None where it was not measured
(``--skip``, an error, a part the config lacks); ``error`` is ``'out of
memory'`` where a measurement ran out of memory.
"""
from dataclasses import asdict, dataclass, field, fields
from typing import Any, Dict, List, Optional, Sequence, Type, TypeVar

R = TypeVar('R')
#: Fields a results file must have (older files have at least these).
REQUIRED_FIELDS = ('config', 'device', 'device_name', 'dtype', 'batch_size',
                   'input_size', 'params', 'train', 'infer', 'flops')


@dataclass
class TrainStep:
    """The training step: forward (``mode='loss'``) + ``parse_losses`` +
    backward + AdamW step, mean over ``iters`` after ``warmup``; its three
    parts on the device clock; ``tflops_per_s`` from 3 x the counted
    forward FLOPs, ``tflops_per_s_counted`` from the counted forward and
    backward FLOPs."""
    step_ms: Optional[float] = None
    step_ms_min: Optional[float] = None
    images_per_s: Optional[float] = None
    forward_ms: Optional[float] = None
    backward_ms: Optional[float] = None
    optimizer_ms: Optional[float] = None
    peak_mib: Optional[float] = None
    peak_delta_mib: Optional[float] = None
    tflops_per_s: Optional[float] = None
    tflops_per_s_counted: Optional[float] = None
    error: Optional[str] = None


@dataclass
class Inference:
    """``mode='predict'`` under ``no_grad``: per batch and per image."""
    ms_per_batch: Optional[float] = None
    ms_per_image: Optional[float] = None
    images_per_s: Optional[float] = None
    peak_mib: Optional[float] = None
    peak_delta_mib: Optional[float] = None
    tflops_per_s: Optional[float] = None
    error: Optional[str] = None


@dataclass
class FlopCounts:
    """FLOPs of one training forward, its backward as counted (frozen parts
    make it less than 2 x forward), 3 x the forward (the usual estimate of
    a step), one inference forward, and the training forward of each of
    the model's children and grandchildren that ran."""
    forward_train: Optional[int] = None
    backward_train: Optional[int] = None
    train_step_3x: Optional[int] = None
    forward_infer: Optional[int] = None
    forward_train_by_module: Optional[Dict[str, int]] = None
    error: Optional[str] = None


@dataclass
class StageTime:
    """One stage of a forward pass and its share of the forward time."""
    ms: Optional[float] = None
    share: Optional[float] = None


@dataclass
class StageTimes:
    """Stage -> time, for training and inference (None: not measured).
    Stages, where the model has them: ``clip_image``, ``clip_text``,
    ``ccr``, ``gpg``, ``sam_encoder``, ``sam_prompt_decoder``, then
    ``losses`` (train) or ``postprocess`` (infer), the time after the last
    stage returns, and ``other``, the rest (``meters.StageProbe``)."""
    train: Optional[Dict[str, StageTime]] = None
    infer: Optional[Dict[str, StageTime]] = None


@dataclass
class TowerTime:
    """A library tower alone: forward (eval, no grad) and forward +
    backward (of the output's mean), with the peak of the latter."""
    forward_ms: Optional[float] = None
    forward_backward_ms: Optional[float] = None
    peak_mib: Optional[float] = None
    error: Optional[str] = None


@dataclass
class FloorTotal:
    """The towers together (None unless every built tower was measured)."""
    forward_ms: Optional[float] = None
    forward_backward_ms: Optional[float] = None


@dataclass
class Floor:
    """The model's towers as their libraries write them, and how the model
    compares: training step / towers' forward+backward, prediction /
    towers' forward."""
    clip_image: Optional[TowerTime] = None
    clip_text: Optional[TowerTime] = None
    sam_image_encoder: Optional[TowerTime] = None
    total: FloorTotal = field(default_factory=FloorTotal)
    train_step_over_floor: Optional[float] = None
    predict_over_floor: Optional[float] = None


@dataclass
class SwitchRun:
    """The training step of a fresh model with ``changes`` (dotted
    ``module.argument`` -> value); ``speedup`` = baseline ms / this ms."""
    changes: Dict[str, Any] = field(default_factory=dict)
    step_ms: Optional[float] = None
    images_per_s: Optional[float] = None
    peak_mib: Optional[float] = None
    peak_delta_mib: Optional[float] = None
    speedup: Optional[float] = None
    error: Optional[str] = None


@dataclass
class ParamCounts:
    """Parameters: all, trainable, and per top-level module."""
    total: int
    trainable: int
    by_module: Dict[str, int] = field(default_factory=dict)


@dataclass
class BenchmarkResults:
    """One benchmark run of a config.

    ``config`` is the path as given, ``device`` 'cpu' or 'cuda', ``dtype``
    'fp32' or 'bf16' (forward passes under ``torch.autocast``),
    ``input_size`` square px; ``texts`` are the batch's expressions,
    ``notes`` say what each measure is, ``command`` is the command line
    (older files lack it). ``infer``, ``flops``, ``floor`` are None when
    skipped, ``compare`` without ``--compare`` (else ``baseline`` first).
    """
    config: str
    device: str
    device_name: str
    dtype: str
    batch_size: int
    input_size: int
    params: ParamCounts
    train: TrainStep
    torch: Optional[str] = None
    threads: Optional[int] = None
    warmup: Optional[int] = None
    iters: Optional[int] = None
    texts: List[str] = field(default_factory=list)
    infer: Optional[Inference] = None
    flops: Optional[FlopCounts] = None
    stages: StageTimes = field(default_factory=StageTimes)
    floor: Optional[Floor] = None
    compare: Optional[Dict[str, SwitchRun]] = None
    command: Optional[str] = None
    notes: Dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict:
        """The record as JSON-ready nested dicts."""
        return asdict(self)

    @classmethod
    def from_dict(cls,
                  data: dict,
                  source: str = 'benchmark results') -> 'BenchmarkResults':
        """Read a record written by this or an earlier version.

        Args:
            data (dict): The JSON object.
            source (str): Its file, for errors.

        Returns:
            BenchmarkResults: The record.
        """
        require_fields(data, REQUIRED_FIELDS, source,
                       'a benchmark results file')
        stages = data.get('stages') or {}
        return cls(
            **_known(cls, data),
            params=record_from_dict(ParamCounts, data['params']),
            train=record_from_dict(TrainStep, data['train']),
            infer=record_from_dict(Inference, data['infer']),
            flops=record_from_dict(FlopCounts, data['flops']),
            stages=StageTimes(
                **{
                    phase: _records(StageTime, stages.get(phase))
                    for phase in ('train', 'infer')
                }),
            floor=_floor(data.get('floor')),
            compare=_records(SwitchRun, data.get('compare')))


def _known(cls: type, data: dict) -> dict:
    """The plain (not nested) fields of ``cls`` that ``data`` has."""
    nested = {
        'params', 'train', 'infer', 'flops', 'stages', 'floor', 'compare'
    }
    names = {f.name for f in fields(cls)} - nested
    return {k: v for k, v in data.items() if k in names}


def require_fields(data: dict, required: Sequence[str], source: str,
                   kind: str) -> None:
    """Raise ValueError naming ``source`` if ``data`` lacks a field."""
    missing = [name for name in required if name not in data]
    if missing:
        raise ValueError(f'{source} is not {kind}: it has no {missing}')


def record_from_dict(cls: Type[R], data: Optional[dict]) -> Optional[R]:
    """A record from its dict (None stays None; unknown keys are left)."""
    if data is None:
        return None
    names = {f.name for f in fields(cls)}
    return cls(**{k: v for k, v in data.items() if k in names})


def _records(cls: Type[R],
             data: Optional[Dict[str, dict]]) -> Optional[Dict[str, R]]:
    """A name -> record mapping from its dict."""
    if data is None:
        return None
    return {name: record_from_dict(cls, entry) for name, entry in data.items()}


def _floor(data: Optional[dict]) -> Optional[Floor]:
    if data is None:
        return None
    return Floor(
        **{
            part: record_from_dict(TowerTime, data.get(part))
            for part in ('clip_image', 'clip_text', 'sam_image_encoder')
        },
        total=record_from_dict(FloorTotal,
                               data.get('total') or {}),
        train_step_over_floor=data.get('train_step_over_floor'),
        predict_over_floor=data.get('predict_over_floor'))


def mean(values: Sequence[float]) -> float:
    """Arithmetic mean."""
    return sum(values) / len(values)


def ratio(num: Optional[float], den: Optional[float]) -> Optional[float]:
    """``num / den`` rounded to 3 decimals, or None."""
    if num is None or not den:
        return None
    return round(num / den, 3)


def tflops(flop: Optional[int], ms: Optional[float]) -> Optional[float]:
    """TFLOP/s of ``flop`` FLOPs in ``ms`` milliseconds, or None."""
    if flop is None or not ms:
        return None
    return round(flop / ms / 1e9, 4)
