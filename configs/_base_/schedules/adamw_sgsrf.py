# AdamW with per-part learning rates, the loops and the hooks shared by every
# schedule (schedule_*.py adds the learning-rate schedule and its length).
# The pretrained towers (CLIP image/text, SAM image encoder) learn 10x slower
# than the new modules (CCR, GPG, adapters, SAM's prompt encoder and decoder).
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
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=50, log_metric_by_epoch=False),
    param_scheduler=dict(type='ParamSchedulerHook'),
    # Checkpoints are written atomically; the best one is chosen on the
    # validation split (never on test).
    checkpoint=dict(
        type='AtomicCheckpointHook',
        by_epoch=False,
        interval=2000,  # each schedule sets its own
        max_keep_ckpts=2,
        save_best='mIoU',
        rule='greater'),
    sampler_seed=dict(type='DistSamplerSeedHook'),
    visualization=dict(type='SegVisualizationHook'))
