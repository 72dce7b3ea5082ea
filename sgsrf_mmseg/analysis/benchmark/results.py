"""Small arithmetic on result records: empty records, means, ratios."""
from typing import Dict, Optional, Sequence


def empty(fields: Sequence[str]) -> Dict[str, None]:
    """A result record with every field set to None."""
    return {name: None for name in fields}


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
