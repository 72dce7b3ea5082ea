# AdamW with per-part learning rates: the pretrained towers (CLIP image and
# text, SAM image encoder) learn 10x slower than the new modules (CCR, GPG,
# adapters, SAM's prompt encoder and decoder); no weight decay on norms and
# biases; gradients clipped at 1.0. The schedules (schedules/) set how the
# learning rate changes and for how long.
optimizer = dict(type='AdamW', lr=1e-4, betas=(0.9, 0.999), weight_decay=0.01)
# A plain OptimWrapper, so that MMSegmentation's own `tools/train.py --amp`
# accepts it; the non-finite loss guard is a hook (default_runtime.py).
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=optimizer,
    clip_grad=dict(max_norm=1.0, norm_type=2),
    paramwise_cfg=dict(
        norm_decay_mult=0.0,
        bias_decay_mult=0.0,
        custom_keys={
            'image_encoder.visual': dict(lr_mult=0.1),
            'text_encoder': dict(lr_mult=0.1),
            'decode_head.image_encoder': dict(lr_mult=0.1),
        }))
