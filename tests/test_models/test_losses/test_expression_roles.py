"""Roles of the words, read from dependency trees."""
from structure_cases import PARSES, tree

from sgsrf_mmseg.models.losses.expression_roles import (expression_roles,
                                                        token_roles)
from sgsrf_mmseg.utils.dependency_parse import DependencyParse


def words(parse, indices):
    return [parse.words[i] for i in indices]


def described(text):
    parse = PARSES[text] if text in PARSES else None
    roles = expression_roles(parse)
    return (words(parse, roles.head), words(parse, roles.position),
            [([words(parse, m) for m in r.landmarks], r.direction, r.between)
             for r in roles.relations])


def test_head_position_and_relations_of_the_synthetic_grammar():
    assert described('the red car') == (['red', 'car'], [], [])
    assert described('all white tanks') == (['white', 'tanks'], [], [])
    assert described('the red car at the top left') == (['red', 'car'],
                                                        ['top', 'left'], [])
    assert described('the car left of the white building') == (['car'], [], [
        ([['white', 'building']], (1.0, 0.0), False)
    ])
    assert described('the car above the building')[2] == [([['building']],
                                                           (0.0, 1.0), False)]
    assert described('the car below the building')[2] == [([['building']],
                                                           (0.0, -1.0), False)]
    assert described(
        'the car between the white building and the blue pond') == ([
            'car'
        ], [], [([['white', 'building'], ['blue', 'pond']], None, True)])
    # role reversal: the same words, the other noun is the head
    assert described('the white building next to the red car') == ([
        'white', 'building'
    ], [], [([['red', 'car']], None, False)])


def test_spacy_style_phrasings():
    # "to the left of": the direction word is the object of "to"
    parse = tree('the tank to the left of the pond', [1, 1, 1, 4, 2, 4, 7, 5],
                 ['det', 'ROOT', 'prep', 'det', 'pobj', 'prep', 'det', 'pobj'])
    roles = expression_roles(parse)
    assert words(parse, roles.head) == ['tank']
    assert [words(parse, m)
            for m in roles.relations[0].landmarks] == [['pond']]
    assert roles.relations[0].direction == (1.0, 0.0)
    # a place in the image, not an object: position words, no landmark
    parse = tree('the car at the top of the image', [1, 1, 1, 4, 2, 4, 7, 5],
                 ['det', 'ROOT', 'prep', 'det', 'pobj', 'prep', 'det', 'pobj'])
    roles = expression_roles(parse)
    assert words(parse, roles.position) == ['top', 'image']
    assert roles.relations == ()
    # a landmark's own phrase belongs to the landmark, not to the target
    parse = tree('the car near the tank on the right',
                 [1, 1, 1, 4, 2, 4, 7, 5],
                 ['det', 'ROOT', 'prep', 'det', 'pobj', 'prep', 'det', 'pobj'])
    roles = expression_roles(parse)
    assert roles.position == ()
    assert [words(parse, m)
            for m in roles.relations[0].landmarks] == [['tank']]
    assert roles.relations[0].direction is None


def test_no_roles_without_a_tree():
    assert expression_roles(DependencyParse()).head == ()
    roles = token_roles(DependencyParse(), 0)
    assert (roles.head, roles.describe, roles.relations) == ((), (), ())


def test_token_positions_follow_the_bpe_tokens_and_the_cut():
    parse = PARSES['the car left of the white building']
    roles = token_roles(parse, len(parse.words))
    # SOT at 0, one token per word
    assert roles.head == (2, ) and roles.landmark_tokens == (6, 7)
    # the tower cut the text after "left of the": the landmark is gone
    cut = token_roles(parse, 5)
    assert cut.head == (2, ) and cut.relations == ()
    storage = tree('the white storage tank', [3, 3, 3, 3],
                   ['det', 'amod', 'compound', 'ROOT'])
    assert token_roles(storage, 4).head == (2, 3, 4)
