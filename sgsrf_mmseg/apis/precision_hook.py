"""Test a checkpoint in another precision (``tools/test.py --precision``)."""
from mmengine.hooks import Hook

from .precision import apply_precision, check_precision


class PrecisionHook(Hook):
    """Switch the loaded model to ``precision`` before the test loop runs.

    ``before_test`` comes after the runner has loaded the checkpoint, so
    int8 quantizes the trained weights (see
    :mod:`sgsrf_mmseg.apis.precision`). The precision is checked against the
    device when the hook is made, before the runner builds anything.

    Args:
        precision (str): ``'fp32'``, ``'bf16'`` or ``'int8'``.
        device (str): The device the runner puts the model on.
    """
    priority = 'VERY_HIGH'

    def __init__(self, precision: str, device: str) -> None:
        check_precision(precision, device)
        self.precision = precision
        self.device = device

    def before_test(self, runner) -> None:
        """Apply the precision to the (unwrapped) model."""
        model = getattr(runner.model, 'module', runner.model)
        apply_precision(model, self.precision, self.device)
