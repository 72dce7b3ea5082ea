# SGSRF (CLIP ViT-B/16 + SAM ViT-B, 512x512) on RefSegRS.
# One GPU, batch 8, ~40 epochs of the 2,172 training references
# (11k iterations); validation every 1k iterations, the best checkpoint is
# chosen on val mIoU. Train with --amp for bf16 mixed precision.
#   python tools/train.py configs/sgsrf/sgsrf_refsegrs.py --amp
_base_ = [
    '../_base_/models/sgsrf_vit-b16_sam-vit-b_pretrained.py',
    '../_base_/datasets/refsegrs.py', '../_base_/default_runtime.py',
    '../_base_/schedules/schedule_40k.py'
]
max_iters = 11000
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-3, by_epoch=False, begin=0,
         end=500),
    dict(type='PolyLR', eta_min=0.0, power=0.9, begin=500, end=max_iters,
         by_epoch=False),
]
train_cfg = dict(max_iters=max_iters, val_interval=1000)
default_hooks = dict(checkpoint=dict(interval=1000))
