import socket

import open_clip
import pytest
import spacy
import torch

from sgsrf_mmseg.models.clip import tokenizer as clip_tokenizer
from sgsrf_mmseg.models.clip.tokenizer import align_words, tokenize

OPEN_CLIP = open_clip.get_tokenizer('ViT-B-16')
NLP = spacy.blank('en')


def spacy_words(text):
    doc = NLP.make_doc(text)
    return [t.text for t in doc], [bool(t.whitespace_) for t in doc]


def token_strings(text):
    """Each BPE token of ``text`` as its characters (end-of-word dropped)."""
    tokenizer = clip_tokenizer.bpe_tokenizer()
    return [tokenizer.decode([i]).strip() for i in tokenizer.encode(text)]


@pytest.fixture
def no_network(monkeypatch):
    """Any socket use fails the test."""

    def refuse(*args, **kwargs):
        raise AssertionError('network access')

    monkeypatch.setattr(socket, 'socket', refuse)
    monkeypatch.setattr(socket, 'create_connection', refuse)


def test_tokenize_matches_open_clip_offline(no_network):
    clip_tokenizer.bpe_tokenizer.cache_clear()  # read the vocabulary again
    texts = ['the white storage tank at the bottom right', 'a ship', '']
    tokens, lengths = tokenize(texts, 77)
    assert torch.equal(tokens, OPEN_CLIP(texts))
    assert lengths.tolist() == [len(OPEN_CLIP.encode(t)) + 2 for t in texts]


def test_tokenize_length_ignores_spelled_out_eot():
    tokens, lengths = tokenize(['a <end_of_text> b'], 16)
    assert (tokens[0] == OPEN_CLIP.eot_token_id).sum() == 2
    assert lengths.tolist() == [5]


def test_tokenize_warns_once_naming_the_cut_texts(monkeypatch):
    messages = []
    monkeypatch.setattr(clip_tokenizer, 'print_log',
                        lambda msg, **kwargs: messages.append(msg))
    long_text = ' '.join(['tank'] * 30)
    exact = ' '.join(['tank'] * 14)  # 14 + SOT + EOT = 16: not cut
    tokens, lengths = tokenize([long_text, exact, 'a ship', long_text], 16)
    assert lengths.tolist() == [16, 16, 4, 16]
    assert tokens[0, -1] == OPEN_CLIP.eot_token_id
    assert torch.equal(
        tokens,
        OPEN_CLIP([long_text, exact, 'a ship', long_text], context_length=16))
    assert len(messages) == 1
    assert messages[0].count(repr(long_text)) == 2
    assert repr(exact) not in messages[0]


def test_tokenize_rejects_a_single_string_and_short_context():
    with pytest.raises(TypeError, match='not a str'):
        tokenize('a ship', 77)
    with pytest.raises(ValueError, match='at least 2'):
        tokenize(['a ship'], 1)


@pytest.mark.parametrize(
    'text,expected',
    [
        # one token per word
        ('the red car at the top left', [('the', 'the'), ('red', 'red'),
                                         ('car', 'car'), ('at', 'at'),
                                         ('the', 'the'), ('top', 'top'),
                                         ('left', 'left')]),
        # spaCy: do + n't, CLIP: don + 't
        ("don't park", [('don', 'do'), ("'t", "n't"), ('park', 'park')]),
        # punctuation and a hyphen split by both
        ('the car, left-most!', [('the', 'the'), ('car', 'car'), (',', ','),
                                 ('left', 'left'), ('-', '-'),
                                 ('most', 'most'), ('!', '!')]),
        # CLIP's "'re" takes the quote of one word and "re" of the next
        ('the ‘red’ car', [('the', 'the'), ("'re", 'red'), ('d', 'red'),
                           ("'", '’'), ('car', 'car')]),
        # non-ASCII: several byte-level tokens for one word
        ('Ünïcode café', [('ü', 'Ünïcode'), ('n', 'Ünïcode'), ('ï', 'Ünïcode'),
                          ('code', 'Ünïcode'), ('café', 'café')]),
        # ftfy turns the ligature into two letters
        ('the ﬁeld', [('the', 'the'), ('field', 'ﬁeld')]),
        # a clean-up across words: spaCy splits the HTML entity
        ('a &amp; b', [('a', 'a'), ('&', '&'), ('b', 'b')]),
        ('cafÃ© roof', [('café', 'cafÃ'), ('roof', 'roof')]),
    ])
def test_align_words_with_spacy_words(text, expected):
    words, spaces = spacy_words(text)
    aligned = align_words(words, spaces)
    assert list(zip(token_strings(text),
                    [words[i] for i in aligned])) == expected


def test_align_words_keeps_white_space_words():
    words, spaces = ['a', '  ', 'red', 'car'], [False, False, True, False]
    assert align_words(words, spaces) == [0, 2, 3]


def test_align_words_is_truncation_consistent():
    text = ' '.join(['the white storage tank'] * 12)
    words, spaces = spacy_words(text)
    full = align_words(words, spaces)
    assert len(full) == len(OPEN_CLIP.encode(text)) == 48
    tokens, lengths = tokenize([text], 20)
    aligned = align_words(words, spaces, context_length=20)
    assert len(aligned) == int(lengths[0]) - 2 == 18
    assert aligned == full[:18]
    kept = tokens[0, 1:19].tolist()
    assert kept == OPEN_CLIP.encode(text)[:18]
    # storage -> word 2 of each repetition
    assert [words[i]
            for i in aligned[:4]] == ['the', 'white', 'storage', 'tank']


def test_align_words_rejects_mismatched_input(monkeypatch):
    with pytest.raises(ValueError, match='differ in length'):
        align_words(['a', 'car'], [True])
    tokenizer = clip_tokenizer.bpe_tokenizer()
    monkeypatch.setattr(tokenizer, 'encode', lambda text: [1, 2, 3])
    with pytest.raises(ValueError, match='differ from the tokenizer output'):
        align_words(['a', 'car'], [True, False])
