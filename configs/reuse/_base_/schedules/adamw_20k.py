# 20k iterations of AdamW for the SAM-head configs: mmseg's 20k schedule
# (loops, hooks, checkpoint and validation every 2k iterations) with AdamW,
# gradient clipping, a linear warm-up over 500 iterations, then poly decay.
_base_ = 'mmseg::_base_/schedules/schedule_20k.py'
optim_wrapper = dict(
    _delete_=True,
    type='OptimWrapper',
    optimizer=dict(
        type='AdamW', lr=1e-4, betas=(0.9, 0.999), weight_decay=0.01),
    clip_grad=dict(max_norm=1.0, norm_type=2),
    paramwise_cfg=dict(norm_decay_mult=0.0, bias_decay_mult=0.0))
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-3, by_epoch=False, begin=0, end=500),
    dict(
        type='PolyLR',
        eta_min=0.0,
        power=0.9,
        begin=500,
        end=20000,
        by_epoch=False)
]
