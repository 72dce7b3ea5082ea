"""CLIP checkpoints in the official formats, made from random weights."""
import torch
import torch.nn as nn
from safetensors.torch import save_file

EMBED_DIM = 32
VISION_CFG = dict(
    image_size=64, patch_size=8, width=64, layers=2, head_width=32)
TEXT_CFG = dict(
    context_length=16, vocab_size=49408, width=32, heads=2, layers=2)
OPENAI_EXTRAS = dict(
    input_resolution=torch.tensor(64),
    context_length=torch.tensor(16),
    vocab_size=torch.tensor(49408))


class TensorTree(nn.Module):
    """Holds tensors under dotted names, as buffers of nested modules."""

    def __init__(self, tensors):
        super().__init__()
        children = {}
        for key, value in tensors.items():
            head, _, rest = key.partition('.')
            if rest:
                children.setdefault(head, {})[rest] = value
            else:
                self.register_buffer(head, value)
        for name, subtree in children.items():
            self.add_module(name, TensorTree(subtree))

    def forward(self) -> int:
        return 0


def save_checkpoint(state_dict, path, fmt):
    """Write ``state_dict`` as ``bin``, ``safetensors`` or ``torchscript``.

    The TorchScript file mimics OpenAI's: fp16 floats plus the integer
    entries ``input_resolution``, ``context_length`` and ``vocab_size``.
    Returns the tensors a loader should recover (fp16 ones for TorchScript).
    """
    state_dict = {k: v.detach().clone() for k, v in state_dict.items()}
    if fmt == 'bin':
        torch.save(state_dict, path)
    elif fmt == 'safetensors':
        save_file(state_dict, path)
    else:
        state_dict = {
            k: v.half() if v.is_floating_point() else v
            for k, v in state_dict.items()
        }
        archive = TensorTree({**state_dict, **OPENAI_EXTRAS})
        torch.jit.save(torch.jit.script(archive), path)
    return state_dict


FORMATS = {
    'bin': 'open_clip_pytorch_model.bin',
    'safetensors': 'open_clip_model.safetensors',
    'torchscript': 'ViT-tiny.pt'
}
