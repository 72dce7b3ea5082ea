# SGSRF (CLIP ViT-B/16 + SAM ViT-B, 512x512) on RRSIS-D.
# One GPU, batch 8, ~40 epochs of the 12,181 training references
# (60k iterations); validation every 2k iterations on val (1,740), the best
# checkpoint is chosen on val mIoU; report test (3,481).
#   python tools/train.py \
#       configs/sgsrf/sgsrf_vit-b16-sam-vit-b_1xb8-60k_rrsisd-512x512.py --amp
_base_ = [
    '../_base_/models/sgsrf_vit-b16_sam-vit-b_pretrained.py',
    '../_base_/datasets/rrsisd.py', '../_base_/default_runtime.py',
    '../_base_/optimizers/adamw_sgsrf.py',
    '../_base_/schedules/schedule_60k.py'
]

# Scoring protocol of the reported numbers: 'lavt-480', the protocol of
# LAVT's and RMSIN's published numbers, so that ours compare with theirs
# (masks scored at 480 x 480, Prec@X counts IoU >= X, an empty prediction on
# an empty target scores 0). protocol='original' scores at the image's own
# size.
val_evaluator = dict(type='ReferringSegMetric', protocol='lavt-480')
test_evaluator = val_evaluator
