"""Replace every expression, for text ablations."""
from mmcv.transforms import BaseTransform
from mmseg.registry import TRANSFORMS


@TRANSFORMS.register_module()
class ReplaceExpression(BaseTransform):
    """Set ``results['text']`` to a fixed string (default: empty).

    With it in the training and test pipelines the model sees no language:
    the baseline that tells how much of a score comes from grounding the
    expression rather than from segmenting salient objects. The parse of
    the replaced expression (``text_parse``) is removed with it.

    Args:
        text (str): The expression every sample gets. Defaults to ''.
    """

    def __init__(self, text: str = '') -> None:
        self.text = text

    def transform(self, results: dict) -> dict:
        results['text'] = self.text
        results.pop('text_parse', None)
        return results

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}(text={self.text!r})'
