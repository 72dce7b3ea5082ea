"""Replace every expression, for text ablations."""
from typing import Optional

from mmcv.transforms import BaseTransform
from mmseg.registry import TRANSFORMS

from ...utils.dependency_parse import DependencyParse


@TRANSFORMS.register_module()
class ReplaceExpression(BaseTransform):
    """Set ``results['text']`` to a fixed string (default: empty).

    With it in the training and test pipelines the model sees no language:
    the baseline that tells how much of a score comes from grounding the
    expression rather than from segmenting salient objects. A sample's
    dependency parse (``text_parse``) is replaced too, by ``text_parse``
    (the empty parse for the empty string).

    Args:
        text (str): The expression every sample gets. Defaults to ''.
        text_parse (dict, optional): The parse of ``text`` in its
            parse-file form (``words``, ``spaces``, ``heads``, ``deps``).
            Defaults to None (the empty parse when ``text`` is '', else no
            parse).
    """

    def __init__(self,
                 text: str = '',
                 text_parse: Optional[dict] = None) -> None:
        self.text = text
        if text_parse is not None:
            text_parse = DependencyParse.from_dict(
                text_parse, text, source='ReplaceExpression(text_parse=)')
        elif text == '':
            text_parse = DependencyParse()
        self.text_parse = text_parse

    def transform(self, results: dict) -> dict:
        results['text'] = self.text
        if 'text_parse' in results:
            results['text_parse'] = self.text_parse
        return results

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}(text={self.text!r})'
