"""CLIP text tower returning word features and the sentence embedding."""
from typing import List, Optional

import torch
import torch.nn as nn
from mmengine.model import BaseModule
from mmseg.registry import MODELS
from mmseg.utils import OptConfigType

from ..clip.builder import build_clip, resolve_clip_config
from ..clip.tokenizer import bpe_tokenizer, tokenize
from ..clip.weights import load_clip_text
from ..utils.frozen_stages import FrozenStagesMixin, GradGate
from ..utils.stage_outputs import TextFeatures

_UNSUPPORTED_TEXT_FIELDS = ('hf_model_name', 'hf_tokenizer_name',
                            'tokenizer_mode', 'tokenizer_kwargs', 'embed_cls')


@MODELS.register_module()
class CLIPTextEncoderTower(FrozenStagesMixin, BaseModule):
    """The text tower of an ``open_clip`` CLIP model.

    Holds open_clip's text parts under their own names
    (``token_embedding``, ``positional_embedding``, ``transformer``,
    ``ln_final``, ``text_projection`` and the non-persistent causal
    ``attn_mask`` buffer), so the text entries of an official checkpoint
    load strictly. Texts are tokenized by open_clip's tokenizer with its
    bundled BPE vocabulary (:mod:`sgsrf_mmseg.models.clip.tokenizer`, no
    network): ``SOT + tokens + EOT``, zero-padded. Longer texts are cut to
    ``context_length`` tokens with EOT kept last, and a warning names them;
    an empty or blank text encodes as ``SOT + EOT``.

    Args:
        model_name (str, optional): An open_clip config name, e.g.
            ``'ViT-B-16'`` (``'ViT-B-16-quickgelu'`` for OpenAI's weights).
            Defaults to 'ViT-B-16'.
        text_cfg (dict, optional): ``open_clip.CLIPTextCfg`` fields; they
            override the named config, or define the tower when
            ``model_name`` is None. Its ``vocab_size`` must cover the BPE
            vocabulary (49408). Defaults to None.
        embed_dim (int, optional): Size of the sentence embedding; required
            without ``model_name``. Defaults to None.
        context_length (int, optional): Number of token positions; None
            takes the config's (77 for official models). A smaller value
            keeps the first rows of a checkpoint's position embedding.
            Defaults to None.
        frozen_stages (int): -1 trains everything; k >= 0 freezes the token
            and position embeddings and the first k blocks; k >= depth
            freezes the whole tower (see :class:`FrozenStagesMixin`).
            Defaults to -1.
        pretrained (str, optional): A CLIP checkpoint loaded strictly in
            ``init_weights`` (``logit_scale`` / ``logit_bias`` ignored).
            Defaults to None.
        quick_gelu (bool, optional): QuickGELU activations; None takes the
            named config's value. Defaults to None.
        trim_padding (bool): Run and return only the first L positions,
            L being the longest tokenized text of the batch. With the causal
            mask this gives the same features as the full context, faster.
            Defaults to True.
        init_cfg (dict, optional): mmengine init config; not allowed
            together with ``pretrained``. Defaults to None.
    """

    def __init__(self,
                 model_name: Optional[str] = 'ViT-B-16',
                 text_cfg: Optional[dict] = None,
                 embed_dim: Optional[int] = None,
                 context_length: Optional[int] = None,
                 frozen_stages: int = -1,
                 pretrained: Optional[str] = None,
                 quick_gelu: Optional[bool] = None,
                 trim_padding: bool = True,
                 init_cfg: OptConfigType = None):
        if pretrained is not None and init_cfg is not None:
            raise ValueError('pretrained and init_cfg cannot both be set')
        super().__init__(init_cfg=init_cfg)
        cfg = resolve_clip_config(model_name, 'text_cfg', text_cfg, embed_dim,
                                  quick_gelu)
        text_cfg = cfg['tower_cfg']
        for field in _UNSUPPORTED_TEXT_FIELDS:
            if text_cfg.get(field):
                raise ValueError(f'text_cfg.{field} is not supported: only '
                                 "open_clip's BPE-tokenized text tower is")
        if context_length is not None:
            text_cfg['context_length'] = context_length
        tokenizer = bpe_tokenizer()
        if text_cfg.get('vocab_size', 49408) < tokenizer.vocab_size:
            raise ValueError(f"text_cfg.vocab_size={text_cfg['vocab_size']} "
                             'is smaller than the BPE vocabulary '
                             f'({tokenizer.vocab_size})')

        clip = build_clip(
            cfg['embed_dim'], cfg['quick_gelu'], text_cfg=text_cfg)
        self.token_embedding = clip.token_embedding
        self.positional_embedding = clip.positional_embedding
        self.transformer = clip.transformer
        self.ln_final = clip.ln_final
        self.text_projection = clip.text_projection
        self.register_buffer('attn_mask', clip.attn_mask, persistent=False)

        self.context_length = clip.context_length
        if self.context_length < 2:
            raise ValueError('context_length must be at least 2 (SOT, EOT)')
        self.width = self.transformer.width
        self.embed_dim = cfg['embed_dim']
        self.num_layers = len(self.transformer.resblocks)
        self.frozen_stages = frozen_stages
        self.pretrained = pretrained
        self.trim_padding = trim_padding and self.attn_mask is not None
        self.freeze_stages()

    def stages(self) -> List[list]:
        """Token and position embeddings, then one stage per block."""
        return [[self.token_embedding, self.positional_embedding]
                ] + [[b] for b in self.transformer.resblocks]

    def tail(self) -> List[nn.Module]:
        """The final norm and the sentence projection."""
        return [
            p for p in (self.ln_final, self.text_projection) if p is not None
        ]

    def whole_tower(self) -> list:
        """Every module and loose parameter of the tower."""
        loose = [
            p for p in (self.positional_embedding, self.text_projection)
            if isinstance(p, nn.Parameter)
        ]
        return list(self.children()) + loose

    def init_weights(self) -> None:
        """Run mmengine's init, then load ``pretrained`` strictly."""
        super().init_weights()
        if self.pretrained is not None:
            load_clip_text(self, self.pretrained)

    def forward(self, texts: List[str]) -> TextFeatures:
        """Encode a batch of texts.

        Args:
            texts (list[str]): The expressions (B of them).

        Returns:
            TextFeatures: ``words`` ``(B, L, width)`` after ``ln_final``
            (L is ``context_length``, or the longest text of the batch with
            ``trim_padding``), ``pad_mask`` and ``sentence`` ``(B,
            embed_dim)``, the EOT feature times ``text_projection`` (not
            L2-normalised).
        """
        if isinstance(texts, str):
            raise TypeError('texts must be a list of strings, not a str')
        tokens, lengths = tokenize(list(texts), self.context_length)
        device = self.token_embedding.weight.device
        tokens, lengths = tokens.to(device), lengths.to(device)
        if self.trim_padding:
            tokens = tokens[:, :int(lengths.max())]
        num_tokens = tokens.shape[1]
        attn_mask = None if self.attn_mask is None else (
            self.attn_mask[:num_tokens, :num_tokens])

        stages = self.stages()
        gate = GradGate()
        with gate.stage(*stages[0]):
            x = self.token_embedding(tokens)
            x = x + self.positional_embedding[:num_tokens].to(x.dtype)
        for block, in stages[1:]:
            with gate.stage(block):
                x = block(x, attn_mask=attn_mask)
        with gate.stage(*self.tail()):
            x = self.ln_final(x)
            eot = x[torch.arange(x.shape[0], device=x.device), lengths - 1]
            if self.text_projection is None:
                sentence = eot
            elif isinstance(self.text_projection, nn.Linear):
                sentence = self.text_projection(eot)
            else:
                sentence = eot @ self.text_projection

        positions = torch.arange(num_tokens, device=tokens.device)
        pad_mask = positions[None] >= lengths[:, None]
        return TextFeatures(words=x, pad_mask=pad_mask, sentence=sentence)
