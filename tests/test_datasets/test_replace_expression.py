from mmseg.registry import TRANSFORMS

import sgsrf_mmseg  # noqa: F401,I001

PARSE = dict(
    words=['the', 'red', 'car'],
    spaces=[True, True, False],
    heads=[2, 2, 2],
    deps=['det', 'amod', 'ROOT'])


def test_replaces_the_text_and_its_parse():
    empty = TRANSFORMS.build(dict(type='ReplaceExpression'))
    out = empty(dict(text='the red car', text_parse=PARSE))
    assert out['text'] == ''
    assert out['text_parse'].words == ()
    assert empty(dict(text='the red car')) == dict(text='')
    other = TRANSFORMS.build(dict(type='ReplaceExpression', text='a car'))
    assert other(dict(text='the red car', text_parse=PARSE)) == dict(
        text='a car', text_parse=None)
