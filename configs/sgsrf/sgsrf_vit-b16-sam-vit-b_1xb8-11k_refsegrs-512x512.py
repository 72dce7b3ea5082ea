# SGSRF (CLIP ViT-B/16 + SAM ViT-B, 512x512) on RefSegRS.
# One GPU, batch 8, ~40 epochs of the 2,172 training references
# (11k iterations); validation every 1k iterations, the best checkpoint is
# chosen on val mIoU. Train with --amp for bf16 mixed precision.
#   python tools/train.py configs/sgsrf/sgsrf_vit-b16-sam-vit-b_1xb8-11k_refsegrs-512x512.py --amp
_base_ = [
    '../_base_/models/sgsrf_vit-b16_sam-vit-b_pretrained.py',
    '../_base_/datasets/refsegrs.py', '../_base_/default_runtime.py',
    '../_base_/schedules/schedule_11k.py'
]
