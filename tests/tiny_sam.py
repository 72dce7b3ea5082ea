"""The tiny SAM of the tests: SAM's classes at 64 px with small widths."""

#: SAM architecture settings without the image size.
TINY_SAM_ARCH = dict(
    patch_size=8,
    embed_dim=32,
    depth=2,
    num_heads=2,
    window_size=4,
    global_attn_indexes=(1, ),
    prompt_embed_dim=32,
    decoder_mlp_dim=64,
    iou_head_hidden_dim=32)
#: The same at 64 px, as a head's ``sam`` config takes it.
TINY_SAM = dict(img_size=64, **TINY_SAM_ARCH)
