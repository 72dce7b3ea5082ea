# 40k iterations: linear warm-up over 1000 iterations, then poly decay to 0;
# validation and a checkpoint every 2000 iterations (loops and hooks:
# iter_based.py; the optimizer: ../optimizers/).
_base_ = './iter_based.py'
max_iters = 40000
warmup_iters = 1000
val_interval = 2000
param_scheduler = [
    dict(
        type='LinearLR',
        start_factor=1e-3,
        by_epoch=False,
        begin=0,
        end=warmup_iters),
    dict(
        type='PolyLR',
        eta_min=0.0,
        power=0.9,
        begin=warmup_iters,
        end=max_iters,
        by_epoch=False),
]
train_cfg = dict(
    type='IterBasedTrainLoop', max_iters=max_iters, val_interval=val_interval)
default_hooks = dict(checkpoint=dict(interval=val_interval))
