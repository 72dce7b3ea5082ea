"""The stage panels of a forward pass: :func:`trace_stages`.

One call runs the segmentor's own test step (``model.test_step``) on a
batch under a :class:`~.stage_recorder.StageRecorder` and turns what the
stages computed into one :class:`~sgsrf_mmseg.visualization.StagePanels`
per sample: every map is a tensor of that pass, nothing is recomputed.
"""
from typing import List, Optional, Sequence, Tuple, Union

import numpy as np
import torch
import torch.nn as nn

from ..models.clip.tokenizer import align_words, bpe_tokenizer
from ..models.losses.expression_roles import FUNCTION_DEPS, expression_roles
from ..utils.dependency_parse import DependencyParse
from ..visualization.stage_panels import (AdapterModulation, StagePanels,
                                          WordAttention)
from .stage_recorder import StageRecord, StageRecorder

ParseLike = Union[DependencyParse, dict, None]
#: ``parse_source`` of a parse read from a data sample (``text_parse``).
DATASET_PARSE = "the dataset's parse"
NO_PARSE = 'no parse given'


def _numpy(tensor: torch.Tensor) -> np.ndarray:
    return tensor.detach().float().cpu().numpy()


def read_tokens(text: str, parse: Optional[DependencyParse],
                num_read: int) -> Tuple[tuple, tuple, tuple, tuple]:
    """How the text tower read ``text``, aligned to words.

    Args:
        text (str): The expression.
        parse (DependencyParse, optional): Its parse; without one the words
            are the expression split at white space.
        num_read (int): BPE tokens the tower read (SOT and EOT excluded).

    Returns:
        tuple: ``words``, ``tokens`` (read), ``token_words`` (read) and
        ``cut_tokens``, as in :class:`StagePanels`.
    """
    tokenizer = bpe_tokenizer()
    ids = tokenizer.encode(text)
    if parse is not None:
        if tokenizer.encode(parse.text) != ids:
            raise ValueError(f'the parse spells {parse.text!r}, not the '
                             f'expression {text!r}')
        words, spaces = parse.words, parse.spaces
    else:
        words = tuple(text.split())
        spaces = tuple(i < len(words) - 1 for i in range(len(words)))
    owners = align_words(words, spaces) if words else []
    names = [tokenizer.decode([i]).strip() for i in ids]
    return (tuple(words), tuple(names[:num_read]), tuple(owners[:num_read]),
            tuple(names[num_read:]))


def _content(parse: Optional[DependencyParse], num_words: int) -> List[bool]:
    """Which words get attention panels: content words, all without parse."""
    if parse is None:
        return [True] * num_words
    return [dep not in FUNCTION_DEPS for dep in parse.deps]


def word_roles(parse: Optional[DependencyParse]) -> Tuple[str, ...]:
    """The structural loss's role of each word: 'head', 'position',
    'landmark' or '' (see :mod:`~sgsrf_mmseg.models.losses.
    expression_roles`); empty without a parse."""
    if parse is None:
        return ()
    roles = expression_roles(parse)
    named = {
        i: 'landmark'
        for r in roles.relations
        for phrase in r.landmarks
        for i in phrase
    }
    named.update({i: 'position' for i in roles.position})
    named.update({i: 'head' for i in roles.head})
    return tuple(named.get(i, '') for i in range(len(parse.words)))


def _notes(panels: StagePanels, model: nn.Module) -> Tuple[str, ...]:
    """What a reader must know about these panels."""
    notes = []
    if panels.parse is None:
        notes.append(f'no dependency parse ({panels.parse_source}): the '
                     "words are the expression's, split at spaces, each "
                     'with its attention; no tree')
    if len(panels.words) == 1:
        notes.append('one word: there is no word-word structure')
    if panels.cut_tokens:
        read = set(panels.token_words)
        cut_words = [
            word for index, word in enumerate(panels.words)
            if index not in read
        ]
        notes.append(f'cut at the text context: the tower read '
                     f'{len(panels.tokens)} of '
                     f'{len(panels.tokens) + len(panels.cut_tokens)} tokens; '
                     f'not read: {" ".join(panels.cut_tokens)}' +
                     (f' (words {", ".join(cut_words)})' if cut_words else ''))
    if panels.num_blocks == 0:
        notes.append('CCR has no blocks (num_blocks=0): no patch<-word '
                     'attention')
    if getattr(model, 'prompt_generator', None) is None:
        notes.append('no GPG (prompt_generator=None): SAM gets no prompt '
                     'from the grounding')
    if not panels.modulation:
        notes.append('no grounding adapters in SAM '
                     '(use_grounding_adapters=False)')
    return tuple(notes)


def _prompts(record: StageRecord, b: int) -> dict:
    """GPG's prompts of sample ``b`` as :class:`StagePanels` fields."""
    prompts = record.prompts
    if prompts is None:
        return {}
    fields = dict(
        prompt_kinds=tuple(kind
                           for kind, value in (('queries', prompts.queries),
                                               ('points', prompts.points),
                                               ('box', prompts.boxes),
                                               ('dense', prompts.dense))
                           if value is not None))
    if prompts.points is not None:
        fields['points'] = _numpy(prompts.points[0][b])
        fields['point_labels'] = _numpy(prompts.points[1][b])
    if prompts.boxes is not None:
        fields['box'] = _numpy(prompts.boxes[b])
    if prompts.dense is not None:
        fields['dense_magnitude'] = _numpy(
            prompts.dense[b].float().norm(dim=0))
    return fields


def _sample_panels(model: nn.Module, record: StageRecord, output, b: int,
                   parse: Optional[DependencyParse],
                   parse_source: str) -> StagePanels:
    """The panels of sample ``b`` of a recorded batch."""
    text = output.metainfo['text']
    grounding = record.grounding
    h, w = grounding.cue_logits.shape[-2:]
    num_read = int((~record.text.pad_mask[b]).sum()) - 2
    words, tokens, token_words, cut = read_tokens(text, parse, num_read)
    content = _content(parse, len(words))
    attention = []
    for index, word in enumerate(words):
        positions = tuple(k + 1 for k, owner in enumerate(token_words)
                          if owner == index)
        if not content[index] or not positions:
            continue
        maps = tuple(
            _numpy(attn[b][:, list(positions)].sum(-1).reshape(h, w))
            for attn in grounding.patch_word_attn)
        attention.append(WordAttention(index, word, positions, maps))
    probability = _numpy(output.seg_logits.data[0])
    mask = (output.pred_sem_seg.data[0] > 0).cpu().numpy().astype(np.uint8)
    image = record.image[b].permute(1, 2, 0).clamp(0, 255).round()
    panels = StagePanels(
        text=text,
        image=image.to(torch.uint8).cpu().numpy(),
        words=words,
        parse=parse,
        parse_source=parse_source,
        tokens=tokens,
        token_words=token_words,
        cut_tokens=cut,
        attention=tuple(attention),
        num_blocks=len(grounding.patch_word_attn),
        word_roles=word_roles(parse),
        cue=_numpy(grounding.cue_logits[b, 0].sigmoid()),
        probability=probability,
        mask=mask,
        score=float(probability[mask > 0].mean()) if mask.any() else 0.0,
        modulation=tuple(
            AdapterModulation(
                a.block, _numpy(a.change[b]),
                float(a.change[b].mean() / a.token_norm[b].clamp(min=1e-12)))
            for a in record.adapters),
        **_prompts(record, b))
    panels.notes = _notes(panels, model)
    return panels


def trace_stages(model: nn.Module,
                 data: dict,
                 parses: Optional[Sequence[ParseLike]] = None,
                 parse_source: str = NO_PARSE) -> List[StagePanels]:
    """Run one test step and return the stage panels of every sample.

    Args:
        model (nn.Module): An ``SGSRFSegmentor`` in eval mode.
        data (dict): A batch as the data loader gives it (``inputs``,
            ``data_samples`` with ``text`` in their metainfo), or as
            :meth:`ReferringSegInferencer.pack` makes it.
        parses (Sequence, optional): One dependency parse (or None) per
            sample, used where the sample carries no ``text_parse``.
            Defaults to None.
        parse_source (str): Who made ``parses`` (or why there are none),
            shown in the panels. Defaults to 'no parse given'.

    Returns:
        list[StagePanels]: One per sample, in order.
    """
    return trace_stages_and_outputs(model, data, parses, parse_source)[0]


def trace_stages_and_outputs(
        model: nn.Module,
        data: dict,
        parses: Optional[Sequence[ParseLike]] = None,
        parse_source: str = NO_PARSE) -> Tuple[List[StagePanels], list]:
    """:func:`trace_stages`, and the data samples the test step returned
    (predictions, ``pred_cue_logits``, metainfo after preprocessing)."""
    samples = data['data_samples']
    parses = list(parses) if parses is not None else [None] * len(samples)
    if len(parses) != len(samples):
        raise ValueError(f'{len(parses)} parses for {len(samples)} samples')
    with torch.no_grad(), StageRecorder(model) as recorder:
        outputs = model.test_step(data)
    panels = []
    for b, output in enumerate(outputs):
        given, source = output.metainfo.get('text_parse'), DATASET_PARSE
        if given is None:
            given, source = parses[b], parse_source
        parse = None if given is None else DependencyParse.from_dict(
            given, text=output.metainfo['text'])
        panels.append(
            _sample_panels(model, recorder.record, output, b, parse, source))
    return panels, outputs
