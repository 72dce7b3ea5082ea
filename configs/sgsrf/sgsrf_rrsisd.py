# SGSRF (CLIP ViT-B/16 + SAM ViT-B, 512x512) on RRSIS-D.
# One GPU, batch 8, ~40 epochs of the 12,181 training references
# (60k iterations); validation every 2k iterations on val (1,740), the best
# checkpoint is chosen on val mIoU; report test (3,481).
#   python tools/train.py configs/sgsrf/sgsrf_rrsisd.py --amp
_base_ = [
    '../_base_/models/sgsrf_vit-b16_sam-vit-b_pretrained.py',
    '../_base_/datasets/rrsisd.py', '../_base_/default_runtime.py',
    '../_base_/schedules/schedule_40k.py'
]
max_iters = 60000
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-3, by_epoch=False, begin=0,
         end=1000),
    dict(type='PolyLR', eta_min=0.0, power=0.9, begin=1000, end=max_iters,
         by_epoch=False),
]
train_cfg = dict(max_iters=max_iters, val_interval=2000)
